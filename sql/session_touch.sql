-- Records activity at most once a minute per session.
-- $1 session hash (bytea)
UPDATE sessions SET last_seen_at = now()
 WHERE id_hash = $1 AND last_seen_at < now() - interval '60 seconds'
