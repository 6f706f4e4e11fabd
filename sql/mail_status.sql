-- `bulwark mail-status`, the counts: unsent messages due now (in flight
-- included), due later, being delivered (a lease running), failed (an
-- attempt failed and none succeeded since: last_error), failed for good
-- (never retried), and sent in the last 24 hours.
SELECT count(*) FILTER (WHERE sent_at IS NULL AND next_attempt_at <= now()),
       count(*) FILTER (WHERE sent_at IS NULL AND next_attempt_at > now()
                        AND next_attempt_at < 'infinity'),
       count(*) FILTER (WHERE sent_at IS NULL AND claimed_until > now()),
       count(*) FILTER (WHERE sent_at IS NULL AND last_error IS NOT NULL),
       count(*) FILTER (WHERE sent_at IS NULL
                        AND next_attempt_at = 'infinity'),
       count(*) FILTER (WHERE sent_at > now() - interval '24 hours')
  FROM mail_queue
