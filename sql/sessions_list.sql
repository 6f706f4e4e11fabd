-- GET /me/sessions: the user's live sessions, newest first.
-- $1 user id, $2 the caller's session hash (bytea) or NULL.
-- Returns handle, created_at, last_seen_at, ip, user agent, whether it is
-- the caller's.
SELECT handle::text, created_at, last_seen_at, ip, user_agent,
       (id_hash = $2) IS TRUE
  FROM sessions
 WHERE user_id = $1::uuid AND expires_at > now()
 ORDER BY created_at DESC, handle
 LIMIT 1000
