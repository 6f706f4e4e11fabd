-- Sessions (and later every token) go with the user: ON DELETE CASCADE.
-- $1 user id
DELETE FROM users WHERE id = $1::uuid RETURNING email
