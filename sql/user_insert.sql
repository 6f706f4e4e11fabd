-- For `bulwark user add`: an operator's user is verified.  No row back
-- means the email is taken.
-- $1 email, $2 password hash, $3 role
INSERT INTO users (email, password_hash, role, email_verified)
VALUES ($1, $2, $3, true)
ON CONFLICT (email) DO NOTHING
RETURNING id::text
