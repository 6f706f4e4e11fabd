-- Creates the user and its first session in one statement, with what a new
-- account starts with: the verification token's hash and its mail (which
-- holds only a nonce: the token is derived from it again at delivery), and
-- the signup address as one the user has signed in from.  No row back means
-- the email is taken.
-- $1 email (normalized), $2 password hash, $3 session hash (bytea),
-- $4 session lifetime in seconds, $5 ip, $6 user agent, $7 the hash of
-- the session cookie the request carried (bytea) or NULL: ended when the
-- user is made, like at login; $8 the verification token's hash (bytea),
-- $9 its mail's nonce (bytea), $10 its lifetime in seconds, $11 the
-- address key (ip_limit_key).
-- Returns the user row (user.cols).
WITH u AS (
    INSERT INTO users (email, password_hash)
    VALUES ($1, $2)
    ON CONFLICT (email) DO NOTHING
    RETURNING *
), s AS (
    INSERT INTO sessions (id_hash, user_id, expires_at, ip, user_agent,
                          user_email, user_role, user_email_verified,
                          user_two_factor_enabled, user_created_at)
    SELECT $3, u.id, now() + $4::int * interval '1 second', $5, $6,
           u.email, u.role, u.email_verified, u.two_factor_enabled,
           u.created_at
      FROM u
), old AS (
    DELETE FROM sessions WHERE id_hash = $7 AND EXISTS (SELECT 1 FROM u)
), v AS (
    INSERT INTO email_verifications (hash, user_id, expires_at)
    SELECT $8, u.id, now() + $10::int * interval '1 second' FROM u
), m AS (
    INSERT INTO mail_queue (kind, to_addr, nonce)
    SELECT 'verify', u.email, $9 FROM u
), a AS (
    INSERT INTO login_addresses (user_id, address)
    SELECT u.id, $11 FROM u
)
SELECT @user@
  FROM u
