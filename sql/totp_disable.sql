-- /me/2fa/disable once password and code were checked, in one statement:
-- the secret and the recovery codes go, the user's flag is cleared, the
-- revocation mark set, every other session ends, every refresh family is
-- revoked, and a notice mail is queued.
-- $1 user id, $2 the caller's session hash (bytea) or NULL.
-- Returns the email; no row: 2FA was not on.
WITH t AS (
    DELETE FROM totp WHERE user_id = $1::uuid
), rc AS (
    DELETE FROM recovery_codes WHERE user_id = $1::uuid
), u AS (
    UPDATE users
       SET two_factor_enabled = false, tokens_valid_after = now(),
           updated_at = now()
     WHERE id = $1::uuid AND two_factor_enabled
    RETURNING id, email
), s AS (
    DELETE FROM sessions
     WHERE user_id = (SELECT id FROM u) AND id_hash IS DISTINCT FROM $2
), f AS (
    UPDATE refresh_families SET revoked_at = now()
     WHERE user_id = (SELECT id FROM u) AND revoked_at IS NULL
), m AS (
    INSERT INTO mail_queue (kind, to_addr)
    SELECT 'twofa_disabled', email FROM u
)
SELECT email FROM u
