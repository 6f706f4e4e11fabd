-- `bulwark rekey`: every sealed secret (in force or pending) whose key id
-- is not the current one.  $1 the current key id.
-- Returns user id, secret (hex), kid, pending secret (hex), pending kid.
SELECT user_id::text, encode(secret, 'hex'), kid,
       encode(pending_secret, 'hex'), pending_kid
  FROM totp
 WHERE kid IS DISTINCT FROM $1 AND kid IS NOT NULL
    OR pending_kid IS DISTINCT FROM $1 AND pending_kid IS NOT NULL
 ORDER BY user_id
