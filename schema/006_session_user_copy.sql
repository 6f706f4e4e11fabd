-- The user's public fields, copied into each of the user's sessions, so
-- that authenticating a session cookie (GET /me and every route behind a
-- session) reads one row of one table instead of joining two: one index
-- scan less on the statement every session request runs, against a write
-- to each of the user's sessions on the rare change of these fields.
--
-- The copy is exact, never a cache that can lag:
-- * a session is inserted with the user's row read FOR SHARE in the same
--   statement (session_create.sql, signup.sql), so an uncommitted change
--   of the user either finishes first (and the insert copies it) or waits
--   for the insert to commit (and then updates the new session too);
-- * every update of a copied field on users rewrites the copy in the same
--   transaction (the trigger below), whichever statement or operator
--   command made it.
-- id and created_at never change; password_hash and the other columns are
-- not copied.  The functions pin their search_path (built-ins first), so
-- whoever fires them, no object of another schema can stand in for an
-- operator or a table they use.

ALTER TABLE bulwark.sessions
    ADD COLUMN user_email              text,
    ADD COLUMN user_role               text,
    ADD COLUMN user_email_verified     boolean,
    ADD COLUMN user_two_factor_enabled boolean,
    ADD COLUMN user_created_at         timestamptz;

UPDATE bulwark.sessions s
   SET user_email = u.email, user_role = u.role,
       user_email_verified = u.email_verified,
       user_two_factor_enabled = u.two_factor_enabled,
       user_created_at = u.created_at
  FROM bulwark.users u
 WHERE u.id = s.user_id;

ALTER TABLE bulwark.sessions
    ALTER COLUMN user_email SET NOT NULL,
    ALTER COLUMN user_role SET NOT NULL,
    ALTER COLUMN user_email_verified SET NOT NULL,
    ALTER COLUMN user_two_factor_enabled SET NOT NULL,
    ALTER COLUMN user_created_at SET NOT NULL;

CREATE FUNCTION bulwark.sessions_copy_user() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, bulwark AS $$
BEGIN
    UPDATE bulwark.sessions
       SET user_email = NEW.email, user_role = NEW.role,
           user_email_verified = NEW.email_verified,
           user_two_factor_enabled = NEW.two_factor_enabled,
           user_created_at = NEW.created_at
     WHERE user_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_copy_to_sessions
    AFTER UPDATE OF email, role, email_verified, two_factor_enabled, created_at
    ON bulwark.users
    FOR EACH ROW
    WHEN (OLD.email IS DISTINCT FROM NEW.email
          OR OLD.role IS DISTINCT FROM NEW.role
          OR OLD.email_verified IS DISTINCT FROM NEW.email_verified
          OR OLD.two_factor_enabled IS DISTINCT FROM NEW.two_factor_enabled
          OR OLD.created_at IS DISTINCT FROM NEW.created_at)
    EXECUTE FUNCTION bulwark.sessions_copy_user();

-- A session inserted without the copy -- by a worker still running the
-- binary from before this migration, between `bulwark migrate` and the
-- restart -- gets it here, read the same way (FOR SHARE), so an upgrade
-- loses no login.  The program's own inserts carry the copy and never call
-- the function (the WHEN clause is checked first).
CREATE FUNCTION bulwark.sessions_fill_user() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, bulwark AS $$
BEGIN
    SELECT u.email, u.role, u.email_verified, u.two_factor_enabled,
           u.created_at
      INTO NEW.user_email, NEW.user_role, NEW.user_email_verified,
           NEW.user_two_factor_enabled, NEW.user_created_at
      FROM bulwark.users u
     WHERE u.id = NEW.user_id
       FOR SHARE;
    RETURN NEW;
END
$$;

CREATE TRIGGER sessions_fill_user
    BEFORE INSERT ON bulwark.sessions
    FOR EACH ROW
    WHEN (NEW.user_email IS NULL)
    EXECUTE FUNCTION bulwark.sessions_fill_user();
