-- The sweeper deletes stale challenges every few seconds: by index, not a scan of a table that
-- anyone can grow (rate-limited) with `login/start`.
CREATE INDEX ceremonies_expires ON ceremonies (expires_at);
