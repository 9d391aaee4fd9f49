-- Settings the user changes at run time (SPEC §4 `settings`), one row per key with a JSON value:
-- today `retention` ("forever" | "7d" | "30d"). A missing row means the default.
CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- When the retention clean-up deleted an asset's file (RFC 3339 UTC); NULL while the file is kept.
-- The row stays (it records what was made and paid for) but no longer claims a file.
ALTER TABLE assets ADD COLUMN removed_at TEXT;
