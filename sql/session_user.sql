-- The user behind a live session: one index scan of one table, since the
-- session row carries its user's public fields (schema/006).  The
-- subquery names the copies as users' columns, so that @user(u)@ reads
-- them in user.cols's order; PostgreSQL flattens it.  After the user row,
-- one column says whether last_seen_at is over a minute old; only then
-- does the caller run session_touch, so the hot path writes nothing.
-- $1 session hash (bytea).  Returns the user row (user.cols), stale.
SELECT @user(u)@, u.stale
  FROM (SELECT s.user_id AS id, s.user_email AS email, s.user_role AS role,
               s.user_email_verified AS email_verified,
               s.user_two_factor_enabled AS two_factor_enabled,
               s.user_created_at AS created_at,
               s.last_seen_at < now() - interval '60 seconds' AS stale
          FROM sessions s
         WHERE s.id_hash = $1 AND s.expires_at > now()) u
