-- Web Push: an approver's per-device subscriptions (one per passkey: removing the passkey removes
-- them) and the outbox the push worker sends from. The VAPID key lives in `settings`
-- (`push_vapid_p256`), made at first start like the session key.
CREATE TABLE push_subscriptions (id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL REFERENCES credentials(id) ON DELETE CASCADE, endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL, auth TEXT NOT NULL, created_at BIGINT NOT NULL);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);
CREATE INDEX push_subscriptions_credential ON push_subscriptions (credential_id);
-- One row per (request, subscription): filled in the transaction that creates the request,
-- claimed by a worker with a lease (`claimed_until`, `claim`), deleted once sent, refused or
-- past the request's expiry.
CREATE TABLE push_outbox (id TEXT PRIMARY KEY, request_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES push_subscriptions(id) ON DELETE CASCADE,
    expires_at BIGINT NOT NULL, attempts BIGINT NOT NULL, next_at BIGINT NOT NULL, claimed_until BIGINT,
    claim TEXT, created_at BIGINT NOT NULL);
CREATE INDEX push_outbox_due ON push_outbox (next_at);
CREATE INDEX push_outbox_claim ON push_outbox (claim);
