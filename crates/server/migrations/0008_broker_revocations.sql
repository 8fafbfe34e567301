-- The org-signed revocation record: one row, the newest (the server stores and relays it; it
-- cannot make one).
CREATE TABLE broker_revocations (id BIGINT PRIMARY KEY, epoch BIGINT NOT NULL, record TEXT NOT NULL,
    set_at BIGINT NOT NULL, set_by TEXT NOT NULL);
