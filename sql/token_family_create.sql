-- A new refresh family for a token login, with its first token; also
-- removes a few expired families (SKIP LOCKED: never waits on a refresh).
-- $1 user id, $2 the token's hash (bytea), $3 the family's lifetime in
-- seconds.  Returns the family id and when the access token is issued, in
-- microseconds on the database's clock (its iat is that in whole seconds;
-- its jti carries it exactly, for the revocation mark: token_user.sql).
WITH gc AS (
    DELETE FROM refresh_families
     WHERE id IN (SELECT id FROM refresh_families
                   WHERE expires_at < now()
                   LIMIT 20 FOR UPDATE SKIP LOCKED)
), f AS (
    INSERT INTO refresh_families (user_id, current_hash, expires_at)
    VALUES ($1::uuid, $2, now() + $3::int * interval '1 second')
    RETURNING id
), t AS (
    INSERT INTO refresh_tokens (hash, family_id)
    SELECT $2, id FROM f
)
SELECT id::text, (extract(epoch FROM now()) * 1000000)::bigint
  FROM f
