-- The durable job queue. A job asks a worker to run one project; the pipeline state itself lives in
-- projects/assets, so running a job twice redoes nothing that was completed. Times are Unix
-- milliseconds so that lease comparisons are plain integer comparisons on both backends.
CREATE TABLE jobs (
    id               TEXT PRIMARY KEY,
    project_id       TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    state            TEXT NOT NULL,
    trace_id         TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    lease_owner      TEXT,
    lease_expires_ms BIGINT,
    stop_request     TEXT,
    last_error       TEXT,
    enqueued_ms      BIGINT NOT NULL,
    updated_ms       BIGINT NOT NULL
);
-- At most one live job per project: a second start is refused by the database itself.
CREATE UNIQUE INDEX jobs_one_live_per_project ON jobs (project_id) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_claim_idx ON jobs (state, enqueued_ms);

CREATE TABLE prompt_templates (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    content     TEXT NOT NULL,
    is_default  BIGINT NOT NULL DEFAULT 0,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE configurations (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    configuration TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
