//! Persistence for ytmaker: projects, assets and the append-only project event log, over sqlx's
//! `Any` driver so the same queries run on SQLite (default, one file in the data directory, WAL)
//! and PostgreSQL (`postgres://…`, for several hosts). Also the on-disk layout of a project's files.
//!
//! Invariant: status changes go through [`Store::set_status`] / [`Store::fail_project`], which ask
//! the state machine in `ytmaker_core::status` and write with a compare-and-set, so two writers can
//! never both move a project.

mod alerts;
mod jobs;
mod layout;
mod provider_calls;
mod records;
mod secrets;
mod settings;
mod templates;
mod youtube_accounts;

pub use alerts::{Alert, AlertState, Delivery, NewAlert, Notice};
pub use jobs::{Job, JobQueue, JobState, Lease, LeaseHolder, QueueStats, StopRequest, now_ms};
pub use layout::{DataDir, ProjectDir};
pub use provider_calls::{ProviderCall, ProviderUsage};
pub use records::{
    Asset, Event, NewProject, Project, ProjectFilter, ProjectSettings, ProjectSort, ProjectSummary,
};
pub use secrets::{
    IDENTITY_ENV, LEGACY_YOUTUBE_SECRET, LLM_KEY_SERVER, SECRET_NAMES, SecretHint, SecretStore,
    youtube_secret_name,
};
pub use settings::{FinishedProject, Setting};
pub use templates::{ConfigTemplate, PromptTemplate};
pub use youtube_accounts::{YoutubeAccount, account_not_found};

use serde_json::Value;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetStatus};
use ytmaker_core::error::now_rfc3339;
use ytmaker_core::event::ProjectEvent;
use ytmaker_core::script::Script;
use ytmaker_core::{ErrorCode, ErrorInfo, ProjectStatus, TraceId, YtError, YtResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

pub(crate) fn db_err(operation: &str, err: sqlx::Error) -> YtError {
    YtError::new(
        ErrorCode::DATABASE_ERROR,
        format!("database error while trying to {operation}: {err}"),
    )
    .detail("operation", operation)
    .detail("driver_message", err.to_string())
}

pub(crate) fn json_err(what: &str, err: serde_json::Error) -> YtError {
    YtError::new(
        ErrorCode::DATABASE_ERROR,
        format!("stored {what} is not valid JSON: {err}"),
    )
    .detail("column", what)
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    pub async fn open(url: &str) -> YtResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(YtError::invalid_field(
                ErrorCode::CONFIG_INVALID,
                "database_url",
                "sqlite:… or postgres://…",
                Value::String(redact_url(url)),
            ));
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(std::time::Duration::from_secs(10));
        if backend == Backend::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    // WAL lets readers (the CLI, the UI) work while a render writes; the busy
                    // timeout makes concurrent writers wait instead of failing at once.
                    sqlx::query("PRAGMA journal_mode = WAL")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA busy_timeout = 10000")
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query("PRAGMA foreign_keys = ON")
                        .execute(&mut *conn)
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(url).await.map_err(|e| {
            db_err("connect to the database", e).detail("database", redact_url(url))
        })?;
        let migrated = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await,
        };
        migrated.map_err(|e| {
            YtError::new(
                ErrorCode::DATABASE_ERROR,
                format!("database migration failed: {e}"),
            )
            .detail("operation", "migrate")
        })?;
        let store = Store { pool, backend };
        store.seed_default_prompt().await?;
        Ok(store)
    }

    /// `sqlite://<path>?mode=rwc` for a file in the data directory.
    pub fn sqlite_url(path: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", path.display())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn ping(&self) -> YtResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("ping the database", e))?;
        Ok(())
    }

    // ---- projects ----

    pub async fn create_project(&self, new: &NewProject) -> YtResult<Project> {
        self.create_project_with(new, &ProjectSettings::default())
            .await
    }

    /// Creates a project with its settings (templates, prompt, model, YouTube settings) in one
    /// statement, so a failure leaves no half-made project behind. `settings.name` and
    /// `settings.configuration` are not read: `new` has them.
    pub async fn create_project_with(
        &self,
        new: &NewProject,
        settings: &ProjectSettings,
    ) -> YtResult<Project> {
        let id = Uuid::new_v4();
        let now = now_rfc3339();
        let config =
            serde_json::to_string(&new.configuration).map_err(|e| json_err("configuration", e))?;
        sqlx::query(
            "INSERT INTO projects (id, name, content, status, configuration, config_template_id, \
             prompt_template_id, prompt_content, llm_model, youtube_settings, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
        )
        .bind(id.to_string())
        .bind(&new.name)
        .bind(&new.content)
        .bind(ProjectStatus::Initialized.as_str())
        .bind(config)
        .bind(settings.config_template_id.map(|u| u.to_string()))
        .bind(settings.prompt_template_id.map(|u| u.to_string()))
        .bind(settings.prompt_content.clone())
        .bind(settings.llm_model.clone())
        .bind(settings.youtube_settings.as_ref().map(|v| v.to_string()))
        .bind(&now)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("create a project", e))?;
        self.get_project(id).await
    }

    pub async fn get_project(&self, id: Uuid) -> YtResult<Project> {
        let row = sqlx::query("SELECT * FROM projects WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| db_err("read a project", e))?;
        match row {
            Some(row) => Project::from_row(&row),
            None => Err(YtError::new(
                ErrorCode::PROJECT_NOT_FOUND,
                format!("no project with id {id}"),
            )
            .detail("project_id", id.to_string())),
        }
    }

    /// Finds a project by full id or by a unique id prefix (at least 4 characters), as users
    /// type them in the CLI.
    pub async fn find_project(&self, id_or_prefix: &str) -> YtResult<Project> {
        if let Ok(id) = Uuid::parse_str(id_or_prefix) {
            return self.get_project(id).await;
        }
        let not_found = || {
            YtError::new(
                ErrorCode::PROJECT_NOT_FOUND,
                format!("no project matches {id_or_prefix:?}"),
            )
            .detail("query", id_or_prefix)
        };
        let ok_prefix = id_or_prefix.len() >= 4
            && id_or_prefix
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == '-');
        if !ok_prefix {
            return Err(not_found());
        }
        let rows = sqlx::query("SELECT id FROM projects WHERE id LIKE $1 LIMIT 2")
            .bind(format!("{}%", id_or_prefix.to_ascii_lowercase()))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("find a project", e))?;
        match rows.as_slice() {
            [one] => {
                let id: String = one.try_get("id").map_err(|e| db_err("find a project", e))?;
                let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
                self.get_project(id).await
            }
            [] => Err(not_found()),
            _ => Err(YtError::new(
                ErrorCode::VALIDATION_ERROR,
                format!("{id_or_prefix:?} matches several projects; type more of the id"),
            )
            .detail("field", "project_id")
            .detail("rule", "unique prefix")),
        }
    }

    pub async fn list_projects(&self, filter: &ProjectFilter) -> YtResult<Vec<ProjectSummary>> {
        let order = format!(
            "ORDER BY {} {}, id",
            filter.sort.column(),
            if filter.descending { "DESC" } else { "ASC" }
        );
        let columns = "id, name, status, error_info, created_at, updated_at";
        let rows =
            match filter.status {
                Some(status) => sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {columns} FROM projects WHERE status = $1 {order} LIMIT $2 OFFSET $3"
                )))
                .bind(status.as_str())
                .bind(filter.limit as i64)
                .bind(filter.offset as i64)
                .fetch_all(&self.pool)
                .await,
                None => {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "SELECT {columns} FROM projects {order} LIMIT $1 OFFSET $2"
                    )))
                    .bind(filter.limit as i64)
                    .bind(filter.offset as i64)
                    .fetch_all(&self.pool)
                    .await
                }
            }
            .map_err(|e| db_err("list projects", e))?;
        rows.iter().map(ProjectSummary::from_row).collect()
    }

    pub async fn count_projects(&self, status: Option<ProjectStatus>) -> YtResult<i64> {
        let row = match status {
            Some(s) => {
                sqlx::query("SELECT COUNT(*) AS n FROM projects WHERE status = $1")
                    .bind(s.as_str())
                    .fetch_one(&self.pool)
                    .await
            }
            None => {
                sqlx::query("SELECT COUNT(*) AS n FROM projects")
                    .fetch_one(&self.pool)
                    .await
            }
        }
        .map_err(|e| db_err("count projects", e))?;
        row.try_get::<i64, _>("n")
            .map_err(|e| db_err("count projects", e))
    }

    /// Number of projects per status.
    pub async fn count_by_status(&self) -> YtResult<Vec<(ProjectStatus, i64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM projects GROUP BY status")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| db_err("count projects by status", e))?;
        let mut out = Vec::new();
        for row in rows {
            let raw: String = row
                .try_get("status")
                .map_err(|e| db_err("count projects by status", e))?;
            let n: i64 = row
                .try_get("n")
                .map_err(|e| db_err("count projects by status", e))?;
            let status = ProjectStatus::parse(&raw).ok_or_else(|| {
                YtError::new(
                    ErrorCode::DATABASE_ERROR,
                    format!("stored status is not valid: {raw:.80}"),
                )
                .detail("column", "status")
            })?;
            out.push((status, n));
        }
        Ok(out)
    }

    /// Records the id YouTube gave the published video.
    pub async fn set_youtube_video_id(&self, id: Uuid, video_id: &str) -> YtResult<()> {
        sqlx::query("UPDATE projects SET youtube_video_id = $1, updated_at = $2 WHERE id = $3")
            .bind(video_id)
            .bind(now_rfc3339())
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("record the YouTube video id", e))?;
        Ok(())
    }

    /// Changes the per-project settings. Only allowed while no run can be reading them (the
    /// caller checks the status and the queue).
    pub async fn update_project_settings(
        &self,
        id: Uuid,
        settings: &ProjectSettings,
    ) -> YtResult<Project> {
        let mut project = self.get_project(id).await?;
        let config = match &settings.configuration {
            Some(c) => c.clone(),
            None => project.configuration.clone(),
        };
        let config = serde_json::to_string(&config).map_err(|e| json_err("configuration", e))?;
        let youtube = match &settings.youtube_settings {
            Some(v) => Some(v.to_string()),
            None => project.youtube_settings.as_ref().map(|v| v.to_string()),
        };
        if let Some(name) = &settings.name {
            project.name = name.trim().to_owned();
        }
        let pick = |new: &Option<Uuid>, old: Option<Uuid>| new.or(old).map(|u| u.to_string());
        sqlx::query(
            "UPDATE projects SET name = $1, configuration = $2, config_template_id = $3, \
             prompt_template_id = $4, prompt_content = $5, llm_model = $6, youtube_settings = $7, \
             updated_at = $8 WHERE id = $9",
        )
        .bind(project.name)
        .bind(config)
        .bind(pick(
            &settings.config_template_id,
            project.config_template_id,
        ))
        .bind(pick(
            &settings.prompt_template_id,
            project.prompt_template_id,
        ))
        .bind(settings.prompt_content.clone().or(project.prompt_content))
        .bind(settings.llm_model.clone().or(project.llm_model))
        .bind(youtube)
        .bind(now_rfc3339())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("update a project's settings", e))?;
        self.get_project(id).await
    }

    /// Moves a project to `to` if the state machine allows it from the status it has now, and
    /// records the change in the event log. Entering a running status from FAILED clears
    /// `error_info` (the failure stays in the event log).
    pub async fn set_status(
        &self,
        id: Uuid,
        to: ProjectStatus,
        trace: &TraceId,
    ) -> YtResult<ProjectStatus> {
        self.set_status_with(id, to, &[], trace).await
    }

    /// [`Store::set_status`] and `events` (appended after the status event) in one transaction:
    /// a stage's end and what it produced are stored together or not at all, so a project is
    /// never COMPLETED without its `complete` event.
    pub async fn set_status_with(
        &self,
        id: Uuid,
        to: ProjectStatus,
        events: &[ProjectEvent],
        trace: &TraceId,
    ) -> YtResult<ProjectStatus> {
        let current = self.get_project(id).await?.status;
        current.transition(to)?;
        let clear_error = current == ProjectStatus::Failed && to.is_running();
        let sql = if clear_error {
            "UPDATE projects SET status = $1, updated_at = $2, trace_id = $3, error_info = NULL WHERE id = $4 AND status = $5"
        } else {
            "UPDATE projects SET status = $1, updated_at = $2, trace_id = $3 WHERE id = $4 AND status = $5"
        };
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("begin a transaction", e))?;
        let changed = sqlx::query(sql)
            .bind(to.as_str())
            .bind(now_rfc3339())
            .bind(trace.as_str())
            .bind(id.to_string())
            .bind(current.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("change a project's status", e))?
            .rows_affected();
        if changed != 1 {
            return Err(YtError::new(
                ErrorCode::INVALID_STATE_TRANSITION,
                format!("the project changed status while moving from {current} to {to}"),
            )
            .detail("from", current.as_str())
            .detail("to", to.as_str()));
        }
        let event = ProjectEvent::Status { from: current, to };
        insert_event(&mut tx, id, &event, trace).await?;
        for event in events {
            insert_event(&mut tx, id, event, trace).await?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("commit a status change", e))?;
        Ok(current)
    }

    /// Moves a project to FAILED with its `error_info`, and logs the error event. A project that
    /// is FAILED already (a retry that failed again before it could start) gets the new
    /// `error_info` and event, without a status change.
    pub async fn fail_project(&self, id: Uuid, info: &ErrorInfo) -> YtResult<()> {
        let current = self.get_project(id).await?.status;
        if current != ProjectStatus::Failed {
            current.transition(ProjectStatus::Failed)?;
        }
        let info_json = serde_json::to_string(info).map_err(|e| json_err("error_info", e))?;
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("begin a transaction", e))?;
        let changed = sqlx::query("UPDATE projects SET status = $1, error_info = $2, updated_at = $3 WHERE id = $4 AND status = $5")
            .bind(ProjectStatus::Failed.as_str())
            .bind(info_json)
            .bind(now_rfc3339())
            .bind(id.to_string())
            .bind(current.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_err("record a project failure", e))?
            .rows_affected();
        if changed != 1 {
            // Another writer moved the project since it was read; its status is not ours to
            // overwrite, and the failure must not be reported as recorded.
            return Err(YtError::new(
                ErrorCode::INVALID_STATE_TRANSITION,
                format!("the project left {current} while its failure was being recorded"),
            )
            .detail("from", current.as_str())
            .detail("to", ProjectStatus::Failed.as_str()));
        }
        insert_event(
            &mut tx,
            id,
            &ProjectEvent::Error(info.clone()),
            &info.trace_id,
        )
        .await?;
        if current != ProjectStatus::Failed {
            let status = ProjectEvent::Status {
                from: current,
                to: ProjectStatus::Failed,
            };
            insert_event(&mut tx, id, &status, &info.trace_id).await?;
        }
        tx.commit()
            .await
            .map_err(|e| db_err("commit a project failure", e))?;
        Ok(())
    }

    pub async fn save_script(&self, id: Uuid, script: &Script) -> YtResult<()> {
        let json = serde_json::to_string(script).map_err(|e| json_err("script", e))?;
        sqlx::query("UPDATE projects SET script = $1, name = CASE WHEN name = '' THEN $2 ELSE name END, updated_at = $3 WHERE id = $4")
            .bind(json)
            .bind(&script.title)
            .bind(now_rfc3339())
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("save the script", e))?;
        Ok(())
    }

    pub async fn delete_project(&self, id: Uuid) -> YtResult<()> {
        sqlx::query("DELETE FROM projects WHERE id = $1")
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("delete a project", e))?;
        Ok(())
    }

    // ---- assets ----

    pub async fn asset(&self, project: Uuid, key: AssetKey) -> YtResult<Option<Asset>> {
        let row = sqlx::query(
            "SELECT * FROM assets WHERE project_id = $1 AND kind = $2 AND segment_index = $3",
        )
        .bind(project.to_string())
        .bind(key.kind.as_str())
        .bind(index_column(key))
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| db_err("read an asset", e))?;
        row.as_ref().map(Asset::from_row).transpose()
    }

    pub async fn assets(&self, project: Uuid) -> YtResult<Vec<Asset>> {
        let rows =
            sqlx::query("SELECT * FROM assets WHERE project_id = $1 ORDER BY kind, segment_index")
                .bind(project.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(|e| db_err("list assets", e))?;
        rows.iter().map(Asset::from_row).collect()
    }

    /// Marks an asset GENERATING and counts the attempt (creating the row on first use).
    pub async fn begin_asset(
        &self,
        project: Uuid,
        key: AssetKey,
        provider: &str,
    ) -> YtResult<Asset> {
        let now = now_rfc3339();
        sqlx::query(
            "INSERT INTO assets (id, project_id, kind, segment_index, status, provider, attempts, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7) \
             ON CONFLICT (project_id, kind, segment_index) DO UPDATE SET \
             status = $5, provider = $6, attempts = assets.attempts + 1, error = NULL, removed_at = NULL, updated_at = $7",
        )
        .bind(Uuid::new_v4().to_string())
        .bind(project.to_string())
        .bind(key.kind.as_str())
        .bind(index_column(key))
        .bind(AssetStatus::Generating.as_str())
        .bind(provider)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("start an asset", e))?;
        self.asset(project, key).await?.ok_or_else(|| {
            YtError::new(
                ErrorCode::DATABASE_ERROR,
                "asset row vanished right after it was written",
            )
            .detail("kind", key.kind.as_str())
        })
    }

    pub async fn complete_asset(
        &self,
        project: Uuid,
        key: AssetKey,
        path: &str,
        content_hash: &str,
        metadata: &Value,
    ) -> YtResult<()> {
        self.finish_asset(
            project,
            key,
            AssetStatus::Completed,
            Some(path),
            Some(content_hash),
            None,
            Some(metadata),
        )
        .await
    }

    /// Completes an asset a run made and appends its `asset` event in the same transaction, so
    /// the event log never lacks a completion the asset table holds (a run dropped between two
    /// writes, when its lease could not be renewed, left exactly that). Returns the asset's
    /// attempts.
    pub async fn complete_asset_with_event(
        &self,
        project: Uuid,
        key: AssetKey,
        path: &str,
        content_hash: &str,
        metadata: &Value,
        trace: &TraceId,
    ) -> YtResult<u32> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("begin a transaction", e))?;
        let row = sqlx::query(
            "UPDATE assets SET status = $1, path = $2, content_hash = $3, error = NULL, \
             metadata = $4, updated_at = $5 \
             WHERE project_id = $6 AND kind = $7 AND segment_index = $8 RETURNING attempts",
        )
        .bind(AssetStatus::Completed.as_str())
        .bind(path)
        .bind(content_hash)
        .bind(metadata.to_string())
        .bind(now_rfc3339())
        .bind(project.to_string())
        .bind(key.kind.as_str())
        .bind(index_column(key))
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_err("finish an asset", e))?
        .ok_or_else(|| {
            YtError::new(
                ErrorCode::DATABASE_ERROR,
                "asset was finished without being started",
            )
            .detail("kind", key.kind.as_str())
            .detail("segment_index", index_column(key))
        })?;
        let attempts: i64 = row
            .try_get("attempts")
            .map_err(|e| db_err("finish an asset", e))?;
        let attempts = u32::try_from(attempts).unwrap_or(u32::MAX);
        let event = ProjectEvent::Asset {
            kind: key.kind,
            index: key.index,
            status: ytmaker_core::event::AssetState::Completed,
            attempts,
        };
        insert_event(&mut tx, project, &event, trace).await?;
        tx.commit()
            .await
            .map_err(|e| db_err("commit a completed asset", e))?;
        Ok(attempts)
    }

    pub async fn fail_asset(
        &self,
        project: Uuid,
        key: AssetKey,
        error: &ErrorInfo,
    ) -> YtResult<()> {
        let err = serde_json::to_value(error).map_err(|e| json_err("asset error", e))?;
        self.finish_asset(
            project,
            key,
            AssetStatus::Failed,
            None,
            None,
            Some(&err),
            None,
        )
        .await
    }

    /// Sets an asset back to PENDING so the next run makes it again (partial re-generation).
    pub async fn invalidate_asset(&self, project: Uuid, key: AssetKey) -> YtResult<()> {
        sqlx::query("UPDATE assets SET status = $1, updated_at = $2 WHERE project_id = $3 AND kind = $4 AND segment_index = $5")
            .bind(AssetStatus::Pending.as_str())
            .bind(now_rfc3339())
            .bind(project.to_string())
            .bind(key.kind.as_str())
            .bind(index_column(key))
            .execute(&self.pool)
            .await
            .map_err(|e| db_err("invalidate an asset", e))?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish_asset(
        &self,
        project: Uuid,
        key: AssetKey,
        status: AssetStatus,
        path: Option<&str>,
        hash: Option<&str>,
        error: Option<&Value>,
        metadata: Option<&Value>,
    ) -> YtResult<()> {
        let changed = sqlx::query(
            "UPDATE assets SET status = $1, path = COALESCE($2, path), content_hash = COALESCE($3, content_hash), \
             error = $4, metadata = COALESCE($5, metadata), updated_at = $6 \
             WHERE project_id = $7 AND kind = $8 AND segment_index = $9",
        )
        .bind(status.as_str())
        .bind(path)
        .bind(hash)
        .bind(error.map(Value::to_string))
        .bind(metadata.map(Value::to_string))
        .bind(now_rfc3339())
        .bind(project.to_string())
        .bind(key.kind.as_str())
        .bind(index_column(key))
        .execute(&self.pool)
        .await
        .map_err(|e| db_err("finish an asset", e))?
        .rows_affected();
        if changed != 1 {
            return Err(YtError::new(
                ErrorCode::DATABASE_ERROR,
                "asset was finished without being started",
            )
            .detail("kind", key.kind.as_str())
            .detail("segment_index", index_column(key)));
        }
        Ok(())
    }

    // ---- events ----

    pub async fn append_event(
        &self,
        project: Uuid,
        event: &ProjectEvent,
        trace: &TraceId,
    ) -> YtResult<i64> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| db_err("begin a transaction", e))?;
        let seq = insert_event(&mut tx, project, event, trace).await?;
        tx.commit()
            .await
            .map_err(|e| db_err("commit an event", e))?;
        Ok(seq)
    }

    pub async fn events_since(&self, project: Uuid, after_seq: i64) -> YtResult<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT * FROM project_events WHERE project_id = $1 AND seq > $2 ORDER BY seq",
        )
        .bind(project.to_string())
        .bind(after_seq)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| db_err("read project events", e))?;
        rows.iter().map(Event::from_row).collect()
    }
}

pub(crate) async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    project: Uuid,
    event: &ProjectEvent,
    trace: &TraceId,
) -> YtResult<i64> {
    let payload = event.payload()?;
    let row: AnyRow = sqlx::query(
        "INSERT INTO project_events (project_id, kind, payload, trace_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING seq",
    )
    .bind(project.to_string())
    .bind(event.kind().as_str())
    .bind(payload.to_string())
    .bind(trace.as_str())
    .bind(now_rfc3339())
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| db_err("append a project event", e))?;
    row.try_get::<i64, _>("seq")
        .map_err(|e| db_err("append a project event", e))
}

fn index_column(key: AssetKey) -> i64 {
    key.index.map_or(-1, i64::from)
}

/// A database URL without its password, safe for logs and error details.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{}:***@{}", &url[..scheme_end + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}
