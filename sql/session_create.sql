-- A new session; also removes a few expired ones, so no daemon is needed
-- (SKIP LOCKED: the clean-up never waits on, nor deadlocks with, a logout,
-- a user deletion or another login), and the session the browser had
-- before this login, if any: one browser, one live session.
-- $1 hash (bytea), $2 user id, $3 lifetime in seconds, $4 ip, $5 user agent,
-- $6 the hash of the session cookie the request carried (bytea) or NULL
WITH gc AS (
    DELETE FROM sessions
     WHERE id_hash IN (SELECT id_hash FROM sessions
                        WHERE expires_at < now()
                          AND id_hash IS DISTINCT FROM $6
                        LIMIT 20 FOR UPDATE SKIP LOCKED)
), old AS (
    DELETE FROM sessions WHERE id_hash = $6
)
INSERT INTO sessions (id_hash, user_id, expires_at, ip, user_agent)
VALUES ($1, $2::uuid, now() + $3::int * interval '1 second', $4, $5)
