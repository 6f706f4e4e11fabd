-- Reserves one password check for an email, in one statement, before the
-- hash: no row while the email is locked (the caller answers 429 without
-- checking the password); else the attempt is counted as a failure now,
-- and the attempt that reaches the threshold locks the email, so however
-- many attempts race, exactly $2 passwords are checked per lock period.
-- A success clears the count (lockout_clear); a right password that is no
-- login gives the reservation back (lockout_release).  A lock that has
-- lifted starts the count again.  Also removes a few rows of other emails
-- untouched for 30 days and not locked, so the table does not grow with
-- every address ever tried (SKIP LOCKED: never waits on a concurrent
-- login).  Concurrent reservations of one email queue on its row, and each
-- sees the one before it (ON CONFLICT re-reads the row it waited for).
-- $1 email, $2 threshold, $3 lock seconds.  Returns failures, and whether
-- this reservation locked the email.
WITH gc AS (
    DELETE FROM lockouts
     WHERE email IN (SELECT email FROM lockouts
                      WHERE updated_at < now() - interval '30 days'
                        AND (locked_until IS NULL OR locked_until < now())
                        AND email <> $1
                      LIMIT 5 FOR UPDATE SKIP LOCKED)
)
INSERT INTO lockouts AS l (email, failures, locked_until)
VALUES ($1, 1, CASE WHEN 1 >= $2::int
                    THEN now() + $3::int * interval '1 second' END)
ON CONFLICT (email) DO UPDATE SET
    failures = CASE WHEN l.locked_until <= now() THEN 1
                    ELSE l.failures + 1 END,
    locked_until = CASE
        WHEN (CASE WHEN l.locked_until <= now() THEN 1
                   ELSE l.failures + 1 END) >= $2::int
        THEN now() + $3::int * interval '1 second'
        WHEN l.locked_until <= now() THEN NULL
        ELSE l.locked_until END,
    updated_at = now()
  WHERE l.locked_until IS NULL OR l.locked_until <= now()
RETURNING failures, locked_until IS NOT NULL AND locked_until > now()
