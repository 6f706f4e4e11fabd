-- `bulwark user set-password`, in one statement, like a reset: the new
-- hash, the revocation mark (access tokens issued before now die), every
-- session deleted, every refresh family revoked, the lockout cleared and
-- the user's outstanding reset tokens spent.
-- $1 email, $2 the new password hash.  Returns the id, the sessions ended
-- and the refresh families revoked; no row: no such user.
WITH u AS (
    UPDATE users
       SET password_hash = $2, updated_at = now(), tokens_valid_after = now()
     WHERE email = $1
    RETURNING id, email
), s AS (
    DELETE FROM sessions WHERE user_id = (SELECT id FROM u)
    RETURNING 1
), f AS (
    UPDATE refresh_families SET revoked_at = now()
     WHERE user_id = (SELECT id FROM u) AND revoked_at IS NULL
    RETURNING 1
), l AS (
    DELETE FROM lockouts WHERE email = (SELECT email FROM u)
), o AS (
    UPDATE reset_tokens SET used_at = now()
     WHERE user_id = (SELECT id FROM u) AND used_at IS NULL
)
SELECT id::text, (SELECT count(*) FROM s), (SELECT count(*) FROM f) FROM u
