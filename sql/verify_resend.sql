-- /verify-email/resend for a user not verified yet: a new token's hash and
-- its mail (older tokens keep working until they expire).
-- $1 user id, $2 the token's hash (bytea), $3 the mail's nonce (bytea),
-- $4 the token's lifetime in seconds.  Returns whether a mail was queued.
WITH u AS (
    SELECT id, email FROM users WHERE id = $1::uuid AND NOT email_verified
), t AS (
    INSERT INTO email_verifications (hash, user_id, expires_at)
    SELECT $2, id, now() + $4::int * interval '1 second' FROM u
), m AS (
    INSERT INTO mail_queue (kind, to_addr, nonce)
    SELECT 'verify', email, $3 FROM u
)
SELECT EXISTS (SELECT 1 FROM u)
