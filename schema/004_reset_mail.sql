-- Password reset tokens and the mail queue.

-- A reset token is stored only as the SHA-256 of its text; it works once
-- (used_at) until expires_at.
CREATE TABLE bulwark.reset_tokens (
    hash       bytea PRIMARY KEY CHECK (length(hash) = 32),
    user_id    uuid NOT NULL REFERENCES bulwark.users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX reset_tokens_user_id ON bulwark.reset_tokens (user_id);
CREATE INDEX reset_tokens_expires_at ON bulwark.reset_tokens (expires_at);

-- Mail waiting to go out, queued in the same transaction as what caused it
-- and delivered after the response.  A message is a kind and its values,
-- rendered at delivery: a secret that a message carries (a reset link's
-- token) is not stored here but derived at delivery from `nonce` with a
-- server key, so the queue holds no usable secret either.
-- A worker claims a message by setting claimed_until (a lease: a worker
-- that dies mid-delivery releases it by running out); sent_at marks it
-- delivered; a failure pushes next_attempt_at back (attempts, last_error).
CREATE TABLE bulwark.mail_queue (
    id              bigserial PRIMARY KEY,
    kind            text NOT NULL CHECK (kind ~ '^[a-z_]+$'),
    to_addr         text NOT NULL CHECK (to_addr !~ '[\r\n]' AND length(to_addr) <= 254),
    nonce           bytea CHECK (length(nonce) = 32),
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    claimed_until   timestamptz,
    sent_at         timestamptz,
    last_error      text
);
CREATE INDEX mail_queue_due ON bulwark.mail_queue (next_attempt_at)
    WHERE sent_at IS NULL;
CREATE INDEX mail_queue_sent_at ON bulwark.mail_queue (sent_at)
    WHERE sent_at IS NOT NULL;
