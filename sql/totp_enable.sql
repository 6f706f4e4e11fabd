-- /me/2fa/enable: stores a pending secret (sealed by the caller), replacing
-- one still pending.  No row back: 2FA is already on (409).
-- $1 user id, $2 sealed secret (bytea), $3 its key id
INSERT INTO totp (user_id, pending_secret, pending_kid)
SELECT id, $2, $3 FROM users WHERE id = $1::uuid AND NOT two_factor_enabled
ON CONFLICT (user_id) DO UPDATE
   SET pending_secret = EXCLUDED.pending_secret,
       pending_kid = EXCLUDED.pending_kid
 WHERE totp.secret IS NULL
RETURNING 1
