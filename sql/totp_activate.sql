-- /me/2fa/verify with a valid code, in one statement: the pending secret
-- (only if it is still the one the code was checked against) goes in force
-- with the code's step as the last one used; the ten recovery codes'
-- hashes are stored; the user's flag and revocation mark are set, every
-- other session ends and every refresh family is revoked; a notice mail is
-- queued.
-- $1 user id, $2 the code's time step, $3 the pending secret verified
-- (hex, as totp_pending read it), $4 the recovery codes' hashes concatenated (10 x 32 bytes),
-- $5 the caller's session hash (bytea) or NULL.
-- Returns the email; no row: replaced or enabled meanwhile.
WITH t AS (
    UPDATE totp
       SET secret = pending_secret, kid = pending_kid,
           pending_secret = NULL, pending_kid = NULL, last_step = $2::bigint
     WHERE user_id = $1::uuid AND secret IS NULL
       AND pending_secret = decode($3, 'hex')
    RETURNING user_id
), u AS (
    UPDATE users
       SET two_factor_enabled = true, tokens_valid_after = now(),
           updated_at = now()
     WHERE id = (SELECT user_id FROM t)
    RETURNING id, email
), old AS (
    DELETE FROM recovery_codes WHERE user_id = (SELECT id FROM u)
), rc AS (
    INSERT INTO recovery_codes (user_id, hash)
    SELECT u.id, substring($4::bytea FROM i * 32 + 1 FOR 32)
      FROM u, generate_series(0, length($4::bytea) / 32 - 1) AS i
), s AS (
    DELETE FROM sessions
     WHERE user_id = (SELECT id FROM u) AND id_hash IS DISTINCT FROM $5
), f AS (
    UPDATE refresh_families SET revoked_at = now()
     WHERE user_id = (SELECT id FROM u) AND revoked_at IS NULL
), m AS (
    INSERT INTO mail_queue (kind, to_addr)
    SELECT 'twofa_enabled', email FROM u
)
SELECT email FROM u
