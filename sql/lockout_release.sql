-- Gives back a reservation of lockout_reserve whose password was right but
-- that is no login (a login stopped at the two-factor step, the current
-- password of /me/password): the failure it counted goes, and the lock too
-- when this reservation set it.
-- $1 email, $2 whether the reservation locked the email.
UPDATE lockouts
   SET failures = greatest(failures - 1, 0),
       locked_until = CASE WHEN $2::boolean THEN NULL ELSE locked_until END,
       updated_at = now()
 WHERE email = $1
