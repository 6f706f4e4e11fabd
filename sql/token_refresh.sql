-- Spends a refresh token and issues the next, in one statement.  Every use
-- of a family's tokens serialises on the family row (FOR UPDATE, which
-- also hands each waiter the row as the winner left it), so of many
-- concurrent uses of one token exactly one rotates:
--   rotated  $1 was the family's current token: $2 is now
--   grace    $1 was replaced by $2 less than $3 seconds ago and $2 is still
--            current: the caller answers the same pair again
--   reuse    any other spent token of the family: the family is revoked
--   revoked  the family was revoked or has expired
--   unknown  no family has $1
-- $1 the presented token's hash, $2 the next token's hash (derived from
-- $1 with a server key, so a retry derives the same), $3 the grace in
-- seconds (BULWARK_REFRESH_REUSE_INTERVAL; 0: none).  The window is read
-- on clock_timestamp(): now() is when this statement began, which for a
-- waiter can be before the winner rotated.
-- Returns one row: the user row (user.cols; NULLs when unknown), then the
-- outcome, family id, user id and when $2 was issued, in microseconds
-- (the access token's issue time: see token_family_create.sql).
WITH tok AS (
    SELECT family_id FROM refresh_tokens WHERE hash = $1
), fam AS (
    SELECT f.id, f.user_id, f.current_hash, f.previous_hash, f.rotated_at,
           f.expires_at, f.revoked_at
      FROM refresh_families f
     WHERE f.id = (SELECT family_id FROM tok)
       FOR UPDATE
), rotate AS (
    UPDATE refresh_families f
       SET previous_hash = $1, current_hash = $2, rotated_at = now()
      FROM fam
     WHERE f.id = fam.id AND fam.current_hash = $1
       AND fam.revoked_at IS NULL AND fam.expires_at > now()
    RETURNING f.rotated_at
), child AS (
    INSERT INTO refresh_tokens (hash, family_id)
    SELECT $2, fam.id FROM fam, rotate
), revoke AS (
    UPDATE refresh_families f
       SET revoked_at = now()
      FROM fam
     WHERE f.id = fam.id AND fam.revoked_at IS NULL
       AND fam.expires_at > now() AND fam.current_hash <> $1
       AND NOT ($3::int > 0
                AND fam.previous_hash = $1 AND fam.current_hash = $2
                AND fam.rotated_at > clock_timestamp()
                                     - $3::int * interval '1 second')
    RETURNING f.id
)
SELECT @user(u)@,
       CASE WHEN fam.id IS NULL THEN 'unknown'
            WHEN fam.revoked_at IS NOT NULL OR fam.expires_at <= now()
            THEN 'revoked'
            WHEN EXISTS (SELECT 1 FROM rotate) THEN 'rotated'
            WHEN EXISTS (SELECT 1 FROM revoke) THEN 'reuse'
            WHEN $3::int > 0 AND fam.previous_hash = $1
                 AND fam.current_hash = $2 THEN 'grace'
            ELSE 'error' END,
       fam.id::text, fam.user_id::text,
       (extract(epoch FROM coalesce((SELECT rotated_at FROM rotate),
                                    fam.rotated_at)) * 1000000)::bigint
  FROM (SELECT 1) AS one
  LEFT JOIN fam ON true
  LEFT JOIN users u ON u.id = fam.user_id
