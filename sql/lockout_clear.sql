-- $1 email
DELETE FROM lockouts WHERE email = $1
