-- A password reset, in one statement: the token spent (of concurrent uses
-- exactly one gets a row: the UPDATE serialises on it), the new hash, the
-- revocation mark (access tokens issued before now die), every session
-- deleted, every refresh family revoked, the lockout cleared, and the
-- user's other outstanding reset tokens spent too.
-- $1 the token's hash (bytea), $2 the new password hash.
-- Returns the user id and email; no row: unknown, used or expired.
WITH t AS (
    UPDATE reset_tokens SET used_at = now()
     WHERE hash = $1 AND used_at IS NULL AND expires_at > now()
    RETURNING user_id
), u AS (
    UPDATE users
       SET password_hash = $2, updated_at = now(), tokens_valid_after = now()
     WHERE id = (SELECT user_id FROM t)
    RETURNING id, email
), s AS (
    DELETE FROM sessions WHERE user_id = (SELECT id FROM u)
), f AS (
    UPDATE refresh_families SET revoked_at = now()
     WHERE user_id = (SELECT id FROM u) AND revoked_at IS NULL
), l AS (
    DELETE FROM lockouts WHERE email = (SELECT email FROM u)
), o AS (
    UPDATE reset_tokens SET used_at = now()
     WHERE user_id = (SELECT id FROM u) AND used_at IS NULL AND hash <> $1
)
SELECT id::text, email FROM u
