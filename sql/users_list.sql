SELECT id::text, email, role, email_verified, two_factor_enabled,
       created_at
  FROM users
 ORDER BY created_at, id
