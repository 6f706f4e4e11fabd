-- The user behind a live session, in one round trip.  last_seen_at is
-- written at most once a minute per session so that reads stay reads.
-- $1 session hash (bytea)
WITH s AS (
    SELECT id_hash, user_id, last_seen_at
      FROM sessions
     WHERE id_hash = $1 AND expires_at > now()
), touch AS (
    UPDATE sessions SET last_seen_at = now()
      FROM s
     WHERE sessions.id_hash = s.id_hash
       AND s.last_seen_at < now() - interval '60 seconds'
)
SELECT u.id::text, u.email, u.role, u.email_verified, u.two_factor_enabled,
       ts(u.created_at)
  FROM s JOIN users u ON u.id = s.user_id
