-- Counts one hit against a fixed window, atomically: concurrent hits on one
-- key serialise on its row, so every worker and host shares one budget.
-- Also removes a few expired windows of other keys (SKIP LOCKED: it never
-- waits on, nor deadlocks with, a concurrent hit).
-- $1 key, $2 window in seconds.  Returns the count in this window and the
-- milliseconds until the window ends.
WITH gc AS (
    DELETE FROM rate_limits
     WHERE key IN (SELECT key FROM rate_limits
                    WHERE expires_at < now() AND key <> $1
                    LIMIT 5 FOR UPDATE SKIP LOCKED)
)
INSERT INTO rate_limits AS r (key, window_start, expires_at, count)
VALUES ($1, now(), now() + $2::int * interval '1 second', 1)
ON CONFLICT (key) DO UPDATE SET
    window_start = CASE WHEN r.expires_at <= now() THEN now()
                        ELSE r.window_start END,
    expires_at   = CASE WHEN r.expires_at <= now()
                        THEN now() + $2::int * interval '1 second'
                        ELSE r.expires_at END,
    count        = CASE WHEN r.expires_at <= now() THEN 1
                        ELSE r.count + 1 END
RETURNING count,
          greatest(0, ceil(extract(epoch FROM (expires_at - now())) * 1000))::bigint
