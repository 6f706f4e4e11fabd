-- Brute-force defenses, shared exactly by every worker and host.

-- Fixed-window counters.  UNLOGGED: not written to the WAL, so a counter
-- costs little; after a crash PostgreSQL empties the table, which at worst
-- gives an attacker one fresh window.  Lockouts below are durable.
CREATE UNLOGGED TABLE bulwark.rate_limits (
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    count        integer NOT NULL
);
CREATE INDEX rate_limits_expires_at ON bulwark.rate_limits (expires_at);

-- Failed logins per email (existing account or not: a lockout must not
-- tell whether an account exists).
CREATE TABLE bulwark.lockouts (
    email        text PRIMARY KEY CHECK (email = lower(email)),
    failures     integer NOT NULL,
    locked_until timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX lockouts_updated_at ON bulwark.lockouts (updated_at);
