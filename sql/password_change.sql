-- POST /me/password, in one statement, once the current password was
-- verified: the new hash (only if the hash is still the one verified, so a
-- concurrent change is never undone), the revocation mark, every other
-- session deleted (the caller's kept), every refresh family revoked, the
-- lockout cleared, and the "your password was changed" mail queued.
-- $1 user id, $2 new hash, $3 the verified hash, $4 the caller's session
-- hash (bytea) or NULL.  Returns the email; no row: changed meanwhile.
WITH u AS (
    UPDATE users
       SET password_hash = $2, updated_at = now(), tokens_valid_after = now()
     WHERE id = $1::uuid AND password_hash = $3
    RETURNING id, email
), s AS (
    DELETE FROM sessions
     WHERE user_id = (SELECT id FROM u) AND id_hash IS DISTINCT FROM $4
), f AS (
    UPDATE refresh_families SET revoked_at = now()
     WHERE user_id = (SELECT id FROM u) AND revoked_at IS NULL
), l AS (
    DELETE FROM lockouts WHERE email = (SELECT email FROM u)
), m AS (
    INSERT INTO mail_queue (kind, to_addr)
    SELECT 'password_changed', email FROM u
)
SELECT email FROM u
