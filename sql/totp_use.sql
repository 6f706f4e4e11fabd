-- A valid TOTP code is spent: the user's last accepted step moves to the
-- code's step only if that is newer (compare-and-set), so of two logins
-- racing with one code exactly one passes, and an older code never does.
-- A code refused here is a replay: the user is told by mail (at most one
-- such mail queued per quarter of an hour).
-- $1 user id, $2 the code's time step, $3 ip, $4 user agent.
-- Returns one row: true when the code was spent now.
WITH t AS (
    UPDATE totp SET last_step = $2::bigint
     WHERE user_id = $1::uuid AND secret IS NOT NULL AND last_step < $2::bigint
    RETURNING 1
), m AS (
    INSERT INTO mail_queue (kind, to_addr, ip, user_agent)
    SELECT 'twofa_replay', u.email, $3, $4
      FROM users u
     WHERE u.id = $1::uuid AND NOT EXISTS (SELECT 1 FROM t)
       AND NOT EXISTS (SELECT 1 FROM mail_queue q
                        WHERE q.kind = 'twofa_replay' AND q.to_addr = u.email
                          AND q.created_at > now() - interval '15 minutes')
)
SELECT EXISTS (SELECT 1 FROM t)
