-- A new session; also removes a few expired ones, so no daemon is needed
-- (SKIP LOCKED: the clean-up never waits on, nor deadlocks with, a logout,
-- a user deletion or another login), and the session the browser had
-- before this login, if any: one browser, one live session.
-- The session carries a copy of its user's public fields (schema/006),
-- read FOR SHARE: a change of the user that has not committed yet is
-- waited for and copied, and one that starts later waits for this session
-- and then updates it too.  The lock comes first: the main INSERT reads u
-- before the DELETEs run, so no session row is held while waiting.
-- $1 hash (bytea), $2 user id, $3 lifetime in seconds, $4 ip, $5 user agent,
-- $6 the hash of the session cookie the request carried (bytea) or NULL.
-- Returns one row, or none when the user is gone.
WITH u AS (
    SELECT id, email, role, email_verified, two_factor_enabled, created_at
      FROM users WHERE id = $2::uuid
       FOR SHARE
), gc AS (
    DELETE FROM sessions
     WHERE id_hash IN (SELECT id_hash FROM sessions
                        WHERE expires_at < now()
                          AND id_hash IS DISTINCT FROM $6
                        LIMIT 20 FOR UPDATE SKIP LOCKED)
), old AS (
    DELETE FROM sessions WHERE id_hash = $6
)
INSERT INTO sessions (id_hash, user_id, expires_at, ip, user_agent,
                      user_email, user_role, user_email_verified,
                      user_two_factor_enabled, user_created_at)
SELECT $1, u.id, now() + $3::int * interval '1 second', $4, $5,
       u.email, u.role, u.email_verified, u.two_factor_enabled, u.created_at
  FROM u
RETURNING 1
