-- /token/logout: denies the access token until it would expire anyway and
-- revokes the refresh family it came from ($5, from its jti) and the
-- family of the refresh token given ($4), each only if it is the same
-- user's.  Also removes a few deny-list entries expired ten minutes ago
-- (SKIP LOCKED; the margin covers a worker whose clock runs behind the
-- database's, which checks exp on its own).
-- $1 jti, $2 exp (seconds), $3 user id, $4 refresh token hash (bytea) or
-- NULL, $5 the access token's family id or NULL.  Returns how many
-- families were revoked.
WITH gc AS (
    DELETE FROM denied_tokens
     WHERE jti IN (SELECT jti FROM denied_tokens
                    WHERE expires_at < now() - interval '10 minutes'
                      AND jti <> $1
                    LIMIT 20 FOR UPDATE SKIP LOCKED)
), deny AS (
    INSERT INTO denied_tokens (jti, expires_at)
    VALUES ($1, to_timestamp($2::bigint))
    ON CONFLICT (jti) DO NOTHING
), fam AS (
    UPDATE refresh_families
       SET revoked_at = now()
     WHERE (id = $5::uuid
            OR id = (SELECT family_id FROM refresh_tokens WHERE hash = $4))
       AND user_id = $3::uuid AND revoked_at IS NULL
    RETURNING id
)
SELECT count(*) FROM fam
