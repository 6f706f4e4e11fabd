-- result: binary
-- GET /me's session lookup: what session_user.sql returns, for a route that
-- needs only the user object and the user's id (routes/table.c, R_OBJECT).
-- One text column (the object rendered when the row was written, schema/
-- 007) instead of six, and binary results, so PostgreSQL formats no uuid
-- and no timestamp as text: together about a fifth of the statement's
-- instructions (docs/PERFORMANCE.md).
-- $1 session hash (bytea).  Returns object (text), user id (uuid, 16
-- bytes), stale (boolean: last_seen_at over a minute old).
SELECT s.user_object, s.user_id,
       s.last_seen_at < now() - interval '60 seconds' AS stale
  FROM sessions s
 WHERE s.id_hash = $1 AND s.expires_at > now()
