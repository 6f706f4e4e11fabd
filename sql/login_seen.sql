-- After a successful login's response: records the address it came from.
-- An address new for a user who has signed in from others before queues a
-- new-login alert; concurrent logins from one new address insert it once
-- (the others update last_seen), so it alerts once.  A user with no address
-- yet (made by `bulwark user add`, or before addresses were kept) records
-- its first without an alert.
-- $1 user id, $2 the address key (ip_limit_key), $3 ip, $4 user agent.
-- Returns one row: whether an alert was queued.
WITH known AS (
    SELECT count(*) AS n FROM login_addresses WHERE user_id = $1::uuid
), ins AS (
    INSERT INTO login_addresses (user_id, address)
    VALUES ($1::uuid, $2)
    ON CONFLICT (user_id, address) DO UPDATE SET last_seen = now()
    RETURNING (xmax = 0) AS fresh
), m AS (
    INSERT INTO mail_queue (kind, to_addr, ip, user_agent)
    SELECT 'new_login', u.email, $3, $4
      FROM users u, ins, known
     WHERE u.id = $1::uuid AND ins.fresh AND known.n > 0
)
SELECT ins.fresh AND known.n > 0 FROM ins, known
