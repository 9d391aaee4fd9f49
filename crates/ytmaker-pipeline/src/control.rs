//! What a user may ask of a project — start, pause, resume, cancel, retry — checked against the
//! state machine and turned into queue operations. The API calls these; it never writes status.

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Notify;
use uuid::Uuid;
use ytmaker_core::{ErrorCode, ProjectStatus, TraceId, YtError, YtResult};
use ytmaker_store::{JobQueue, JobState, Project, StopRequest, Store};

use crate::quota::QuotaCheck;

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

/// Applies `action` to project `id`. A start, resume or retry is refused with
/// `QUOTA_INSUFFICIENT` before anything is queued when the run would need more of a provider's
/// quota than is left (see [`crate::quota::check_start`]).
pub async fn apply(
    store: &Store,
    wakeup: &Wakeup,
    quotas: &QuotaCheck,
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
                        || (project.status.is_running() && live.is_none())
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
            // A provider asked for its balance here is asked on this project's behalf.
            let cloud = quotas.cloud.for_run(store, id, trace);
            crate::quota::check_start(store, &cloud, &quotas.limits, &project).await?;
            store.enqueue(id, trace).await?;
            wakeup.notify();
            "queued"
        }
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
    };
    tracing::info!(project_id = %id, action = action.as_str(), result, "project action");
    Ok(ActionOutcome {
        action,
        result,
        project: store.get_project(id).await?,
    })
}
