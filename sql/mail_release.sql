-- Hands message $1 back unattempted (claimed, but no time was left under
-- the lease to deliver it): due again at once, the attempt not counted.
UPDATE mail_queue
   SET claimed_until = NULL, attempts = greatest(attempts - 1, 0)
 WHERE id = $1::bigint AND sent_at IS NULL
