-- Users and cookie sessions.
-- A session is stored only as the SHA-256 of its cookie value: a dump of
-- this database yields no live session.

CREATE TABLE bulwark.users (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Stored trimmed and lower-cased by the program; the check keeps it so.
    email              text NOT NULL UNIQUE
                       CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 254),
    role               text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    password_hash      text NOT NULL CHECK (password_hash LIKE '$%'),
    email_verified     boolean NOT NULL DEFAULT false,
    two_factor_enabled boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE bulwark.sessions (
    id_hash      bytea PRIMARY KEY CHECK (length(id_hash) = 32),
    user_id      uuid NOT NULL REFERENCES bulwark.users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    ip           text NOT NULL,
    user_agent   text NOT NULL DEFAULT ''
);

CREATE INDEX sessions_user_id ON bulwark.sessions (user_id);
CREATE INDEX sessions_expires_at ON bulwark.sessions (expires_at);
