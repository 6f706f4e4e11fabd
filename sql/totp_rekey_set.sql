-- `bulwark rekey`: one row re-sealed, only if it still holds what was read
-- (a concurrent enable or disable wins).
-- $1 user id, $2 old secret (bytea or NULL), $3 new secret, $4 old pending
-- (bytea or NULL), $5 new pending, $6 the new key id.
UPDATE totp
   SET secret = CASE WHEN secret IS NULL THEN NULL ELSE $3::bytea END,
       kid = CASE WHEN secret IS NULL THEN NULL ELSE $6::text END,
       pending_secret = CASE WHEN pending_secret IS NULL THEN NULL
                             ELSE $5::bytea END,
       pending_kid = CASE WHEN pending_secret IS NULL THEN NULL
                          ELSE $6::text END
 WHERE user_id = $1::uuid
   AND secret IS NOT DISTINCT FROM $2::bytea
   AND pending_secret IS NOT DISTINCT FROM $4::bytea
RETURNING 1
