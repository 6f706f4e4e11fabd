-- $1 session hash (bytea)
DELETE FROM sessions WHERE id_hash = $1
