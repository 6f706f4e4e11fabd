-- DELETE /me/sessions/:id: ends one of the user's own sessions by handle.
-- $1 handle, $2 user id, $3 the caller's session hash (bytea) or NULL.
-- Returns whether it was the caller's; no row: not the user's, or gone.
DELETE FROM sessions
 WHERE handle = $1::uuid AND user_id = $2::uuid AND expires_at > now()
RETURNING (id_hash = $3) IS TRUE
