-- The user behind an access token and what revokes it, in one read: the
-- user as stored now (role, existence), the per-user mark and the deny
-- list.  The mark counts in whole seconds, rounded up: a token issued in
-- the second the mark was set is refused too.
-- $1 user id (sub), $2 iat (seconds), $3 jti.
-- Returns the user row (user.cols), revoked, denied; no row: no such user.
SELECT @user(u)@,
       coalesce($2::bigint < ceil(extract(epoch FROM u.tokens_valid_after)),
                false),
       EXISTS (SELECT 1 FROM denied_tokens d WHERE d.jti = $3)
  FROM users u
 WHERE u.id = $1::uuid
