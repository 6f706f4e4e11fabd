-- $1 email (normalized)
SELECT id::text, email, role, email_verified, two_factor_enabled,
       created_at, password_hash
  FROM users
 WHERE email = $1
