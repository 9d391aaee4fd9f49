-- Alerts raised by the monitor (ytmaker-monitor). One row per episode: opened when a rule fires
-- for a subject (an API, "disk", "database", …), bumped while it keeps firing, resolved when it
-- clears. Times are Unix milliseconds so windows are integer comparisons on both backends.
-- *_delivery is NULL until the webhook notice was attempted, then 'delivered' or 'failed'; a
-- notice is attempted once (with bounded retries), so a restart never sends it again.
CREATE TABLE alerts (
    id                TEXT PRIMARY KEY,
    rule              TEXT NOT NULL,
    priority          TEXT NOT NULL,
    subject           TEXT NOT NULL,
    state             TEXT NOT NULL,
    message           TEXT NOT NULL,
    details           TEXT NOT NULL,
    first_seen_ms     BIGINT NOT NULL,
    last_seen_ms      BIGINT NOT NULL,
    resolved_ms       BIGINT,
    occurrences       BIGINT NOT NULL,
    open_delivery     TEXT,
    resolve_delivery  TEXT,
    delivered_ms      BIGINT,
    delivery_attempts BIGINT NOT NULL DEFAULT 0,
    delivery_error    TEXT,
    delivery_lease_ms BIGINT
);
-- De-duplication is the database's job: at most one open alert per rule and subject, so two
-- evaluators (a server and a CLI) can never both open the same one.
CREATE UNIQUE INDEX alerts_one_open ON alerts (rule, subject) WHERE state = 'open';
CREATE INDEX alerts_state_seen_idx ON alerts (state, first_seen_ms);

-- The daily summary posted to the webhook: one row per UTC date, claimed before it is sent.
CREATE TABLE alert_summaries (
    date       TEXT PRIMARY KEY,
    claimed_ms BIGINT NOT NULL,
    sent_ms    BIGINT,
    attempts   BIGINT NOT NULL DEFAULT 0,
    error      TEXT
);

-- The monitor reads recent error events of all projects.
CREATE INDEX project_events_kind_created_idx ON project_events (kind, created_at);
