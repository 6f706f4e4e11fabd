-- An attempt at message $1 failed with $2 (the reason, never a secret):
-- the lease ends and the next attempt waits $3 seconds, or never when $3
-- is NULL (the message can never be sent).
UPDATE mail_queue
   SET last_error = $2::text, claimed_until = NULL,
       next_attempt_at = CASE WHEN $3::int IS NULL
                              THEN 'infinity'::timestamptz
                              ELSE now() + $3::int * interval '1 second' END
 WHERE id = $1::bigint AND sent_at IS NULL
