-- Step-up: a fresh assertion bound to one destructive action and its target.
CREATE TABLE step_ups (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    action TEXT NOT NULL, target TEXT NOT NULL, options TEXT NOT NULL, state TEXT, created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL, confirmed_at BIGINT, credential_id TEXT, used_at BIGINT, cancelled_at BIGINT);
CREATE INDEX step_ups_expires ON step_ups (expires_at);
