//! The five stages. Each is idempotent: run again, it reuses every completed asset. This file is
//! the runner (the stage loop, failure recording, the context every stage gets); each stage is
//! its own module.

mod assets;
mod publish;
mod render;
mod script;
mod thumbnail;

use assets::assets_stage;
use publish::publish_stage;
use render::render_stage;
use script::script_stage;
use thumbnail::thumbnail_stage;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetKind};
use ytmaker_core::config::{FPS, ProjectConfig};
use ytmaker_core::event::{LogLevel, LogNote, ProjectEvent, StageState};
use ytmaker_core::script::{LineId, Script};
use ytmaker_core::{ErrorCode, ProjectStatus, Stage, TraceId, YtError, YtResult};
use ytmaker_providers::{
    ImageRequest, NarrationRequest, PresenterRequest, PublishRequest, ScriptRequest,
};
use ytmaker_render::{
    AssembleJob, LogoOverlay, Motion, PresenterClipJob, SegmentClipJob, ThumbnailJob, assemble,
    make_thumbnail, probe, render_presenter_clip, render_segment_clip, resolve_font, write_srt,
};
use ytmaker_store::{Asset, Project, ProjectDir};

use crate::checkpoint::{Checkpoint, Made, asset_path};
use crate::fingerprints::{Fingerprints, ScriptSource};
use crate::progress::{Progress, step};
use crate::resume::{RenderPlan, clip_source, narration_seconds, spoken_lines};
use crate::{Pipeline, STAGES, check_free_space};

/// How a run ended when it did not fail.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    pub status: ProjectStatus,
    pub video: PathBuf,
    pub thumbnail: PathBuf,
    pub subtitles: PathBuf,
    pub location: String,
}

pub(crate) fn panicked(err: tokio::task::JoinError) -> YtError {
    YtError::new(
        ErrorCode::WORKER_PANICKED,
        format!("a pipeline task stopped unexpectedly: {err}"),
    )
    .detail("join_error", err.to_string())
}

/// Final-vs-narration tolerance; the timeline keeps drift under half a frame, so more than this
/// means a broken render, which must not be presented as finished.
const MAX_AV_DRIFT_S: f64 = 0.5;

pub(crate) async fn run(p: &Pipeline, id: Uuid, trace: &TraceId) -> YtResult<RunOutcome> {
    let project = p.store.get_project(id).await?;
    let first = first_stage(p, &project).await?;
    if first == Stage::Script
        && let Err(err) = ytmaker_core::article::validate_article_text(&project.content)
    {
        let err = err.at_stage(Stage::Input);
        // A project refused for its input is FAILED already; it stays so.
        if project.status == ProjectStatus::Failed {
            return Err(err);
        }
        return Err(record_failure(p, id, Stage::Input, err, trace).await);
    }
    // Before anything is written or paid for: a run that cannot hold its render fails here, with
    // no stage started (the assets and render stages check again, as the disk may fill up).
    if let Err(err) = check_free_space(p.data.root()) {
        if !project.status.allows(ProjectStatus::Failed) {
            // A FAILED or PAUSED project keeps its status; the caller reports this error.
            return Err(err.at_stage(first));
        }
        return Err(record_failure(p, id, first, err, trace).await);
    }
    let dir = p.data.project(id);
    for d in dir.all_dirs() {
        tokio::fs::create_dir_all(&d)
            .await
            .map_err(|e| YtError::io("create", &d, &e))?;
    }
    let mut outcome = None;
    for stage in STAGES.into_iter().skip_while(|s| *s != first) {
        let running = ProjectStatus::running(stage).ok_or_else(|| {
            YtError::new(ErrorCode::INVALID_STATE_TRANSITION, "no running status")
        })?;
        p.store.set_status(id, running, trace).await?;
        if p.stop_requested() {
            // Checked after entering the running status so that the project can go to PAUSED
            // from here, and resume starts at this stage.
            return Err(stopped(stage));
        }
        p.store
            .append_event(
                id,
                &ProjectEvent::Stage {
                    stage,
                    state: StageState::Started,
                },
                trace,
            )
            .await?;
        p.sink.emit(id, &Progress::StageStarted { stage });
        tracing::info!(stage = stage.as_str(), "stage started");
        let span = tracing::info_span!("stage", stage = stage.as_str());
        let stage_started = std::time::Instant::now();
        let ctx = StageCtx {
            p,
            id,
            dir: &dir,
            trace,
        };
        let result = async {
            match stage {
                Stage::Script => script_stage(&ctx).await,
                Stage::Assets => assets_stage(&ctx).await,
                Stage::Render => render_stage(&ctx).await,
                Stage::Thumbnail => thumbnail_stage(&ctx).await,
                Stage::Upload => publish_stage(&ctx).await.map(|o| outcome = Some(o)),
                Stage::Input | Stage::System => Ok(()),
            }
        }
        .instrument(span)
        .await;
        let outcome_label = if result.is_ok() {
            "completed"
        } else {
            "failed"
        };
        metrics::histogram!(ytmaker_core::metric::STAGE_DURATION_SECONDS, "stage" => stage.as_str(), "outcome" => outcome_label)
            .record(stage_started.elapsed().as_secs_f64());
        if let Err(err) = result {
            if err.code == ErrorCode::RUN_STOPPED {
                tracing::info!(
                    stage = stage.as_str(),
                    "run stopped on request; in-flight assets finished"
                );
                return Err(err.at_stage(stage));
            }
            return Err(record_failure(p, id, stage, err, trace).await);
        }
        let finished = ProjectStatus::finished(stage).ok_or_else(|| {
            YtError::new(ErrorCode::INVALID_STATE_TRANSITION, "no finished status")
        })?;
        let mut events = vec![ProjectEvent::Stage {
            stage,
            state: StageState::Finished,
        }];
        if finished == ProjectStatus::Completed {
            let outcome = outcome.as_ref().ok_or_else(|| {
                YtError::new(
                    ErrorCode::INVALID_STATE_TRANSITION,
                    "the run ended without publishing",
                )
            })?;
            events.push(ProjectEvent::Complete {
                video: outcome.video.display().to_string(),
                thumbnail: outcome.thumbnail.display().to_string(),
                subtitles: outcome.subtitles.display().to_string(),
                location: outcome.location.clone(),
            });
        }
        // The stage's end and what it produced are one write; if the database refuses it, the
        // project fails with that error rather than staying in a running status.
        if let Err(err) = p.store.set_status_with(id, finished, &events, trace).await {
            return Err(record_failure(p, id, stage, err, trace).await);
        }
        p.sink.emit(id, &Progress::StageFinished { stage });
        tracing::info!(stage = stage.as_str(), "stage finished");
    }
    let outcome = outcome.ok_or_else(|| {
        YtError::new(
            ErrorCode::INVALID_STATE_TRANSITION,
            "the run ended without publishing",
        )
    })?;
    p.sink.emit(
        id,
        &Progress::Completed {
            video: outcome.video.display().to_string(),
            thumbnail: outcome.thumbnail.display().to_string(),
            subtitles: outcome.subtitles.display().to_string(),
            location: outcome.location.clone(),
        },
    );
    Ok(outcome)
}

/// Where a run starts: the earliest stage with work to do (see [`crate::resume`]).
async fn first_stage(p: &Pipeline, project: &Project) -> YtResult<Stage> {
    crate::resume::first_stage_with_work(&p.store, &p.data.project(project.id), project).await
}

async fn record_failure(
    p: &Pipeline,
    id: Uuid,
    stage: Stage,
    err: YtError,
    trace: &TraceId,
) -> YtError {
    crate::failure::record(
        &p.store,
        p.lang,
        Some(p.sink.as_ref()),
        id,
        stage,
        err,
        trace,
    )
    .await
}

pub(crate) struct StageCtx<'a> {
    p: &'a Pipeline,
    id: Uuid,
    dir: &'a ProjectDir,
    trace: &'a TraceId,
}

impl StageCtx<'_> {
    async fn announce_retry(
        &self,
        err: YtError,
        retry: ytmaker_providers::retry::Retry,
    ) -> YtResult<()> {
        crate::checkpoint::report_retry(self.p, self.id, self.trace, None, &err, retry).await
    }

    fn checkpoint(&self) -> Checkpoint<'_> {
        Checkpoint {
            pipeline: self.p,
            project: self.id,
            dir: self.dir,
            trace: self.trace,
        }
    }

    async fn project(&self) -> YtResult<Project> {
        self.p.store.get_project(self.id).await
    }

    async fn script(&self) -> YtResult<(Project, Script)> {
        let project = self.project().await?;
        let script = project.script.clone().ok_or_else(|| {
            YtError::new(
                ErrorCode::FILE_NOT_FOUND,
                "the project has no script yet; the script stage must run first",
            )
            .detail("asset_kind", "script")
        })?;
        Ok((project, script))
    }

    async fn completed(&self, key: AssetKey) -> YtResult<(Asset, PathBuf)> {
        let asset = self
            .p
            .store
            .asset(self.id, key)
            .await?
            .filter(Asset::is_completed)
            .ok_or_else(|| {
                YtError::new(
                    ErrorCode::FILE_NOT_FOUND,
                    format!("{} {:?} has not been made", key.kind.as_str(), key.index),
                )
                .detail("asset_kind", key.kind.as_str())
                .detail("segment_index", key.index)
            })?;
        let path = asset_path(self.dir, &asset)
            .filter(|p| p.is_file())
            .ok_or_else(|| {
                YtError::new(ErrorCode::FILE_NOT_FOUND, "asset file is missing")
                    .detail("asset_kind", key.kind.as_str())
            })?;
        Ok((asset, path))
    }
}

pub(crate) async fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> YtResult<()> {
    let tmp = path.with_extension("partial");
    tokio::fs::write(&tmp, bytes)
        .await
        .map_err(|e| YtError::io("write", &tmp, &e))?;
    tokio::fs::rename(&tmp, path)
        .await
        .map_err(|e| YtError::io("rename into place", path, &e))
}

fn stopped(stage: Stage) -> YtError {
    YtError::new(
        ErrorCode::RUN_STOPPED,
        "stopped on request before this stage started",
    )
    .at_stage(stage)
}

/// What one concurrent asset task ends with.
type TaskResult = (AssetKey, YtResult<()>);

fn concurrency(cfg: &ProjectConfig) -> usize {
    match cfg.render.parallel_clips {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n as usize,
    }
}

/// Spawned asset tasks, remembering which asset each task makes so that even a panicking task is
/// reported against its asset.
struct AssetTasks {
    set: JoinSet<TaskResult>,
    keys: std::collections::HashMap<tokio::task::Id, AssetKey>,
}

impl AssetTasks {
    fn new() -> Self {
        AssetTasks {
            set: JoinSet::new(),
            keys: Default::default(),
        }
    }

    fn spawn(
        &mut self,
        key: AssetKey,
        task: impl std::future::Future<Output = TaskResult> + Send + 'static,
    ) {
        let handle = self.set.spawn(task.in_current_span());
        self.keys.insert(handle.id(), key);
    }

    /// Waits for every task; returns the failures sorted by asset.
    async fn collect(&mut self) -> Vec<(AssetKey, YtError)> {
        let mut failures = Vec::new();
        while let Some(joined) = self.set.join_next_with_id().await {
            match joined {
                Ok((_, (_, Ok(())))) => {}
                Ok((_, (key, Err(err)))) => failures.push((key, err)),
                Err(join) => {
                    let key = self
                        .keys
                        .get(&join.id())
                        .copied()
                        .unwrap_or(AssetKey::single(AssetKind::FinalVideo));
                    failures.push((key, panicked(join)));
                }
            }
        }
        failures.sort_by_key(|(k, _)| (k.kind.as_str(), k.index));
        failures
    }
}

/// Every failed asset is listed with its own code; the first one's code is the project's. Assets
/// that were not started because a stop was requested are not failures: if they are all there is,
/// the stage reports `RUN_STOPPED`.
fn fail_with_all(failures: Vec<(AssetKey, YtError)>) -> YtResult<()> {
    let (stopped, failures): (Vec<_>, Vec<_>) = failures
        .into_iter()
        .partition(|(_, e)| e.code == ErrorCode::RUN_STOPPED);
    let Some((_, first)) = failures.first() else {
        return match stopped.into_iter().next() {
            Some((_, err)) => Err(err),
            None => Ok(()),
        };
    };
    let listed: Vec<Value> = failures
        .iter()
        .map(|(k, e)| json!({ "asset_kind": k.kind.as_str(), "segment_index": k.index, "error_code": e.code, "message": e.message }))
        .collect();
    let mut err = first.clone();
    if failures.len() > 1 {
        err.message = format!(
            "{} (and {} more failed assets)",
            err.message,
            failures.len() - 1
        );
    }
    Err(err.detail("failed_assets", Value::Array(listed)))
}
