-- A recovery code is spent, once: of two uses racing, exactly one updates
-- the row.  $1 user id, $2 the code's hash (bytea).  Returns a row only
-- when the code was unused until now.
UPDATE recovery_codes SET used_at = now()
 WHERE user_id = $1::uuid AND hash = $2 AND used_at IS NULL
RETURNING 1
