//! The linked YouTube accounts (SPEC §4 `youtube_accounts`): one row per channel, at most one of
//! them the default. The rows hold what may be shown; each account's OAuth tokens stay encrypted
//! in the key store under [`crate::youtube_secret_name`].

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use ytmaker_core::error::now_rfc3339;
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::{Store, db_err};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct YoutubeAccount {
    pub channel_id: String,
    pub channel_title: String,
    /// RFC 3339 UTC: when the account was last linked (a re-link renews it).
    pub linked_at: String,
    pub is_default: bool,
}

fn from_row(row: &AnyRow) -> YtResult<YoutubeAccount> {
    let read = |e| db_err("read a YouTube account", e);
    Ok(YoutubeAccount {
        channel_id: row.try_get("channel_id").map_err(read)?,
        channel_title: row.try_get("channel_title").map_err(read)?,
        linked_at: row.try_get("linked_at").map_err(read)?,
        is_default: row.try_get::<i64, _>("is_default").map_err(read)? != 0,
    })
}

/// `NOT_FOUND` naming the channel that is not linked.
pub fn account_not_found(channel_id: &str) -> YtError {
    YtError::new(
        ErrorCode::NOT_FOUND,
        format!("no linked YouTube account has the channel id {channel_id:?}"),
    )
    .detail("youtube_account", channel_id)
}

const COLUMNS: &str = "channel_id, channel_title, linked_at, is_default";

impl Store {
    /// Records a linked account, or renews the title and link time of one linked before (its
    /// default flag is kept). The first account linked becomes the default.
    pub async fn link_youtube_account(
        &self,
        channel_id: &str,
        channel_title: &str,
    ) -> YtResult<YoutubeAccount> {
        sqlx::query(
            "INSERT INTO youtube_accounts (channel_id, channel_title, linked_at, is_default) \
             VALUES ($1, $2, $3, CASE WHEN EXISTS \
                 (SELECT 1 FROM youtube_accounts WHERE is_default = 1) THEN 0 ELSE 1 END) \
             ON CONFLICT (channel_id) DO UPDATE \
             SET channel_title = excluded.channel_title, linked_at = excluded.linked_at",
        )
        .bind(channel_id)
        .bind(channel_title)
        .bind(now_rfc3339())
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("record a linked YouTube account", e))?;
        self.youtube_account(channel_id)
            .await?
            .ok_or_else(|| account_not_found(channel_id))
    }

    /// Every linked account, the earliest linked first.
    pub async fn youtube_accounts(&self) -> YtResult<Vec<YoutubeAccount>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM youtube_accounts ORDER BY linked_at, channel_id"
        )))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("list the YouTube accounts", e))?;
        rows.iter().map(from_row).collect()
    }

    pub async fn youtube_account(&self, channel_id: &str) -> YtResult<Option<YoutubeAccount>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM youtube_accounts WHERE channel_id = $1"
        )))
        .bind(channel_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("read a YouTube account", e))?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn default_youtube_account(&self) -> YtResult<Option<YoutubeAccount>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM youtube_accounts WHERE is_default = 1"
        )))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("read the default YouTube account", e))?;
        row.as_ref().map(from_row).transpose()
    }

    /// Makes `channel_id` the default account; `NOT_FOUND` when it is not linked.
    pub async fn set_default_youtube_account(&self, channel_id: &str) -> YtResult<YoutubeAccount> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("begin a transaction", e))?;
        // The transaction writes first: on SQLite a transaction that reads and then writes
        // cannot wait for another writer ("database is locked" at once, whatever the busy
        // timeout), while one that starts by writing waits its turn.
        sqlx::query(
            "UPDATE youtube_accounts SET is_default = 0 \
             WHERE is_default = 1 AND EXISTS (SELECT 1 FROM youtube_accounts WHERE channel_id = $1)",
        )
        .bind(channel_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("change the default YouTube account", e))?;
        let chosen =
            sqlx::query("UPDATE youtube_accounts SET is_default = 1 WHERE channel_id = $1")
                .bind(channel_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| db_err("change the default YouTube account", e))?
                .rows_affected();
        if chosen == 0 {
            // Not linked: the first statement's EXISTS was false, so it changed nothing.
            return Err(account_not_found(channel_id));
        }
        tx.commit()
            .await
            .map_err(|e| db_err("commit the default YouTube account", e))?;
        self.youtube_account(channel_id)
            .await?
            .ok_or_else(|| account_not_found(channel_id))
    }

    /// Forgets an account's row (`NOT_FOUND` when it is not linked). When it was the default,
    /// the earliest linked of the others becomes the default, so a default exists whenever any
    /// account does. Returns the new default, if any.
    pub async fn remove_youtube_account(
        &self,
        channel_id: &str,
    ) -> YtResult<Option<YoutubeAccount>> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("begin a transaction", e))?;
        let removed = sqlx::query("DELETE FROM youtube_accounts WHERE channel_id = $1")
            .bind(channel_id)
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("remove a YouTube account", e))?
            .rows_affected();
        if removed == 0 {
            return Err(account_not_found(channel_id));
        }
        sqlx::query(
            "UPDATE youtube_accounts SET is_default = 1 \
             WHERE NOT EXISTS (SELECT 1 FROM youtube_accounts WHERE is_default = 1) \
             AND channel_id = (SELECT channel_id FROM youtube_accounts \
                               ORDER BY linked_at, channel_id LIMIT 1)",
        )
        .execute(&mut *tx)
        .await
        .map_err(|e| db_err("choose another default YouTube account", e))?;
        tx.commit()
            .await
            .map_err(|e| db_err("commit the removal of a YouTube account", e))?;
        self.default_youtube_account().await
    }
}
