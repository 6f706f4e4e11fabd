-- Tokens for API clients: refresh-token families, denied access tokens, and
-- the per-user revocation mark.  Like sessions, refresh tokens are stored
-- only as the SHA-256 of their text.

-- "Access tokens issued before this are invalid" (password reset and change,
-- two-factor changes).  NULL: none revoked.
ALTER TABLE bulwark.users ADD COLUMN tokens_valid_after timestamptz;

-- One login's chain of refresh tokens.  The family row is where every use
-- of any of its tokens serialises: current_hash is the one token that may be
-- spent next, previous_hash the one it replaced at rotated_at (a retry of
-- it within BULWARK_REFRESH_REUSE_INTERVAL gets the same next pair).
-- expires_at is absolute: rotation never extends it.
CREATE TABLE bulwark.refresh_families (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES bulwark.users (id) ON DELETE CASCADE,
    current_hash  bytea NOT NULL CHECK (length(current_hash) = 32),
    previous_hash bytea CHECK (length(previous_hash) = 32),
    rotated_at    timestamptz NOT NULL DEFAULT now(),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX refresh_families_user_id ON bulwark.refresh_families (user_id);
CREATE INDEX refresh_families_expires_at ON bulwark.refresh_families (expires_at);

-- Every refresh token a family ever had, so that a spent one presented
-- again is recognised (and revokes the family) rather than unknown.
CREATE TABLE bulwark.refresh_tokens (
    hash       bytea PRIMARY KEY CHECK (length(hash) = 32),
    family_id  uuid NOT NULL REFERENCES bulwark.refresh_families (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_family_id ON bulwark.refresh_tokens (family_id);

-- Access tokens ended by /token/logout, until they would have expired.
CREATE TABLE bulwark.denied_tokens (
    jti        text PRIMARY KEY CHECK (length(jti) BETWEEN 1 AND 64),
    expires_at timestamptz NOT NULL
);
CREATE INDEX denied_tokens_expires_at ON bulwark.denied_tokens (expires_at);
