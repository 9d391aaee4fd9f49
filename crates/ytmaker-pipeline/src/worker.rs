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
use ytmaker_core::{ErrorCode, YtResult};
use ytmaker_render::Toolchain;
use ytmaker_store::{DataDir, Job, JobQueue, JobState, Lease, StopRequest, Store};

use crate::control::Wakeup;
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
        metrics::gauge!("ytmaker_workers").set(config.workers.max(1) as f64);
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
                metrics::counter!("ytmaker_queue_errors_total").increment(1);
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
    Shutdown,
    QueueUnreachable(String),
}

async fn run_job(
    ctx: &WorkerContext,
    config: &WorkerConfig,
    worker: &str,
    job: Job,
    stopped: &mut watch::Receiver<bool>,
) {
    tracing::info!(attempt = job.attempts, "job claimed");
    metrics::gauge!("ytmaker_workers_busy").increment(1.0);
    let outcome = run_with_lease(ctx, config, worker, &job, stopped).await;
    metrics::gauge!("ytmaker_workers_busy").decrement(1.0);
    let (state, error) = match outcome {
        Ok(state) => state,
        Err(err) => {
            tracing::error!(error_code = %err.code, "job could not run: {}", err.message);
            (JobState::Failed, Some(err.code.to_string()))
        }
    };
    metrics::counter!("ytmaker_jobs_total", "outcome" => state.as_str()).increment(1);
    if state == JobState::Running {
        return; // lease lost or handed back: someone else owns the row now
    }
    match ctx
        .store
        .finish(job.id, worker, state, error.as_deref())
        .await
    {
        Ok(true) => tracing::info!(outcome = state.as_str(), "job finished"),
        Ok(false) => tracing::warn!("job was taken over before it could be closed"),
        Err(err) => {
            tracing::error!(error_code = %err.code, "cannot close the job: {}", err.message)
        }
    }
}

async fn run_with_lease(
    ctx: &WorkerContext,
    config: &WorkerConfig,
    worker: &str,
    job: &Job,
    stopped: &mut watch::Receiver<bool>,
) -> YtResult<(JobState, Option<String>)> {
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
        Err(err) => {
            let err = crate::failure::record_before_run(
                &ctx.store,
                &ctx.data,
                ctx.lang,
                job.project_id,
                err,
                &job.trace_id,
            )
            .await;
            return Ok((JobState::Failed, Some(err.code.to_string())));
        }
    };
    let pipeline = Pipeline::new(
        ctx.store.clone(),
        ctx.data.clone(),
        ctx.tools.clone(),
        providers,
        Arc::new(EventSink::start(ctx.store.clone(), job.trace_id.clone())),
        ctx.lang,
    )
    .with_retry_delay_scale(ctx.retry_delay_scale);
    let beat = (config.lease / 3).max(Duration::from_millis(50));
    let run = pipeline.run(job.project_id, &job.trace_id);
    tokio::pin!(run);
    let mut pausing = false;
    // Dropping the run future stops it at once: spawned asset tasks are aborted, FFmpeg and
    // espeak-ng are killed, and every file is written under a temporary name first, so no
    // half-made asset is ever recorded as completed. A pause instead lets the run finish the
    // steps in flight (nothing paid for is thrown away) and stop before the next one.
    let interrupted = loop {
        tokio::select! {
            result = &mut run => {
                return match result {
                    Ok(_) => Ok((JobState::Done, None)),
                    Err(err) if err.code == ErrorCode::RUN_STOPPED => {
                        pipeline.mark_paused(job.project_id, &job.trace_id).await?;
                        Ok((JobState::Stopped, Some("paused".into())))
                    }
                    Err(err) => Ok((JobState::Failed, Some(err.code.to_string()))),
                };
            }
            _ = tokio::time::sleep(beat) => {}
            _ = stopped.changed() => break Interruption::Shutdown,
        }
        match ctx.store.heartbeat(job.id, worker, config.lease).await {
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
            pipeline
                .mark_cancelled(job.project_id, &job.trace_id)
                .await?;
            Ok((JobState::Stopped, Some("cancelled".into())))
        }
        Interruption::LeaseLost => {
            tracing::warn!("lease lost to another worker; this run stops without writing");
            Ok((JobState::Running, None))
        }
        Interruption::Shutdown => {
            if let Err(err) = ctx.store.release(job.id, worker).await {
                tracing::error!(error_code = %err.code, "cannot hand the job back; it will be taken over when its lease expires: {}", err.message);
            } else {
                tracing::info!("server stopping: job handed back to the queue");
            }
            Ok((JobState::Running, None))
        }
        Interruption::QueueUnreachable(message) => {
            // Without a lease another worker may take the job; stop rather than work twice.
            tracing::error!(
                error_code = "QUEUE_CONNECTION_FAILED",
                "cannot renew the job lease, stopping this run: {message}"
            );
            Ok((JobState::Running, None))
        }
    }
}
