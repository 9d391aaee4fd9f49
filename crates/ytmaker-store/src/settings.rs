//! The `settings` table (key → JSON value) and what the retention clean-up records: which
//! finished projects are old enough, and which asset files it removed.

use serde_json::Value;
use sqlx::Row;
use uuid::Uuid;
use ytmaker_core::error::now_rfc3339;
use ytmaker_core::event::ProjectEvent;
use ytmaker_core::{ErrorCode, ProjectStatus, TraceId, YtError, YtResult};

use crate::{Store, db_err, insert_event};

/// One stored setting.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Setting {
    pub key: String,
    pub value: Value,
    pub updated_at: String,
}

/// A COMPLETED or CANCELLED project and when it finished (its last change).
#[derive(Debug, Clone)]
pub struct FinishedProject {
    pub id: Uuid,
    pub status: ProjectStatus,
    pub finished_at: String,
}

impl Store {
    /// The stored value of `key`, or `None` when it was never set (the caller's default applies).
    pub async fn setting(&self, key: &str) -> YtResult<Option<Setting>> {
        let row = sqlx::query("SELECT key, value, updated_at FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("read a setting", e))?;
        let Some(row) = row else { return Ok(None) };
        let raw: String = row
            .try_get("value")
            .map_err(|e| db_err("read a setting", e))?;
        let value = serde_json::from_str(&raw).map_err(|_| {
            YtError::new(
                ErrorCode::DATABASE_ERROR,
                format!("stored setting {key} is not valid JSON: {raw:.80}"),
            )
            .detail("column", "settings.value")
            .detail("key", key)
        })?;
        Ok(Some(Setting {
            key: key.to_owned(),
            value,
            updated_at: row
                .try_get("updated_at")
                .map_err(|e| db_err("read a setting", e))?,
        }))
    }

    /// Stores `value` under `key`, replacing what was there.
    pub async fn put_setting(&self, key: &str, value: &Value) -> YtResult<Setting> {
        let now = now_rfc3339();
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = $3",
        )
        .bind(key)
        .bind(value.to_string())
        .bind(&now)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("store a setting", e))?;
        Ok(Setting {
            key: key.to_owned(),
            value: value.clone(),
            updated_at: now,
        })
    }

    /// COMPLETED and CANCELLED projects whose last change is before `before` (RFC 3339 UTC, the
    /// format every timestamp is stored in, so text order is time order). FAILED, PAUSED and
    /// running projects are never listed: their files are what a resume or retry continues from.
    pub async fn finished_before(&self, before: &str) -> YtResult<Vec<FinishedProject>> {
        let rows = sqlx::query(
            "SELECT id, status, updated_at FROM projects \
             WHERE status IN ($1, $2) AND updated_at < $3 ORDER BY updated_at, id",
        )
        .bind(ProjectStatus::Completed.as_str())
        .bind(ProjectStatus::Cancelled.as_str())
        .bind(before)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("list finished projects", e))?;
        rows.iter()
            .map(|row| {
                let read = |e| db_err("list finished projects", e);
                let id: String = row.try_get("id").map_err(read)?;
                let status: String = row.try_get("status").map_err(read)?;
                Ok(FinishedProject {
                    id: Uuid::parse_str(&id).map_err(|_| corrupt("id", &id))?,
                    status: ProjectStatus::parse(&status)
                        .ok_or_else(|| corrupt("status", &status))?,
                    finished_at: row.try_get("updated_at").map_err(read)?,
                })
            })
            .collect()
    }

    /// Records in one transaction that the retention clean-up deleted files of `project`: the
    /// given assets are marked `removed_at` (they keep their row, not their claim to a file) and
    /// `event` (a `retention` event) is appended. Returns the event's sequence number.
    pub async fn record_files_removed(
        &self,
        project: Uuid,
        assets: &[Uuid],
        event: &ProjectEvent,
        trace: &TraceId,
    ) -> YtResult<i64> {
        let now = now_rfc3339();
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("begin a transaction", e))?;
        for asset in assets {
            sqlx::query(
                "UPDATE assets SET removed_at = $1, updated_at = $1 \
                 WHERE id = $2 AND project_id = $3 AND removed_at IS NULL",
            )
            .bind(&now)
            .bind(asset.to_string())
            .bind(project.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("mark an asset's file removed", e))?;
        }
        let seq = insert_event(&mut tx, project, event, trace).await?;
        tx.commit()
            .await
            .map_err(|e| db_err("commit a retention record", e))?;
        Ok(seq)
    }
}

fn corrupt(column: &str, value: &str) -> YtError {
    YtError::new(
        ErrorCode::DATABASE_ERROR,
        format!("stored {column} is not valid: {value:.80}"),
    )
    .detail("column", column)
}
