-- The transport took message $1: delivered, the lease and the last error
-- cleared.  The first delivery's time stays.  Also removes a few messages
-- delivered over a week ago (SKIP LOCKED), so the queue does not grow
-- with every message ever sent.
WITH gc AS (
    DELETE FROM mail_queue
     WHERE id IN (SELECT id FROM mail_queue
                   WHERE sent_at < now() - interval '7 days'
                   LIMIT 20 FOR UPDATE SKIP LOCKED)
)
UPDATE mail_queue
   SET sent_at = now(), claimed_until = NULL, last_error = NULL
 WHERE id = $1::bigint AND sent_at IS NULL
