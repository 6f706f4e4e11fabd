-- `bulwark user delete`: sessions, refresh families and every token go
-- with the user (ON DELETE CASCADE).  $1 email.  Returns the id; no row:
-- no such user.
DELETE FROM users WHERE email = $1 RETURNING id::text
