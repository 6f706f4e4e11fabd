-- $1 email (normalized).  Returns the user row (user.cols), password_hash.
SELECT @user@, password_hash
  FROM users
 WHERE email = $1
