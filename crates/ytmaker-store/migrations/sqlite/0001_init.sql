-- Timestamps are RFC 3339 UTC text and JSON is text, so the same queries run on SQLite and PostgreSQL.
CREATE TABLE projects (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    content            TEXT NOT NULL,
    status             TEXT NOT NULL,
    configuration      TEXT NOT NULL,
    config_template_id TEXT,
    prompt_template_id TEXT,
    prompt_content     TEXT,
    llm_model          TEXT,
    youtube_settings   TEXT,
    script             TEXT,
    youtube_video_id   TEXT,
    error_info         TEXT,
    batch_id           TEXT,
    trace_id           TEXT,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
CREATE INDEX projects_status_idx ON projects (status);
CREATE INDEX projects_created_idx ON projects (created_at);

-- segment_index is -1 for assets that belong to the whole project, so the unique key has no NULL.
CREATE TABLE assets (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    segment_index INTEGER NOT NULL,
    status        TEXT NOT NULL,
    path          TEXT,
    content_hash  TEXT,
    provider      TEXT,
    attempts      INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    metadata      TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (project_id, kind, segment_index)
);

CREATE TABLE project_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    payload    TEXT NOT NULL,
    trace_id   TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX project_events_project_idx ON project_events (project_id, seq);
