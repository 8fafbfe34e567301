-- Each request counts its approvals (people) and those by someone other than its host's issuer,
-- so that an approval updates the count and decides the release in one statement under the
-- request row's lock (two approvals at once through two instances on PostgreSQL could otherwise
-- each count only themselves and leave an m-of-n request pending). The UPDATE backfills what a
-- database written by the previous version holds.
ALTER TABLE broker_requests ADD COLUMN approvals BIGINT NOT NULL DEFAULT 0;
ALTER TABLE broker_requests ADD COLUMN non_issuer_approvals BIGINT NOT NULL DEFAULT 0;
UPDATE broker_requests SET
    approvals = (SELECT COUNT(*) FROM broker_approvals a WHERE a.request_id = broker_requests.request_id AND a.decision = 'approve'),
    non_issuer_approvals = (SELECT COUNT(*) FROM broker_approvals a JOIN broker_hosts h ON h.cert_id = broker_requests.cert_id
        WHERE a.request_id = broker_requests.request_id AND a.decision = 'approve' AND a.user_id <> h.issued_by);
