//! The retention clean-up (SPEC §4: intermediates kept forever, 7 or 30 days): the only place
//! that deletes a project's files on a schedule.
//!
//! Only COMPLETED and CANCELLED projects are touched, and only once their last change is older
//! than the policy's days. Those statuses are final, so nothing will ever continue from their
//! intermediates; a FAILED, PAUSED or running project keeps every file, because a resume or retry
//! continues from them and nothing paid for may be made twice. Only the intermediate folders go
//! ([`INTERMEDIATE_DIRS`]); `input.txt`, `script.json` and `output/` are never touched.
//!
//! Each clean-up is recorded in one transaction: the assets whose files went get `removed_at`
//! (the download route then answers `ASSET_FILE_REMOVED`), and the project gets a `retention`
//! event with the folders removed and the bytes freed. A sweep is idempotent: a folder that is
//! already gone is not an error, and a project with nothing left to remove records nothing.
//! A failure on one project (`FILE_SYSTEM_ERROR` with the path) is logged once, counted in
//! `ytmaker_retention_failures_total`, listed in the report's `failures`, and the sweep goes on
//! with the other projects — the caller decides what a non-empty `failures` means (the CLI exits
//! non-zero, the API answers it, the server's loop has already logged it).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;
use ytmaker_core::event::ProjectEvent;
use ytmaker_core::retention::Retention;
use ytmaker_core::{ErrorCode, ProjectStatus, TraceId, YtError, YtResult};
use ytmaker_store::{Asset, DataDir, FinishedProject, Store};

/// The folders of a project that the clean-up removes (see `ytmaker_store::ProjectDir`).
pub const INTERMEDIATE_DIRS: [&str; 5] = ["audio", "images", "avatar", "segments", "work"];

/// How often `ytmaker serve` sweeps (it also sweeps once at start-up).
pub const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(3600);

/// The stored policy, or the default (keep forever) when none was ever chosen.
pub async fn policy(store: &Store) -> YtResult<Retention> {
    match store.setting(Retention::SETTING_KEY).await? {
        None => Ok(Retention::default()),
        Some(stored) => Retention::from_json(&stored.value).map_err(|_| {
            YtError::new(
                ErrorCode::DATABASE_ERROR,
                format!("stored retention setting is not valid: {}", stored.value),
            )
            .detail("column", "settings.value")
            .detail("key", Retention::SETTING_KEY)
        }),
    }
}

/// Stores a new policy; the next sweep applies it.
pub async fn set_policy(store: &Store, retention: Retention) -> YtResult<()> {
    store
        .put_setting(
            Retention::SETTING_KEY,
            &Value::String(retention.to_string()),
        )
        .await?;
    tracing::info!(retention = %retention, "retention policy changed");
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepMode {
    /// Delete and record.
    Delete,
    /// Only measure what would be deleted.
    DryRun,
}

/// What one sweep did (or, dry, would do).
#[derive(Debug, Clone, Serialize)]
pub struct SweepReport {
    pub policy: Retention,
    pub dry_run: bool,
    /// Projects that finished before this time were considered; `None` when the policy keeps
    /// everything.
    pub cutoff: Option<String>,
    /// Projects whose intermediates were (or would be) removed.
    pub projects: Vec<ProjectSweep>,
    pub bytes_freed: u64,
    /// Projects the sweep could not clean; each was logged and counted.
    pub failures: Vec<SweepFailure>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectSweep {
    pub project_id: Uuid,
    pub status: ProjectStatus,
    pub finished_at: String,
    /// Folder names (of [`INTERMEDIATE_DIRS`]) removed.
    pub removed: Vec<String>,
    pub bytes_freed: u64,
    /// Asset rows marked as having no file any more.
    pub assets: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SweepFailure {
    pub project_id: Uuid,
    pub code: ErrorCode,
    pub message: String,
    pub details: Map<String, Value>,
}

/// [`sweep`] as of this moment.
pub async fn sweep_now(
    store: &Store,
    data: &DataDir,
    mode: SweepMode,
    trace: &TraceId,
) -> YtResult<SweepReport> {
    sweep(store, data, Utc::now(), mode, trace).await
}

/// Applies the stored policy to every finished project, as of `now` (a parameter so tests can
/// look days ahead instead of back-dating rows).
pub async fn sweep(
    store: &Store,
    data: &DataDir,
    now: DateTime<Utc>,
    mode: SweepMode,
    trace: &TraceId,
) -> YtResult<SweepReport> {
    let policy = policy(store).await?;
    let mut report = SweepReport {
        policy,
        dry_run: mode == SweepMode::DryRun,
        cutoff: None,
        projects: Vec::new(),
        bytes_freed: 0,
        failures: Vec::new(),
    };
    let Some(days) = policy.days() else {
        return Ok(report);
    };
    let cutoff = (now - chrono::Duration::days(i64::from(days)))
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    for project in store.finished_before(&cutoff).await? {
        match sweep_project(store, data, &project, policy, mode, trace).await {
            Ok(Some(done)) => {
                report.bytes_freed += done.bytes_freed;
                report.projects.push(done);
            }
            Ok(None) => {}
            Err(err) => {
                let details = Value::Object(err.details.clone()).to_string();
                tracing::error!(
                    project_id = %project.id,
                    error_code = %err.code,
                    details = details.as_str(),
                    "retention clean-up failed for a project: {}",
                    err.message
                );
                metrics::counter!(ytmaker_core::metric::RETENTION_FAILURES_TOTAL).increment(1);
                report.failures.push(SweepFailure {
                    project_id: project.id,
                    code: err.code,
                    message: err.message,
                    details: err.details,
                });
            }
        }
    }
    report.cutoff = Some(cutoff);
    if mode == SweepMode::Delete {
        metrics::counter!(ytmaker_core::metric::RETENTION_BYTES_FREED_TOTAL)
            .increment(report.bytes_freed);
        if !report.projects.is_empty() || !report.failures.is_empty() {
            tracing::info!(
                retention = %policy,
                projects = report.projects.len(),
                bytes_freed = report.bytes_freed,
                failures = report.failures.len(),
                "retention sweep removed intermediate files"
            );
        }
    }
    Ok(report)
}

/// Removes one project's intermediates. What was removed before a failure is still recorded,
/// then the failure is returned.
async fn sweep_project(
    store: &Store,
    data: &DataDir,
    project: &FinishedProject,
    policy: Retention,
    mode: SweepMode,
    trace: &TraceId,
) -> YtResult<Option<ProjectSweep>> {
    let root = data.project(project.id).root().to_owned();
    let mut removed = Vec::new();
    let mut bytes_freed = 0;
    let mut failure = None;
    for name in INTERMEDIATE_DIRS {
        let path = root.join(name);
        match remove_tree(path, mode).await {
            Ok(Some(bytes)) => {
                removed.push(name.to_owned());
                bytes_freed += bytes;
            }
            Ok(None) => {}
            Err(err) => {
                failure = Some(err.detail("project_id", project.id.to_string()));
                break;
            }
        }
    }
    // Assets in a removed folder, and (after an earlier sweep whose record failed) assets in an
    // intermediate folder whose file is gone: neither may claim a file any more.
    let gone: BTreeSet<&str> = removed.iter().map(String::as_str).collect();
    let assets: Vec<Uuid> = store
        .assets(project.id)
        .await?
        .iter()
        .filter(|a| a.removed_at.is_none())
        .filter(|a| match intermediate_folder(a) {
            Some(folder) => gone.contains(folder) || !file_exists(&root, a),
            None => false,
        })
        .map(|a| a.id)
        .collect();
    if removed.is_empty() && assets.is_empty() {
        return failure.map_or(Ok(None), Err);
    }
    if mode == SweepMode::Delete {
        let event = ProjectEvent::Retention {
            policy: policy.as_str().to_owned(),
            removed: removed.iter().map(|r| r.to_string()).collect(),
            bytes_freed,
            assets: assets.len(),
            finished_at: project.finished_at.clone(),
        };
        store
            .record_files_removed(project.id, &assets, &event, trace)
            .await?;
        tracing::info!(
            project_id = %project.id,
            bytes_freed,
            removed = %removed.join(","),
            "intermediate files removed by the retention policy"
        );
    }
    match failure {
        Some(err) => Err(err),
        None => Ok(Some(ProjectSweep {
            project_id: project.id,
            status: project.status,
            finished_at: project.finished_at.clone(),
            removed,
            bytes_freed,
            assets: assets.len(),
        })),
    }
}

/// The intermediate folder an asset's file is in, if it is in one.
fn intermediate_folder(asset: &Asset) -> Option<&'static str> {
    let first = Path::new(asset.path.as_deref()?).components().next()?;
    INTERMEDIATE_DIRS
        .into_iter()
        .find(|d| first.as_os_str() == std::ffi::OsStr::new(d))
}

fn file_exists(root: &Path, asset: &Asset) -> bool {
    asset
        .path
        .as_deref()
        .is_some_and(|p| root.join(p).symlink_metadata().is_ok())
}

/// Measures and (unless dry) deletes `path`; `None` when it does not exist.
async fn remove_tree(path: PathBuf, mode: SweepMode) -> YtResult<Option<u64>> {
    tokio::task::spawn_blocking(move || {
        match path.symlink_metadata() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(YtError::io("inspect", &path, &e)),
            Ok(_) => {}
        }
        let bytes = size_of_tree(&path)?;
        if mode == SweepMode::Delete {
            match std::fs::remove_dir_all(&path) {
                Ok(()) => {}
                // Removed by someone else meanwhile (a concurrent sweep): the goal is reached.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(delete_error(&path, &e)),
            }
        }
        Ok(Some(bytes))
    })
    .await
    .map_err(crate::stages::panicked)?
}

/// A failed deletion is a file-system error with the path (a missing file is not a failure).
fn delete_error(path: &Path, err: &std::io::Error) -> YtError {
    let mut e = YtError::io("delete", path, err);
    if e.code != ErrorCode::DISK_SPACE_INSUFFICIENT {
        e.code = ErrorCode::FILE_SYSTEM_ERROR;
    }
    e
}

/// Bytes of the files below `path`, without following symbolic links.
fn size_of_tree(path: &Path) -> YtResult<u64> {
    let meta = path
        .symlink_metadata()
        .map_err(|e| YtError::io("inspect", path, &e))?;
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    let mut total = 0;
    let entries = std::fs::read_dir(path).map_err(|e| YtError::io("list", path, &e))?;
    for entry in entries {
        let entry = entry.map_err(|e| YtError::io("list", path, &e))?;
        total += size_of_tree(&entry.path())?;
    }
    Ok(total)
}
