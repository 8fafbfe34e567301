-- People, their passkeys, ceremony state, sessions, settings and the hash-chained audit log.
-- Every statement here and in the later files is valid on SQLite and on PostgreSQL: TEXT and
-- BIGINT columns, times in Unix seconds, flags 0/1, binary values as hex or base64url text.
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
    role TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE TABLE credentials (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL, passkey TEXT NOT NULL, sign_count BIGINT NOT NULL, backup_eligible BIGINT NOT NULL,
    backup_state BIGINT NOT NULL, created_at BIGINT NOT NULL, last_used_at BIGINT);
CREATE INDEX credentials_user ON credentials (user_id);
CREATE TABLE ceremonies (id TEXT PRIMARY KEY, kind TEXT NOT NULL, user_id TEXT, state TEXT NOT NULL,
    expires_at BIGINT NOT NULL);
CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, revoked_at BIGINT, client_addr TEXT);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, at BIGINT NOT NULL, actor TEXT, action TEXT NOT NULL,
    target TEXT, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE audit_head (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0,
    '0000000000000000000000000000000000000000000000000000000000000000');
