-- A delivered request's lease. `lease_secs` is the lease the host signed into the request
-- (`blindvault run --lease`; NULL for `inject`, which has none, and for requests made before
-- this migration); delivery sets `lease_ends_at = delivered_at + lease_secs` on the server's
-- clock. An approver of the request's entry, or an admin, may end a running lease early:
-- `ended_at` and `ended_by` (a user id) record when and who; the host's lease poll then answers
-- `ended`.
ALTER TABLE broker_requests ADD COLUMN lease_secs BIGINT;
ALTER TABLE broker_requests ADD COLUMN lease_ends_at BIGINT;
ALTER TABLE broker_requests ADD COLUMN ended_at BIGINT;
ALTER TABLE broker_requests ADD COLUMN ended_by TEXT;
