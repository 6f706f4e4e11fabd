-- The email of the user a live reset token belongs to: what the new
-- password must not equal.  Spends nothing (reset_apply does).
-- $1 the token's hash (bytea).  No row: unknown, used or expired.
SELECT u.email
  FROM reset_tokens r JOIN users u ON u.id = r.user_id
 WHERE r.hash = $1 AND r.used_at IS NULL AND r.expires_at > now()
