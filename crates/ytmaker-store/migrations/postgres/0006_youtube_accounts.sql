-- The linked YouTube accounts, one row per channel. Their OAuth tokens are not here: they stay
-- encrypted in the key store under `youtube:<channel_id>`. linked_at is RFC 3339 UTC text.
-- At most one account is the default (the one a project without a chosen account uploads with);
-- the partial unique index makes the database refuse a second one.
CREATE TABLE youtube_accounts (
    channel_id     TEXT PRIMARY KEY,
    channel_title  TEXT NOT NULL,
    linked_at      TEXT NOT NULL,
    is_default     BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX youtube_accounts_one_default ON youtube_accounts (is_default) WHERE is_default = 1;
