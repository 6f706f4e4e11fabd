-- `bulwark user set-role`: $1 email, $2 the new role ('user' or 'admin').
-- Returns the id and the role it had; no row: no such user.  The role is
-- read from the database on every request, so it takes effect at once.
WITH old AS (
    SELECT id, role FROM users WHERE email = $1 FOR UPDATE
)
UPDATE users u SET role = $2, updated_at = now()
  FROM old
 WHERE u.id = old.id
RETURNING u.id::text, old.role
