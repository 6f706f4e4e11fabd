-- result: binary
-- GET /me's session lookup: what session_user.sql returns, for a route that
-- needs only the user object (routes/table.c, R_OBJECT).  One text column
-- (the object rendered when the row was written, schema/007) instead of
-- six, and binary results, so PostgreSQL formats no timestamp as text.  The
-- user's id, which the worker logs, is the object's first field
-- (auth/session.c reads it there): every column returned costs PostgreSQL
-- about 2k instructions per execution (docs/PERFORMANCE.md).
-- $1 session hash (bytea).  Returns object (text), stale (boolean:
-- last_seen_at over a minute old).
SELECT s.user_object,
       s.last_seen_at < now() - interval '60 seconds' AS stale
  FROM sessions s
 WHERE s.id_hash = $1 AND s.expires_at > now()
