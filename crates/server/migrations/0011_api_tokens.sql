-- Command-line API tokens (docs/server.md "Command-line tokens"): the token `bvt_<id>_<secret>`
-- is shown once; only `token_hash` = hex(SHA-256(the whole token string)) is kept. `id` is the
-- public part (looked up by it, never scanned), safe to show. A token goes with its person.
CREATE TABLE api_tokens (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL, scope TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL, revoked_at BIGINT, last_used_at BIGINT, last_used_addr TEXT);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
