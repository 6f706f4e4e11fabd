-- Claims up to $1 due messages for the caller for $2 seconds (a lease:
-- a worker that dies mid-delivery releases them by running out) and
-- counts the attempt.  SKIP LOCKED: workers never wait on each other nor
-- take the same message; a message whose lease runs is not due.
-- Returns, oldest due first: id, kind, to_addr, the nonce in hex (NULL
-- when none), attempts (this one included), created_at and the age of
-- the message, both in whole seconds (the Date: header; a reset link
-- that has expired is not sent), the ip and user agent a sign-in
-- notice tells (NULL for other kinds).
WITH due AS MATERIALIZED (
    SELECT id
      FROM mail_queue
     WHERE sent_at IS NULL AND next_attempt_at <= now()
       AND (claimed_until IS NULL OR claimed_until < now())
     ORDER BY next_attempt_at, id
     LIMIT $1::int
       FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE mail_queue q
       SET claimed_until = now() + $2::int * interval '1 second',
           attempts = q.attempts + 1
      FROM due
     WHERE q.id = due.id
    RETURNING q.id, q.kind, q.to_addr, q.nonce, q.attempts, q.created_at,
              q.next_attempt_at, q.ip, q.user_agent
)
SELECT id, kind, to_addr, encode(nonce, 'hex'), attempts,
       extract(epoch FROM created_at)::bigint,
       extract(epoch FROM now() - created_at)::bigint, ip, user_agent
  FROM claimed
 ORDER BY next_attempt_at, id
