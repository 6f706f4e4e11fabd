-- Milliseconds until the lock on an email lifts; no row when not locked.
-- $1 email
SELECT greatest(1, ceil(extract(epoch FROM (locked_until - now())) * 1000))::bigint
  FROM lockouts
 WHERE email = $1 AND locked_until > now()
