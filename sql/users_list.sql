-- Every user, oldest first.  Returns the user row (user.cols).
SELECT @user@
  FROM users
 ORDER BY created_at, id
