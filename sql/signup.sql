-- Creates the user and its first session in one statement.  No row back
-- means the email is taken.
-- $1 email (normalized), $2 password hash, $3 session hash (bytea),
-- $4 session lifetime in seconds, $5 ip, $6 user agent, $7 the hash of
-- the session cookie the request carried (bytea) or NULL: ended when the
-- user is made, like at login.
-- Returns the user row (user.cols).
WITH u AS (
    INSERT INTO users (email, password_hash)
    VALUES ($1, $2)
    ON CONFLICT (email) DO NOTHING
    RETURNING *
), s AS (
    INSERT INTO sessions (id_hash, user_id, expires_at, ip, user_agent)
    SELECT $3, u.id, now() + $4::int * interval '1 second', $5, $6 FROM u
), old AS (
    DELETE FROM sessions WHERE id_hash = $7 AND EXISTS (SELECT 1 FROM u)
)
SELECT @user@
  FROM u
