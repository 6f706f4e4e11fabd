-- `bulwark mail-status`, the failed messages, newest first, at most $1:
-- id, kind, attempts, the next attempt (NULL: never) and the last error.
-- No address, no nonce.
SELECT id, kind, attempts,
       CASE WHEN next_attempt_at < 'infinity' THEN next_attempt_at END,
       last_error
  FROM mail_queue
 WHERE sent_at IS NULL AND last_error IS NOT NULL
 ORDER BY id DESC
 LIMIT $1::int
