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
use ytmaker_core::{ErrorCode, TraceId, YtError, YtResult};
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
    /// Runs of one job whose worker died (its lease ran out) before the job is given up and its
    /// project FAILED with `WORKER_KEPT_DYING`, instead of being claimed for ever.
    pub max_abandoned_runs: u32,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            workers: 2,
            lease: Duration::from_secs(30),
            poll: Duration::from_millis(500),
            max_abandoned_runs: Job::DEFAULT_MAX_ABANDONED_RUNS,
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
        let host = host_name();
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
            Ok(Some(job)) if job.kept_dying(config.max_abandoned_runs) => {
                let span = tracing::info_span!("job", trace_id = %job.trace_id, project_id = %job.project_id, job_id = %job.id, attempt = job.attempts);
                give_up(&ctx, &name, &job).instrument(span).await;
                continue;
            }
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

/// Ends a job whose workers kept dying: its project is FAILED with `WORKER_KEPT_DYING`, naming
/// the last worker and the last line it logged for this run, and the job is closed. The project
/// first, so that if this worker dies too the next claim does the same.
async fn give_up(ctx: &WorkerContext, worker: &str, job: &Job) {
    let mut err = job.worker_kept_dying();
    match last_log_line(ctx, job) {
        Ok(Some(line)) => err = err.detail("last_log_line", line),
        Ok(None) => {
            err = err.detail(
                "last_log_line",
                "none in this host's log (the worker ran elsewhere or logged nothing)",
            )
        }
        Err(read) => {
            tracing::error!(error_code = %read.code, "cannot read the log for the dead worker's last line: {}", read.message);
            err = err.detail("last_log_line_unreadable", read.message);
        }
    }
    let err = crate::failure::record_before_run(
        &ctx.store,
        &ctx.data,
        ctx.lang,
        job.project_id,
        err,
        &job.trace_id,
    )
    .await;
    metrics::counter!("ytmaker_jobs_total", "outcome" => "given_up").increment(1);
    match ctx.store.give_up(job.id, worker, &err).await {
        Ok(true) => tracing::error!(error_code = %err.code, "job given up: {}", err.message),
        Ok(false) => tracing::warn!("job was taken over before it could be given up"),
        Err(e) => tracing::error!(error_code = %e.code, "cannot close the job: {}", e.message),
    }
}

/// The last line the dead worker logged for this run, from this host's log files.
fn last_log_line(ctx: &WorkerContext, job: &Job) -> YtResult<Option<String>> {
    let Some(owner) = job.previous_owner.as_deref() else {
        return Ok(None);
    };
    // No log folder: nothing was ever logged on this host (the worker ran elsewhere).
    if !ctx.data.logs().is_dir() {
        return Ok(None);
    }
    let filter = ytmaker_telemetry::LogFilter {
        trace_id: Some(job.trace_id.to_string()),
        project_id: None,
        error_code: None,
    };
    let lines = ytmaker_telemetry::read_lines(&ctx.data.logs(), &filter)?;
    Ok(lines.into_iter().rev().find(|line| {
        serde_json::from_str::<serde_json::Value>(line)
            .is_ok_and(|v| v["worker"].as_str() == Some(owner))
    }))
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
    /// The project was COMPLETED or CANCELLED when the run began (an earlier run ended it but
    /// could not close its job): nothing to run, and nothing to record on the project.
    Ended(ytmaker_core::ProjectStatus),
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
            LeasedEnd::Ended(ytmaker_core::ProjectStatus::Cancelled) => {
                (JobState::Stopped, Some("cancelled".into()))
            }
            LeasedEnd::Ended(_) => (JobState::Done, None),
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
    let project = match ctx.store.get_project(job.project_id).await {
        Ok(project) => project,
        Err(err) => return failed(err).await,
    };
    if project.status.is_terminal() {
        tracing::info!(
            status = project.status.as_str(),
            "the project was ended by an earlier run; nothing to run"
        );
        return LeasedEnd::Ended(project.status);
    }
    let setup = async {
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
                    // A stage records its own failure; one before or between the stages (the
                    // database refusing a status write, say) is recorded here.
                    Err(err) => {
                        let recorded = ctx.store.get_project(job.project_id).await.is_ok_and(|p| {
                            p.status == ytmaker_core::ProjectStatus::Failed
                                && p.error_info.is_some_and(|info| {
                                    info.error_code == err.code && info.trace_id == job.trace_id
                                })
                        });
                        if recorded {
                            LeasedEnd::Failed(err)
                        } else {
                            failed(err).await
                        }
                    }
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

/// Runs project `id` in this process (the CLI's `generate` and `projects resume|retry`) under
/// the same lease as the workers: the project's job is acquired for `runner`, renewed while the
/// run goes on, and closed at the end, so no second runner (a worker, another CLI) can run it
/// at the same time. One that holds a live lease is named in the refusal
/// (`INVALID_STATE_TRANSITION`, `details.lease_owner`, `details.lease_expires_at`). A lease left
/// by a process of this host that is gone (a `kill -9`) is waited out rather than refused.
pub async fn run_in_foreground(
    ctx: &WorkerContext,
    lease: Duration,
    runner: &str,
    id: uuid::Uuid,
    trace: &TraceId,
    sink: Arc<dyn ProgressSink>,
    interrupt: impl std::future::Future<Output = ()>,
) -> YtResult<LeasedEnd> {
    // A project queued for the server's workers is theirs to run: the terminal does not take
    // it from the queue (a running one is refused below, naming its holder).
    if let Some(queued) = ctx
        .store
        .live_job(id)
        .await?
        .filter(|j| j.state == JobState::Queued)
    {
        return Err(YtError::new(
            ErrorCode::INVALID_STATE_TRANSITION,
            "the project is queued for a worker of `ytmaker serve`; pause or cancel it there first",
        )
        .detail("project_id", id.to_string())
        .detail("job_id", queued.id.to_string())
        .detail("reason", "a queued job exists"));
    }
    let mut job = loop {
        match ctx.store.acquire(id, runner, lease, trace).await? {
            Ok(job) => break job,
            Err(holder) if local_process_gone(&holder.lease_owner) => {
                let wait = Duration::from_millis(holder.expires_in_ms.max(0) as u64 + 50);
                tracing::warn!(
                    lease_owner = holder.lease_owner.as_str(),
                    wait_ms = wait.as_millis() as u64,
                    "the project's lease belongs to a process of this host that is gone; waiting for it to run out"
                );
                tokio::time::sleep(wait).await;
            }
            Err(holder) => return Err(held_elsewhere(id, &holder)),
        }
    };
    // A job taken over (a dead run's, or one queued by the server) keeps its row's trace id;
    // this run is the one the user started here, under the trace id this process printed.
    job.trace_id = trace.clone();
    let end = run_leased(ctx, lease, runner, &job, sink, async {
        interrupt.await;
        StopKind::Pause
    })
    .await;
    close_job(ctx, runner, &job, &end).await;
    Ok(end)
}

/// The name a foreground runner holds a lease under: `cli/<host>/<pid>`.
pub fn foreground_runner_name() -> String {
    format!("cli/{}/{}", host_name(), std::process::id())
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "local".into())
}

/// Whether `owner` is a foreground runner of this host whose process no longer exists.
fn local_process_gone(owner: &str) -> bool {
    let mut parts = owner.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("cli"), Some(host), Some(pid), None) if host == host_name() => pid
            .parse::<u32>()
            .is_ok_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()),
        _ => false,
    }
}

fn held_elsewhere(id: uuid::Uuid, holder: &ytmaker_store::LeaseHolder) -> YtError {
    let until = chrono::DateTime::from_timestamp_millis(holder.lease_expires_ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| holder.lease_expires_ms.to_string());
    YtError::new(
        ErrorCode::INVALID_STATE_TRANSITION,
        format!(
            "the project is being run by {} (its lease runs until {until}, renewed while it works); \
             pause or cancel it there, or wait until it ends",
            holder.lease_owner
        ),
    )
    .detail("project_id", id.to_string())
    .detail("lease_owner", holder.lease_owner.as_str())
    .detail("lease_expires_at", until)
    .detail("job_id", holder.job_id.to_string())
}
