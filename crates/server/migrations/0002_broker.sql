-- The blind broker: org key, approver enrolments, host certificates, sealed entries, requests,
-- approvals and the sealed responses waiting for delivery. Binary values are base64url text.
CREATE TABLE broker_org (id BIGINT PRIMARY KEY, public_key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    generation BIGINT NOT NULL, set_at BIGINT NOT NULL, set_by TEXT NOT NULL);
CREATE TABLE broker_enrolments (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE, approver_key TEXT NOT NULL, status TEXT NOT NULL, signed TEXT,
    org_generation BIGINT, created_at BIGINT NOT NULL, decided_at BIGINT);
CREATE INDEX broker_enrolments_key ON broker_enrolments (approver_key);
CREATE TABLE broker_hosts (cert_id TEXT PRIMARY KEY, host_name TEXT NOT NULL, host_key TEXT NOT NULL,
    certificate TEXT NOT NULL, not_after BIGINT NOT NULL, issued_by TEXT NOT NULL, created_at BIGINT NOT NULL,
    revoked_at BIGINT);
CREATE TABLE broker_entries (entry_id TEXT NOT NULL, version BIGINT NOT NULL, threshold BIGINT NOT NULL,
    people BIGINT NOT NULL, sealed TEXT NOT NULL, allow_self_approval BIGINT NOT NULL, created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL, PRIMARY KEY (entry_id, version));
CREATE TABLE broker_entry_heads (entry_id TEXT PRIMARY KEY, version BIGINT NOT NULL, deleted_at BIGINT);
CREATE TABLE broker_entry_devices (entry_id TEXT NOT NULL, version BIGINT NOT NULL, approver_key TEXT NOT NULL,
    PRIMARY KEY (entry_id, version, approver_key));
CREATE TABLE broker_requests (request_id TEXT PRIMARY KEY, entry_id TEXT NOT NULL, version BIGINT NOT NULL,
    cert_id TEXT NOT NULL, signed TEXT NOT NULL, status TEXT NOT NULL, poll_hash TEXT NOT NULL,
    threshold BIGINT NOT NULL, created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, decided_at BIGINT,
    delivered_at BIGINT, decided_by TEXT);
CREATE INDEX broker_requests_status ON broker_requests (status, expires_at);
CREATE TABLE broker_approvals (request_id TEXT NOT NULL, user_id TEXT NOT NULL, credential_id TEXT NOT NULL,
    approver_key TEXT NOT NULL, decision TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (request_id, user_id));
CREATE TABLE broker_responses (request_id TEXT NOT NULL, user_id TEXT NOT NULL, sealed TEXT NOT NULL,
    PRIMARY KEY (request_id, user_id));
