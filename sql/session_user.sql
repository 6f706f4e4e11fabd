-- The user behind a live session: one indexed read.  After the user row,
-- one column says whether last_seen_at is over a minute old; only then does
-- the caller run session_touch, so the hot path writes nothing.
-- $1 session hash (bytea).  Returns the user row (user.cols), stale.
SELECT @user(u)@, s.last_seen_at < now() - interval '60 seconds'
  FROM sessions s JOIN users u ON u.id = s.user_id
 WHERE s.id_hash = $1 AND s.expires_at > now()
