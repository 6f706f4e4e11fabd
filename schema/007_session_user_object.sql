-- GET /me answers with the user object (API.md: id, email, role,
-- emailVerified, twoFactorEnabled, createdAt).  Each session row now holds
-- that object rendered as JSON text, computed by PostgreSQL from the copy
-- of 006 whenever the row is written, so the statement behind GET /me
-- (session_me.sql) returns one text column instead of six: PostgreSQL
-- builds each output column anew at every execution, and those columns
-- were most of what that statement cost over the bench's yardstick
-- (docs/PERFORMANCE.md).
--
-- A stored generated column, so nothing that writes a session changes:
-- an insert (whichever binary made it, the fill trigger of 006 included:
-- generated columns are computed after BEFORE triggers) and every update
-- of the copy (006's trigger on users) compute it in the same statement.
-- It can never disagree with the copy it is made from.
--
-- The rendering is the worker's own (http/response.c): keys in this
-- order, no spaces, createdAt as RFC 3339 in UTC with milliseconds
-- (truncated, as core/clock.c's rfc3339 does).  Strings go through
-- to_json, which escapes what JSON requires; for any email the
-- validation accepts (ASCII letters, digits and .!#$%&'*+/=?^_`{|}~-)
-- the bytes are the worker's.  The function is declared IMMUTABLE, which
-- a generated column requires: to_char with these numeric patterns of a
-- timestamp at an explicit zone and to_json of a text depend on no
-- setting, so the same arguments always give the same text.

CREATE FUNCTION bulwark.user_object(id uuid, email text, role text,
    email_verified boolean, two_factor_enabled boolean,
    created_at timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog AS $$
SELECT '{"id":"' || id::text
    || '","email":' || to_json(email)::text
    || ',"role":' || to_json(role)::text
    || ',"emailVerified":' || CASE WHEN email_verified THEN 'true' ELSE 'false' END
    || ',"twoFactorEnabled":' || CASE WHEN two_factor_enabled THEN 'true' ELSE 'false' END
    || ',"createdAt":"'
    || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    || '"}'
$$;

ALTER TABLE bulwark.sessions
    ADD COLUMN user_object text NOT NULL
    GENERATED ALWAYS AS (bulwark.user_object(user_id, user_email, user_role,
        user_email_verified, user_two_factor_enabled, user_created_at)) STORED;
