-- For `bulwark user add`.  No row back means the email is taken.
-- $1 email, $2 password hash, $3 role
INSERT INTO users (email, password_hash, role)
VALUES ($1, $2, $3)
ON CONFLICT (email) DO NOTHING
RETURNING id::text
