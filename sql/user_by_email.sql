-- $1 email (normalized).  Returns the user row (user.cols), password_hash,
-- and the sealed TOTP secret in force (hex) with its key id, NULL without
-- one: a two-factor login needs no second read.
SELECT @user(u)@, u.password_hash, encode(t.secret, 'hex'), t.kid
  FROM users u LEFT JOIN totp t ON t.user_id = u.id
 WHERE u.email = $1
