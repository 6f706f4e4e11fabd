-- /me/2fa/verify: the pending secret (hex) and its key id, and whether a
-- secret is already in force.  No row: nothing was ever enabled.
-- $1 user id
SELECT encode(pending_secret, 'hex'), pending_kid, secret IS NOT NULL
  FROM totp
 WHERE user_id = $1::uuid
