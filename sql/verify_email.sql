-- /verify-email: spends a verification token (once: of two uses racing,
-- exactly one updates the row) and marks the user verified; also removes a
-- few expired tokens.  $1 the token's hash (bytea).
-- Returns the user's id and email; no row: unknown, used or expired.
WITH gc AS (
    DELETE FROM email_verifications
     WHERE hash IN (SELECT hash FROM email_verifications
                     WHERE expires_at < now()
                     LIMIT 20 FOR UPDATE SKIP LOCKED)
), t AS (
    UPDATE email_verifications SET used_at = now()
     WHERE hash = $1 AND used_at IS NULL AND expires_at > now()
    RETURNING user_id
), u AS (
    UPDATE users SET email_verified = true, updated_at = now()
     WHERE id = (SELECT user_id FROM t)
    RETURNING id, email
)
SELECT id::text, email FROM u
