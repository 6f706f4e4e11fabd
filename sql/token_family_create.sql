-- A new refresh family for a token login, with its first token; also
-- removes a few expired families (SKIP LOCKED: never waits on a refresh).
-- $1 user id, $2 the token's hash (bytea), $3 the family's lifetime in
-- seconds.  Returns the family id and now in whole seconds (the access
-- token's iat, on the database's clock like every later one).
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
SELECT id::text, floor(extract(epoch FROM now()))::bigint
  FROM f
