//! The pipeline: takes a project from its current status to COMPLETED, one stage at a time
//! (SPEC §2), or to FAILED with `error_info`.
//!
//! Invariants kept here and nowhere else:
//! - project status is written only by this crate, through `Store::set_status` / `fail_project`
//!   (which ask the state machine in `ytmaker_core::status`);
//! - every generated file is an asset row, checkpointed before anything downstream reads it
//!   ([`checkpoint`]); a completed asset whose inputs have not changed is never made again;
//! - errors get their stage here, are recorded on the project, logged once, and returned
//!   unchanged: nothing is swallowed, replaced or skipped.

mod call_records;
mod checkpoint;
pub mod control;
mod disk;
pub mod edits;
mod failure;
mod fingerprints;
pub mod logos;
mod progress;
mod providers;
pub mod quota;
pub mod resume;
pub mod retention;
mod sink;
mod stages;
mod view;
mod worker;
pub mod youtube_accounts;

pub use call_records::{PendingWrites, StoreCallRecorder};
pub use disk::{DiskSpace, MIN_FREE_BYTES_ENV, check_free_space, disk_space, free_bytes};
pub use failure::record_before_run;
pub use progress::{Progress, ProgressSink, stage_band};
pub use providers::{CLOUD_BASE_URL_ENV, CloudAccess, KEYED_PROVIDERS, Providers, test_key};
pub use sink::EventSink;
pub use view::{ProjectView, RunResult, SubProgress, file_urls};
pub use worker::{
    LeasedEnd, WorkerConfig, WorkerContext, WorkerPool, foreground_runner_name, run_in_foreground,
};

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::Instrument;
use uuid::Uuid;
use ytmaker_core::error::Lang;
use ytmaker_core::{ProjectStatus, Stage, TraceId, YtResult};
use ytmaker_providers::retry::DelayScale;
use ytmaker_render::Toolchain;
use ytmaker_store::{DataDir, Store};

pub use stages::RunOutcome;

/// Everything a run needs; cheap to clone into tasks.
#[derive(Clone)]
pub struct Pipeline {
    pub(crate) store: Store,
    pub(crate) data: DataDir,
    pub(crate) tools: Toolchain,
    pub(crate) providers: Providers,
    pub(crate) sink: Arc<dyn ProgressSink>,
    pub(crate) lang: Lang,
    /// Set to stop after the current step: no new asset or stage starts, those in flight finish,
    /// and the run returns `RUN_STOPPED`.
    pub(crate) stop: Arc<AtomicBool>,
    /// Shortens retry waits in tests and demos; 1.0 otherwise (see `retry::DelayScale`).
    pub(crate) retry_delay_scale: DelayScale,
}

impl Pipeline {
    pub fn new(
        store: Store,
        data: DataDir,
        tools: Toolchain,
        providers: Providers,
        sink: Arc<dyn ProgressSink>,
        lang: Lang,
    ) -> Self {
        Pipeline {
            store,
            data,
            tools,
            providers,
            sink,
            lang,
            stop: Arc::new(AtomicBool::new(false)),
            retry_delay_scale: DelayScale::default(),
        }
    }

    pub fn with_retry_delay_scale(mut self, scale: DelayScale) -> Self {
        self.retry_delay_scale = scale;
        self
    }

    /// Asks the run to stop after its current step (see [`Pipeline::run`]).
    pub fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    pub(crate) fn stop_requested(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Runs the project from wherever its checkpoints say it is. On failure the project is FAILED
    /// with `error_info` (already stored when this returns) and the error is returned. After
    /// [`Pipeline::request_stop`] it returns `RUN_STOPPED` with the project still in its running
    /// status and every asset either completed or never started.
    pub async fn run(&self, project_id: Uuid, trace: &TraceId) -> YtResult<RunOutcome> {
        let span = tracing::info_span!("run", trace_id = %trace, project_id = %project_id);
        stages::run(self, project_id, trace).instrument(span).await
    }

    /// Marks a running project PAUSED after its run was stopped (Ctrl-C): what was completed is
    /// kept and `projects resume` continues from there.
    pub async fn mark_paused(&self, project_id: Uuid, trace: &TraceId) -> YtResult<()> {
        let project = self.store.get_project(project_id).await?;
        if project.status.is_running() {
            self.store
                .set_status(project_id, ProjectStatus::Paused, trace)
                .await?;
            self.sink.emit(
                project_id,
                &Progress::Log {
                    level: ytmaker_core::event::LogLevel::Warn,
                    message: format!("paused during {}", project.status),
                    note: Some(ytmaker_core::event::LogNote::Paused {
                        during: project.status,
                    }),
                },
            );
        }
        Ok(())
    }

    /// Marks a project CANCELLED after its run was stopped on the user's request; what was made
    /// is kept on disk.
    pub async fn mark_cancelled(&self, project_id: Uuid, trace: &TraceId) -> YtResult<()> {
        let project = self.store.get_project(project_id).await?;
        if !project.status.is_terminal() {
            self.store
                .set_status(project_id, ProjectStatus::Cancelled, trace)
                .await?;
        }
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// Stages in the order they run.
pub const STAGES: [Stage; 5] = [
    Stage::Script,
    Stage::Assets,
    Stage::Render,
    Stage::Thumbnail,
    Stage::Upload,
];
