-- One row per HTTP call a cloud provider client made (success or failure), written by the pipeline's
-- call recorder. Quotas that the providers do not report (YouTube units, Gemini requests, Stability
-- images) are counted from here, and monitoring computes success rates and latencies from it.
-- at_ms is Unix milliseconds so time windows are plain integer comparisons on both backends.
CREATE TABLE provider_calls (
    id           TEXT PRIMARY KEY,
    at_ms        BIGINT NOT NULL,
    api          TEXT NOT NULL,
    endpoint     TEXT NOT NULL,
    status       BIGINT,
    error_code   TEXT,
    duration_ms  BIGINT NOT NULL,
    quota_units  BIGINT NOT NULL DEFAULT 0,
    project_id   TEXT,
    trace_id     TEXT
);
CREATE INDEX provider_calls_api_at_idx ON provider_calls (api, at_ms);
CREATE INDEX provider_calls_at_idx ON provider_calls (at_ms);
