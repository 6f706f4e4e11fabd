-- Clears a user's lockout and per-email login limit in one statement.
-- $1 user id.  No row back: no such user.
WITH u AS (
    SELECT email FROM users WHERE id = $1::uuid
), l AS (
    DELETE FROM lockouts WHERE email IN (SELECT email FROM u)
), r AS (
    DELETE FROM rate_limits
     WHERE key IN (SELECT 'login:email:' || email FROM u)
)
SELECT email FROM u
