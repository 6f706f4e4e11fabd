-- `bulwark user 2fa-off`: the operator's way back in for a user whose
-- second factor is lost or was turned on by someone else.  Like
-- /me/2fa/disable, in one statement: the secret (in force or pending) and
-- the recovery codes go, the flag is cleared, the revocation mark set, every
-- session ends and every refresh family is revoked, and the user is told.
-- $1 email.  Returns the id and whether 2FA was on; no row: no such user.
WITH u AS (
    SELECT id, email, two_factor_enabled AS was FROM users
     WHERE email = $1 FOR UPDATE
), t AS (
    DELETE FROM totp WHERE user_id = (SELECT id FROM u)
), rc AS (
    DELETE FROM recovery_codes WHERE user_id = (SELECT id FROM u)
), x AS (
    UPDATE users
       SET two_factor_enabled = false, tokens_valid_after = now(),
           updated_at = now()
     WHERE id = (SELECT id FROM u)
), s AS (
    DELETE FROM sessions WHERE user_id = (SELECT id FROM u)
), f AS (
    UPDATE refresh_families SET revoked_at = now()
     WHERE user_id = (SELECT id FROM u) AND revoked_at IS NULL
), m AS (
    INSERT INTO mail_queue (kind, to_addr)
    SELECT 'twofa_disabled', email FROM u WHERE was
)
SELECT id::text, was FROM u
