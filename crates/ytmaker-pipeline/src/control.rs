//! What a user may ask of a project — start, pause, resume, cancel, retry — checked against the
//! state machine and turned into queue operations. The API calls these; it never writes status.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Notify;
use uuid::Uuid;
use ytmaker_core::{ErrorCode, ProjectStatus, TraceId, YtError, YtResult};
use ytmaker_store::{JobQueue, JobState, Project, StopRequest, Store};

use ytmaker_render::Toolchain;
use ytmaker_store::DataDir;

use crate::Providers;
use crate::quota::QuotaCheck;

/// What a start, resume or retry is checked against before anything is queued: the cloud
/// access and quota limits, where the project's files are, and the local tools.
#[derive(Clone)]
pub struct StartCheck {
    pub quotas: QuotaCheck,
    pub data: DataDir,
    pub tools: Toolchain,
}

/// Checks everything a run of `project` needs that can be known before anything is paid for,
/// and refuses with the first problem's own code: the providers its configuration names can be
/// built (a missing key is `PROVIDER_KEY_MISSING`), the files it names exist (the logo, the
/// presenter's portrait), the narrator can work (`Narrator::check`), and the quotas cover the
/// run (`QUOTA_INSUFFICIENT`). The CLI runs it too, so a run refused here never starts.
pub async fn check_ready(
    check: &StartCheck,
    store: &Store,
    project: &Project,
    trace: &TraceId,
) -> YtResult<()> {
    // A provider asked for its balance or a voice list here is asked on this project's behalf.
    let cloud = check.quotas.cloud.for_run(store, project.id, trace);
    // Quotas first: a run that could not be paid for today is refused as such, whatever else
    // is missing.
    crate::quota::check_start(store, &cloud, &check.quotas.limits, project).await?;
    let providers = Providers::for_project(project, &check.tools, &cloud, store)?;
    let cfg = &project.configuration;
    if let Some(logo) = &cfg.logo {
        crate::logos::logo_for_render(&check.data, logo).await?;
    }
    if cfg.presenter.enabled
        && let Some(portrait) = &cfg.presenter.portrait
    {
        tokio::fs::metadata(portrait)
            .await
            .map_err(|e| YtError::io("read the presenter portrait", portrait, &e))?;
    }
    if let Err(err) = providers.narrator.check().await {
        // A transient failure (a timeout, a 503) is the run's to retry under the code's policy;
        // refusing the start for it would turn a retryable error into a final one.
        if !err.code.spec().retry.is_retryable() {
            return Err(err);
        }
        tracing::warn!(project_id = %project.id, error_code = %err.code, "the narrator check failed with a retryable error; the run will retry it: {}", err.message);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Start,
    Pause,
    Resume,
    Cancel,
    Retry,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Cancel => "cancel",
            Action::Retry => "retry",
        }
    }
}

/// What happened to the request.
#[derive(Debug, Clone, Serialize)]
pub struct ActionOutcome {
    pub action: Action,
    /// `queued` (a worker will run it), `requested` (the worker running it will stop after the
    /// current step), or `done` (applied at once).
    pub result: &'static str,
    pub project: Project,
}

/// Wakes idle workers of this process when work is queued, so a job starts without waiting for
/// the next poll. Workers in other processes find it by polling.
#[derive(Clone, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    pub fn notify(&self) {
        self.0.notify_waiters();
    }

    pub async fn wait(&self) {
        self.0.notified().await;
    }
}

fn refused(project: &Project, action: Action, why: &str) -> YtError {
    YtError::new(
        ErrorCode::INVALID_STATE_TRANSITION,
        format!(
            "cannot {} a project that is {}: {why}",
            action.as_str(),
            project.status
        ),
    )
    .detail("action", action.as_str())
    .detail("status", project.status.as_str())
    .detail("project_id", project.id.to_string())
}

/// Applies `action` to project `id`. A start, resume or retry is refused before anything is
/// queued when [`check_ready`] finds a problem (a missing key, a missing file, a short quota).
pub async fn apply(
    store: &Store,
    wakeup: &Wakeup,
    check: &StartCheck,
    id: Uuid,
    action: Action,
    trace: &TraceId,
) -> YtResult<ActionOutcome> {
    let project = store.get_project(id).await?;
    let live = store.live_job(id).await?;
    let result = match action {
        Action::Start | Action::Resume | Action::Retry => {
            let allowed = match action {
                Action::Start => project.status == ProjectStatus::Initialized,
                // A run interrupted outside the queue (a killed `generate`) is resumable too.
                Action::Resume => {
                    project.status == ProjectStatus::Paused
                        || ((project.status.is_running() || project.status.is_between_stages())
                            && live.is_none())
                }
                _ => project.status == ProjectStatus::Failed,
            };
            if !allowed {
                let why = match action {
                    Action::Start => "only a new (INITIALIZED) project can be started",
                    Action::Resume => "only a PAUSED or interrupted project can be resumed",
                    _ => "only a FAILED project can be retried",
                };
                return Err(refused(&project, action, why));
            }
            if live.is_some() {
                return Err(refused(&project, action, "it is already queued"));
            }
            // The article is fixed when a project is created, so running it again would fail the
            // same way; say so instead of queueing a run that cannot succeed.
            if action == Action::Retry
                && project
                    .error_info
                    .as_ref()
                    .is_some_and(|e| e.stage == ytmaker_core::Stage::Input)
            {
                return Err(refused(
                    &project,
                    action,
                    "its article was refused; create a new project with a corrected article",
                )
                .detail("failed_stage", "input"));
            }
            check_ready(check, store, &project, trace).await?;
            store.enqueue(id, trace).await?;
            wakeup.notify();
            "queued"
        }
        Action::Pause | Action::Cancel => return stop(store, id, action, trace).await,
    };
    tracing::info!(project_id = %id, action = action.as_str(), result, "project action");
    Ok(ActionOutcome {
        action,
        result,
        project: store.get_project(id).await?,
    })
}

/// Applies a pause or a cancel to project `id`; these need no start check, so the CLI can stop
/// a project without locating the media tools.
pub async fn stop(
    store: &Store,
    id: Uuid,
    action: Action,
    trace: &TraceId,
) -> YtResult<ActionOutcome> {
    let project = store.get_project(id).await?;
    let result = match action {
        Action::Pause => match store.request_stop(id, StopRequest::Pause).await? {
            Some(JobState::Running) => "requested",
            Some(_) => "done",
            None => return Err(refused(&project, action, "it is not queued or running")),
        },
        Action::Cancel => {
            if project.status.is_terminal() {
                return Err(refused(&project, action, "it has already ended"));
            }
            match store.request_stop(id, StopRequest::Cancel).await? {
                Some(JobState::Running) => "requested",
                _ => {
                    store
                        .set_status(id, ProjectStatus::Cancelled, trace)
                        .await?;
                    "done"
                }
            }
        }
        Action::Start | Action::Resume | Action::Retry => {
            return Err(refused(&project, action, "it is not a stop"));
        }
    };
    tracing::info!(project_id = %id, action = action.as_str(), result, "project action");
    Ok(ActionOutcome {
        action,
        result,
        project: store.get_project(id).await?,
    })
}
