-- Upgrades a hash made with weaker settings; only if it is still the one
-- that was verified, so a concurrent password change is never undone.
-- $1 user id, $2 new hash, $3 the verified hash
UPDATE users SET password_hash = $2, updated_at = now()
 WHERE id = $1::uuid AND password_hash = $3
