-- The capstone's three challenges and session management: TOTP second
-- factors with recovery codes, email verification, the addresses a user
-- has signed in from (new-login alerts), and a public handle per session.

-- A TOTP secret is never stored in clear: `secret` is sealed with
-- AES-256-GCM (core/seal.c) under the data key named by `kid`, bound to the
-- user's id.  pending_* is a secret being set up (/me/2fa/enable, until
-- /me/2fa/verify); secret/kid the one in force.  last_step is the newest
-- time step accepted: it only moves forward, by a compare-and-set, so a
-- code (and every older one) works once.
CREATE TABLE bulwark.totp (
    user_id        uuid PRIMARY KEY REFERENCES bulwark.users (id) ON DELETE CASCADE,
    pending_secret bytea CHECK (length(pending_secret) BETWEEN 29 AND 128),
    pending_kid    text CHECK (length(pending_kid) BETWEEN 1 AND 64),
    secret         bytea CHECK (length(secret) BETWEEN 29 AND 128),
    kid            text CHECK (length(kid) BETWEEN 1 AND 64),
    last_step      bigint NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((secret IS NULL) = (kid IS NULL)),
    CHECK ((pending_secret IS NULL) = (pending_kid IS NULL))
);

-- Recovery codes, stored only as the SHA-256 of their text; each works
-- once (used_at).
CREATE TABLE bulwark.recovery_codes (
    user_id uuid NOT NULL REFERENCES bulwark.users (id) ON DELETE CASCADE,
    hash    bytea NOT NULL CHECK (length(hash) = 32),
    used_at timestamptz,
    PRIMARY KEY (user_id, hash)
);

-- Email verification tokens: like reset tokens, the SHA-256 of the text
-- only, single use, until expires_at.
CREATE TABLE bulwark.email_verifications (
    hash       bytea PRIMARY KEY CHECK (length(hash) = 32),
    user_id    uuid NOT NULL REFERENCES bulwark.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX email_verifications_user_id ON bulwark.email_verifications (user_id);
CREATE INDEX email_verifications_expires_at ON bulwark.email_verifications (expires_at);

-- Where each user has signed in from (an IPv4 address, or an IPv6 /64):
-- a successful login from an address not here is a new-login alert.
CREATE TABLE bulwark.login_addresses (
    user_id    uuid NOT NULL REFERENCES bulwark.users (id) ON DELETE CASCADE,
    address    text NOT NULL CHECK (length(address) BETWEEN 1 AND 64),
    first_seen timestamptz NOT NULL DEFAULT now(),
    last_seen  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, address)
);

-- The public name of a session (GET /me/sessions, DELETE /me/sessions/:id):
-- random, and neither the cookie nor its hash.
ALTER TABLE bulwark.sessions ADD COLUMN handle uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX sessions_handle ON bulwark.sessions (handle);

-- What a new-login alert or a replay warning tells: the address and the
-- user agent of the sign-in, one line each.
ALTER TABLE bulwark.mail_queue
    ADD COLUMN ip text CHECK (ip !~ '[\r\n]' AND length(ip) <= 64),
    ADD COLUMN user_agent text CHECK (user_agent !~ '[\r\n]' AND length(user_agent) <= 512);
-- A replay warning is queued at most once a quarter of an hour per user:
-- sql/totp_use.sql looks for the last one here.
CREATE INDEX mail_queue_replay ON bulwark.mail_queue (to_addr, created_at)
    WHERE kind = 'twofa_replay';
