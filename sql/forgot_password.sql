-- /forgot-password, one statement whether or not the email has an account:
-- for a known one it stores the reset token's hash and queues the mail
-- that carries the token; for an unknown one it reads the same and writes
-- nothing, so both answers take the same time.  The mail holds only a
-- nonce; the token is derived from it again at delivery.  Also removes a
-- few expired tokens (SKIP LOCKED: never waits on a reset).
-- $1 email (normalized), $2 the token's hash (bytea), $3 the mail's nonce
-- (bytea), $4 the token's lifetime in seconds.
-- Returns one row: whether the email matched.
WITH gc AS (
    DELETE FROM reset_tokens
     WHERE hash IN (SELECT hash FROM reset_tokens
                     WHERE expires_at < now()
                     LIMIT 20 FOR UPDATE SKIP LOCKED)
), u AS (
    SELECT id, email FROM users WHERE email = $1
), t AS (
    INSERT INTO reset_tokens (hash, user_id, expires_at)
    SELECT $2, id, now() + $4::int * interval '1 second' FROM u
), m AS (
    INSERT INTO mail_queue (kind, to_addr, nonce)
    SELECT 'reset', email, $3 FROM u
)
SELECT EXISTS (SELECT 1 FROM u)
