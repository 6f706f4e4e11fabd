-- result: binary
-- GET /me's session lookup: what session_user.sql returns, for a route that
-- needs only the user object (routes/table.c, R_OBJECT).  One text column
-- (the object rendered when the row was written, schema/007) instead of
-- six, and binary results, so PostgreSQL formats no timestamp as text.
-- Every column and every expression returned costs PostgreSQL instructions
-- at each execution (docs/PERFORMANCE.md), so: the user's id, which the
-- worker logs, is the object's first field (auth/session.c reads it there),
-- and last_seen_at comes as it is stored, the worker deciding whether it is
-- over a minute old (session_touch.sql checks again before it writes).
-- $1 session hash (bytea).  Returns object (text), last_seen_at
-- (timestamptz, binary: microseconds since 2000-01-01 UTC).
SELECT s.user_object, s.last_seen_at
  FROM sessions s
 WHERE s.id_hash = $1 AND s.expires_at > now()
