-- Who started a step-up: the browser session (`session:<row id>`) or the command-line token
-- (`token:<id>`). Only the same one may spend it once confirmed, so a step-up id seen elsewhere
-- (the audit log names it) is useless to anyone else signed in as the same person.
ALTER TABLE step_ups ADD COLUMN started_by TEXT;
