//! The worker pool: a bounded number of workers that claim jobs from the queue, run the pipeline
//! under a lease, renew it, and act on pause/cancel requests. A worker that dies (kill -9) stops
//! renewing; once its lease expires any worker takes the job over, and the pipeline's checkpoints
//! make the second run redo nothing that was completed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;
use uuid::Uuid;
use ytmaker_core::error::Lang;
use ytmaker_core::{ErrorCode, YtError};
use ytmaker_render::Toolchain;
use ytmaker_store::{DataDir, Job, JobQueue, JobState, Lease, StopRequest, Store};

use crate::control::Wakeup;
use crate::progress::ProgressSink;
use crate::sink::EventSink;
use crate::{Pipeline, Providers};

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub workers: usize,
    /// How long a claimed job stays ours without a heartbeat.
    pub lease: Duration,
    /// How often an idle worker looks for work queued by another process.
    pub poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            workers: 2,
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(500),
        }
    }
}

#[derive(Clone)]
pub struct WorkerContext {
    pub store: Store,
    pub data: DataDir,
    pub tools: Toolchain,
    pub lang: Lang,
    pub wakeup: Wakeup,
    pub cloud: crate::CloudAccess,
    pub retry_delay_scale: ytmaker_providers::retry::DelayScale,
}

/// Running workers; dropping it does not stop them, [`WorkerPool::shutdown`] does.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl WorkerPool {
    pub fn start(ctx: WorkerContext, config: WorkerConfig) -> WorkerPool {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
        let process = Uuid::new_v4().simple().to_string();
        for n in 0..config.workers.max(1) {
            let name = format!("{host}/{}/{n}", &process[..8]);
            let ctx = ctx.clone();
            let config = config.clone();
            let stopped = stopped.clone();
            tasks.spawn(
                worker_loop(ctx, config, name.clone(), stopped)
                    .instrument(tracing::info_span!("worker", worker = %name)),
            );
        }
        metrics::gauge!(ytmaker_core::metric::WORKERS).set(config.workers.max(1) as f64);
        WorkerPool { stop, tasks }
    }

    /// Stops claiming, hands running jobs back to the queue (their projects keep their status and
    /// continue in the next worker that claims them), and waits for the workers to end.
    pub async fn shutdown(mut self) {
        if self.stop.send(true).is_err() {
            tracing::warn!("workers had already stopped");
        }
        while let Some(joined) = self.tasks.join_next().await {
            if let Err(err) = joined {
                tracing::error!(
                    error_code = "WORKER_PANICKED",
                    "a worker ended abnormally: {err}"
                );
            }
        }
    }
}

async fn worker_loop(
    ctx: WorkerContext,
    config: WorkerConfig,
    name: String,
    mut stopped: watch::Receiver<bool>,
) {
    tracing::info!("worker started");
    loop {
        if *stopped.borrow() {
            break;
        }
        match ctx.store.claim(&name, config.lease).await {
            Ok(Some(job)) => {
                let span = tracing::info_span!("job", trace_id = %job.trace_id, project_id = %job.project_id, job_id = %job.id, attempt = job.attempts);
                run_job(&ctx, &config, &name, job, &mut stopped)
                    .instrument(span)
                    .await;
                continue;
            }
            Ok(None) => {}
            Err(err) => {
                metrics::counter!(ytmaker_core::metric::QUEUE_ERRORS_TOTAL).increment(1);
                tracing::error!(error_code = %err.code, "cannot claim a job: {}", err.message);
            }
        }
        tokio::select! {
            _ = ctx.wakeup.wait() => {}
            _ = tokio::time::sleep(config.poll) => {}
            _ = stopped.changed() => {}
        }
    }
    tracing::info!("worker stopped");
}

/// Why a run was stopped before it ended by itself.
enum Interruption {
    Cancel,
    LeaseLost,
    Stop(StopKind),
    QueueUnreachable(String),
}

/// What the process holding a lease asks of its run when it must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopKind {
    /// The server is stopping: hand the job back, the project keeps its status, and the next
    /// worker continues it.
    HandBack,
    /// The user pressed Ctrl-C in the CLI: the project is PAUSED.
    Pause,
}

/// How a run under a lease ended.
#[derive(Debug)]
pub enum LeasedEnd {
    Completed(crate::RunOutcome),
    /// Recorded on the project (FAILED, `error_info`, an `error` event) before this returns.
    Failed(YtError),
    Paused,
    Cancelled,
    /// The lease is not ours any more (lost to another runner, handed back, or the queue could
    /// not be reached): this run stopped without writing anything more.
    LeaseGone,
}

impl LeasedEnd {
    fn job_state(&self) -> (JobState, Option<String>) {
        match self {
            LeasedEnd::Completed(_) => (JobState::Done, None),
            LeasedEnd::Failed(err) => (JobState::Failed, Some(err.code.to_string())),
            LeasedEnd::Paused => (JobState::Stopped, Some("paused".into())),
            LeasedEnd::Cancelled => (JobState::Stopped, Some("cancelled".into())),
            LeasedEnd::LeaseGone => (JobState::Running, None),
        }
    }
}

async fn run_job(
    ctx: &WorkerContext,
    config: &WorkerConfig,
    worker: &str,
    job: Job,
    stopped: &mut watch::Receiver<bool>,
) {
    tracing::info!(attempt = job.attempts, "job claimed");
    metrics::gauge!(ytmaker_core::metric::WORKERS_BUSY).increment(1.0);
    let sink: Arc<dyn ProgressSink> =
        Arc::new(EventSink::start(ctx.store.clone(), job.trace_id.clone()));
    let shutdown = async {
        // An error means the pool is gone, which is a shutdown too.
        let _closed = stopped.changed().await;
        StopKind::HandBack
    };
    let end = run_leased(ctx, config.lease, worker, &job, sink, shutdown).await;
    metrics::gauge!(ytmaker_core::metric::WORKERS_BUSY).decrement(1.0);
    close_job(ctx, worker, &job, &end).await;
}

/// Records how a leased job ended in the queue (nothing when the lease is gone: the row is
/// someone else's now).
async fn close_job(ctx: &WorkerContext, runner: &str, job: &Job, end: &LeasedEnd) {
    let (state, error) = end.job_state();
    metrics::counter!(ytmaker_core::metric::JOBS_TOTAL, "outcome" => state.as_str()).increment(1);
    if state == JobState::Running {
        return;
    }
    match ctx
        .store
        .finish(job.id, runner, state, error.as_deref())
        .await
    {
        Ok(true) => tracing::info!(outcome = state.as_str(), "job finished"),
        Ok(false) => tracing::warn!("job was taken over before it could be closed"),
        Err(err) => {
            tracing::error!(error_code = %err.code, "cannot close the job: {}", err.message)
        }
    }
}

/// Runs `job`'s project while `runner` holds its lease, renewing it every third of `lease` and
/// acting on the pause or cancel a user asks for. Every failure, including one before the run
/// starts, is recorded on the project. Used by the workers and by the CLI's foreground runs,
/// so there is one way to run a project.
pub(crate) async fn run_leased(
    ctx: &WorkerContext,
    lease: Duration,
    runner: &str,
    job: &Job,
    sink: Arc<dyn ProgressSink>,
    stop: impl std::future::Future<Output = StopKind>,
) -> LeasedEnd {
    let failed = |err: YtError| async {
        LeasedEnd::Failed(
            crate::failure::record_before_run(
                &ctx.store,
                &ctx.data,
                ctx.lang,
                job.project_id,
                err,
                &job.trace_id,
            )
            .await,
        )
    };
    // Anything that fails before the run starts (a key removed since the start was accepted, an
    // account unlinked) fails the project with its code, like a failure inside the run: a job
    // that only logged it would leave the project waiting for ever with no reason shown.
    let setup = async {
        let project = ctx.store.get_project(job.project_id).await?;
        Providers::for_project(
            &project,
            &ctx.tools,
            &ctx.cloud.for_run(&ctx.store, job.project_id, &job.trace_id),
            &ctx.store,
        )
    }
    .await;
    let providers = match setup {
        Ok(providers) => providers,
        Err(err) => return failed(err).await,
    };
    let pipeline = Pipeline::new(
        ctx.store.clone(),
        ctx.data.clone(),
        ctx.tools.clone(),
        providers,
        sink,
        ctx.lang,
    )
    .with_retry_delay_scale(ctx.retry_delay_scale);
    let beat = (lease / 3).max(Duration::from_millis(50));
    let run = pipeline.run(job.project_id, &job.trace_id);
    tokio::pin!(run);
    tokio::pin!(stop);
    let mut pausing = false;
    // Dropping the run future stops it at once: spawned asset tasks are aborted, FFmpeg and
    // espeak-ng are killed, and every file is written under a temporary name first, so no
    // half-made asset is ever recorded as completed. A pause instead lets the run finish the
    // steps in flight (nothing paid for is thrown away) and stop before the next one.
    let interrupted = loop {
        tokio::select! {
            result = &mut run => {
                return match result {
                    Ok(outcome) => LeasedEnd::Completed(outcome),
                    Err(err) if err.code == ErrorCode::RUN_STOPPED => {
                        match pipeline.mark_paused(job.project_id, &job.trace_id).await {
                            Ok(()) => LeasedEnd::Paused,
                            Err(err) => failed(err).await,
                        }
                    }
                    // The stages recorded it on the project already.
                    Err(err) => LeasedEnd::Failed(err),
                };
            }
            _ = tokio::time::sleep(beat) => {}
            kind = &mut stop => break Interruption::Stop(kind),
        }
        match ctx.store.heartbeat(job.id, runner, lease).await {
            Ok(Lease::Held(None)) => {}
            Ok(Lease::Held(Some(StopRequest::Pause))) => {
                if !pausing {
                    pausing = true;
                    tracing::info!("pause requested: finishing the steps in flight");
                    pipeline.request_stop();
                }
            }
            Ok(Lease::Held(Some(StopRequest::Cancel))) => {
                break Interruption::Cancel;
            }
            Ok(Lease::Lost) => break Interruption::LeaseLost,
            Err(err) => break Interruption::QueueUnreachable(err.message),
        }
    };
    match interrupted {
        Interruption::Cancel => {
            match pipeline.mark_cancelled(job.project_id, &job.trace_id).await {
                Ok(()) => LeasedEnd::Cancelled,
                Err(err) => failed(err).await,
            }
        }
        Interruption::LeaseLost => {
            tracing::warn!("lease lost to another runner; this run stops without writing");
            LeasedEnd::LeaseGone
        }
        Interruption::Stop(StopKind::HandBack) => {
            if let Err(err) = ctx.store.release(job.id, runner).await {
                tracing::error!(error_code = %err.code, "cannot hand the job back; it will be taken over when its lease expires: {}", err.message);
            } else {
                tracing::info!("server stopping: job handed back to the queue");
            }
            LeasedEnd::LeaseGone
        }
        Interruption::Stop(StopKind::Pause) => {
            match pipeline.mark_paused(job.project_id, &job.trace_id).await {
                Ok(()) => LeasedEnd::Paused,
                Err(err) => failed(err).await,
            }
        }
        Interruption::QueueUnreachable(message) => {
            // Without a lease another worker may take the job; stop rather than work twice.
            tracing::error!(
                error_code = "QUEUE_CONNECTION_FAILED",
                "cannot renew the job lease, stopping this run: {message}"
            );
            LeasedEnd::LeaseGone
        }
    }
}
