-- $1 key
DELETE FROM rate_limits WHERE key = $1
