-- The user behind an access token and what revokes it, in one read: the
-- user as stored now (role, existence); the per-user mark; the deny list;
-- and the token's refresh family, so that a family revoked (reuse, logout)
-- takes its access tokens with it at once.  The mark is exact: the
-- token's issue time comes in microseconds (from its jti, which the
-- signature covers), not its whole-second iat.
-- $1 user id (sub), $2 issued at (microseconds since 1970), $3 jti,
-- $4 the token's family id (from its jti).
-- Returns the user row (user.cols), revoked, denied; no row: no such user.
SELECT @user(u)@,
       coalesce($2::bigint < (extract(epoch FROM u.tokens_valid_after)
                              * 1000000)::bigint, false)
         OR NOT EXISTS (SELECT 1 FROM refresh_families f
                         WHERE f.id = $4::uuid AND f.user_id = u.id
                           AND f.revoked_at IS NULL),
       EXISTS (SELECT 1 FROM denied_tokens d WHERE d.jti = $3)
  FROM users u
 WHERE u.id = $1::uuid
