//! The five stages. Each is idempotent: run again, it reuses every completed asset.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tracing::Instrument;
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetKind};
use ytmaker_core::config::{FPS, ProjectConfig};
use ytmaker_core::event::{LogLevel, ProjectEvent, StageState};
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

// ---- stage 1: script ----

async fn script_stage(ctx: &StageCtx<'_>) -> YtResult<()> {
    let project = ctx.project().await?;
    let cfg = &project.configuration;
    let writer = ctx.p.providers.script.clone();
    let inputs = Fingerprints::new(cfg)?.script(&ScriptSource::of(&project));
    let script_path = ctx.dir.script();
    let name = project.name.clone();
    let asset = ctx
        .checkpoint()
        .ensure(
            AssetKey::single(AssetKind::Script),
            writer.id(),
            &inputs,
            || async {
                let req = ScriptRequest {
                    text: &project.content,
                    settings: &cfg.script,
                    narration: &cfg.narration,
                    name_hint: Some(name.as_str()).filter(|n| !n.trim().is_empty()),
                    prompt: project.prompt_content.as_deref(),
                };
                let mut script = writer.write_script(&req).await?;
                script.validate()?;
                let dropped =
                    crate::edits::keep_description_edits(project.script.as_ref(), &mut script);
                for index in dropped {
                    let message = format!(
                        "segment {index}'s image description edit is not kept: the rewritten script has {} segments",
                        script.segments.len()
                    );
                    ctx.p.sink.emit(
                        ctx.id,
                        &Progress::Log {
                            level: LogLevel::Warn,
                            message: message.clone(),
                        },
                    );
                    tracing::warn!(segment_index = index, "{message}");
                }
                let json = serde_json::to_vec_pretty(&script).map_err(|e| {
                    YtError::new(
                        ErrorCode::FILE_SYSTEM_ERROR,
                        format!("cannot serialise the script: {e}"),
                    )
                })?;
                write_atomically(&script_path, &json).await?;
                let segments = script.segments.len();
                let seconds = script.estimated_total_seconds();
                ctx.p.store.save_script(ctx.id, &script).await?;
                Ok(Made {
                    path: script_path.clone(),
                    metadata: json!({ "segments": segments, "estimated_seconds": seconds }),
                })
            },
        )
        .await?;
    // A reused script asset must also be on the project row (a crash can fall between the two).
    let script = match ctx.project().await?.script {
        Some(script) => script,
        None => {
            let path = asset_path(ctx.dir, &asset).unwrap_or(script_path);
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|e| YtError::io("read", &path, &e))?;
            let script: Script = serde_json::from_slice(&bytes).map_err(|e| {
                YtError::new(
                    ErrorCode::FILE_SYSTEM_ERROR,
                    format!("script.json is not valid: {e}"),
                )
                .detail("path", path.display().to_string())
            })?;
            ctx.p.store.save_script(ctx.id, &script).await?;
            script
        }
    };
    for warning in &script.warnings {
        ctx.p.sink.emit(
            ctx.id,
            &Progress::Log {
                level: LogLevel::Warn,
                message: warning.message.clone(),
            },
        );
        tracing::warn!(warning = ?warning.kind, segment_index = warning.segment_index, seconds = warning.seconds, options = ?warning.options, "script warning: {}", warning.message);
    }
    if let Some(c) = &script.condensation {
        let message = format!(
            "article condensed: kept {} of {} sentences ({:.0} % of the text)",
            c.kept_sentences,
            c.original_sentences,
            c.kept_ratio * 100.0
        );
        ctx.p.sink.emit(
            ctx.id,
            &Progress::Log {
                level: LogLevel::Info,
                message: message.clone(),
            },
        );
        tracing::info!(kept_ratio = c.kept_ratio, "{message}");
    }
    ctx.p
        .sink
        .emit(ctx.id, &step(Stage::Script, 1.0, 1.0, "script"));
    Ok(())
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

// ---- stage 2: assets ----

fn concurrency(cfg: &ProjectConfig) -> usize {
    match cfg.render.parallel_clips {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n as usize,
    }
}

type TaskResult = (AssetKey, YtResult<()>);

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

async fn assets_stage(ctx: &StageCtx<'_>) -> YtResult<()> {
    check_free_space(ctx.p.data.root())?;
    let (project, script) = ctx.script().await?;
    let cfg = Arc::new(project.configuration.clone());
    let script = Arc::new(script);
    let lines: Vec<(LineId, String)> = spoken_lines(&script, &cfg)
        .into_iter()
        .map(|(l, t)| (l, t.to_owned()))
        .collect();
    let total =
        (lines.len() + script.segments.len() + if cfg.presenter.enabled { 2 } else { 0 }) as f64;
    let done = Arc::new(Mutex::new(0.0));
    let bump = {
        let (p, id, done) = (ctx.p.clone(), ctx.id, done.clone());
        move || {
            let mut d = done.lock().unwrap_or_else(|e| e.into_inner());
            *d += 1.0;
            p.sink.emit(id, &step(Stage::Assets, *d, total, "assets"));
        }
    };

    let limit = Arc::new(Semaphore::new(concurrency(&cfg)));
    // Images have their own bound (SPEC §2: default 4), set for the provider's limits rather
    // than this machine's cores.
    let image_limit = Arc::new(Semaphore::new(cfg.images.concurrency.max(1) as usize));
    let mut tasks = AssetTasks::new();
    let fp = Arc::new(Fingerprints::new(&cfg)?);
    for (line, text) in lines.clone() {
        let key = AssetKey::indexed(AssetKind::Audio, script.line_index(line));
        let (p, dir, trace, cfg, script, limit, bump) = (
            ctx.p.clone(),
            ctx.dir.clone(),
            ctx.trace.clone(),
            cfg.clone(),
            script.clone(),
            limit.clone(),
            bump.clone(),
        );
        let id = ctx.id;
        let fp = fp.clone();
        tasks.spawn(
            key,
            async move {
                let _permit = limit.acquire_owned().await;
                let narrator = p.providers.narrator.clone();
                let inputs = fp.narration(&text);
                let cp = Checkpoint { pipeline: &p, project: id, dir: &dir, trace: &trace };
                let stem = format!("line-{:03}", key.index.unwrap_or(0));
                let out_dir = dir.audio();
                let result = cp
                    .ensure(key, narrator.id(), &inputs, || async {
                        let req = NarrationRequest { text: &text, language: script.language, settings: &cfg.narration, out_dir: &out_dir, file_stem: &stem };
                        let audio = narrator.narrate(&req).await?;
                        Ok(Made { path: audio.path, metadata: json!({ "duration_s": audio.duration_s, "line": format!("{line:?}") }) })
                    })
                    .await;
                bump();
                (key, result.map(|_| ()))
            },
        );
    }
    for segment in script.segments.clone() {
        let key = AssetKey::indexed(AssetKind::Image, segment.index);
        let (p, dir, trace, script, limit, bump) = (
            ctx.p.clone(),
            ctx.dir.clone(),
            ctx.trace.clone(),
            script.clone(),
            image_limit.clone(),
            bump.clone(),
        );
        let id = ctx.id;
        let fp = fp.clone();
        tasks.spawn(key, async move {
            let _permit = limit.acquire_owned().await;
            let illustrator = p.providers.illustrator.clone();
            let inputs = fp.image(&segment);
            let cp = Checkpoint {
                pipeline: &p,
                project: id,
                dir: &dir,
                trace: &trace,
            };
            let stem = format!("segment-{:03}", segment.index);
            let out_dir = dir.images();
            match user_upload(&p, id, &dir, key).await {
                Ok(true) => {
                    bump();
                    return (key, Ok(()));
                }
                Ok(false) => {}
                Err(e) => return (key, Err(e)),
            }
            let result = cp
                .ensure(key, illustrator.id(), &inputs, || async {
                    let req = ImageRequest {
                        segment: &segment,
                        language: script.language,
                        out_dir: &out_dir,
                        file_stem: &stem,
                    };
                    let image = illustrator.illustrate(&req).await?;
                    Ok(Made {
                        path: image.path,
                        metadata: json!({ "width": image.width, "height": image.height }),
                    })
                })
                .await;
            bump();
            (key, result.map(|_| ()))
        });
    }
    let mut failures = tasks.collect().await;

    if cfg.presenter.enabled && failures.is_empty() {
        for (line, kind) in [
            (LineId::Intro, AssetKind::AvatarIntro),
            (LineId::Outro, AssetKind::AvatarOutro),
        ] {
            let audio_key = AssetKey::indexed(AssetKind::Audio, script.line_index(line));
            let key = AssetKey::single(kind);
            let (p, dir, trace, cfg, bump) = (
                ctx.p.clone(),
                ctx.dir.clone(),
                ctx.trace.clone(),
                cfg.clone(),
                bump.clone(),
            );
            let id = ctx.id;
            let fp = fp.clone();
            tasks.spawn(key, async move {
                let result = async {
                    let ctx = StageCtx {
                        p: &p,
                        id,
                        dir: &dir,
                        trace: &trace,
                    };
                    let (audio, audio_path) = ctx.completed(audio_key).await?;
                    let duration_s = audio.metadata["duration_s"].as_f64().ok_or_else(|| {
                        YtError::new(
                            ErrorCode::MEDIA_INVALID,
                            "narration line has no measured duration",
                        )
                        .detail("path", audio_path.display().to_string())
                    })?;
                    let presenter = p.providers.presenter.clone();
                    let inputs = fp.presenter(audio.hash()?);
                    let stem = kind.as_str().to_owned();
                    let out_dir = dir.avatar();
                    ctx.checkpoint()
                        .ensure(key, presenter.id(), &inputs, || async {
                            let req = PresenterRequest {
                                audio: &audio_path,
                                duration_s,
                                settings: &cfg.presenter,
                                out_dir: &out_dir,
                                file_stem: &stem,
                            };
                            let clip = presenter.present(&req).await?;
                            Ok(Made {
                                path: clip.path,
                                metadata: json!({ "duration_s": clip.duration_s }),
                            })
                        })
                        .await
                }
                .await;
                bump();
                (key, result.map(|_| ()))
            });
        }
        failures = tasks.collect().await;
    }
    fail_with_all(failures)
}

/// Whether the segment's image is one the user uploaded (kept as is, never regenerated).
async fn user_upload(p: &Pipeline, id: Uuid, dir: &ProjectDir, key: AssetKey) -> YtResult<bool> {
    let Some(asset) = p.store.asset(id, key).await? else {
        return Ok(false);
    };
    let uploaded = asset.is_completed()
        && asset.metadata["source"] == crate::edits::USER_UPLOAD
        && asset_path(dir, &asset).is_some_and(|path| path.is_file());
    Ok(uploaded)
}

fn stopped(stage: Stage) -> YtError {
    YtError::new(
        ErrorCode::RUN_STOPPED,
        "stopped on request before this stage started",
    )
    .at_stage(stage)
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

// ---- stage 3: render ----

struct Line {
    id: LineId,
    text: String,
    audio: PathBuf,
    audio_hash: String,
    duration_s: f64,
}

async fn render_stage(ctx: &StageCtx<'_>) -> YtResult<()> {
    check_free_space(ctx.p.data.root())?;
    let (project, script) = ctx.script().await?;
    let cfg = Arc::new(project.configuration.clone());
    let fp = Fingerprints::new(&cfg)?;
    let mut lines = Vec::new();
    for (id, text) in spoken_lines(&script, &cfg) {
        let (asset, path) = ctx
            .completed(AssetKey::indexed(AssetKind::Audio, script.line_index(id)))
            .await?;
        let duration_s =
            narration_seconds(&asset).map_err(|e| e.detail("path", path.display().to_string()))?;
        lines.push(Line {
            id,
            text: text.to_owned(),
            audio: path,
            audio_hash: asset.hash()?.to_owned(),
            duration_s,
        });
    }
    let durations: Vec<f64> = lines.iter().map(|l| l.duration_s).collect();
    let plan = RenderPlan::new(
        &lines
            .iter()
            .map(|l| (l.text.as_str(), l.duration_s))
            .collect::<Vec<_>>(),
        &cfg,
    );
    let total_s = plan.total_s;
    let RenderPlan {
        timeline,
        clip_cues,
        all_cues,
        ..
    } = plan;

    let frames_done = Arc::new(Mutex::new(vec![0u32; lines.len()]));
    let limit = Arc::new(Semaphore::new(concurrency(&cfg)));
    let mut tasks = AssetTasks::new();
    // The logo's id is its content hash, so its settings (in the clip fingerprint) are a complete
    // fingerprint of it.
    let logo_file = match &cfg.logo {
        Some(logo) => Some(crate::logos::logo_for_render(&ctx.p.data, logo).await?),
        None => None,
    };
    for (position, ((line, entry), cues)) in lines
        .iter()
        .zip(&timeline.entries)
        .zip(clip_cues)
        .enumerate()
    {
        let key = AssetKey::indexed(AssetKind::SegmentClip, position as u32);
        let (source, source_path) = ctx.completed(clip_source(line.id)).await?;
        let inputs = fp.clip(source.hash()?, entry.frames, &cues)?;
        let frames = entry.frames;
        let line_id = line.id;
        let logo_file = logo_file.clone();
        let (p, dir, trace, cfg, limit, frames_done) = (
            ctx.p.clone(),
            ctx.dir.clone(),
            ctx.trace.clone(),
            cfg.clone(),
            limit.clone(),
            frames_done.clone(),
        );
        let id = ctx.id;
        tasks.spawn(key, async move {
            let _permit = limit.acquire_owned().await;
            let cp = Checkpoint {
                pipeline: &p,
                project: id,
                dir: &dir,
                trace: &trace,
            };
            let out = dir.segments().join(format!("clip-{position:03}.mp4"));
            let report = {
                let (p, frames_done) = (p.clone(), frames_done.clone());
                move |n: u32| {
                    let mut all = frames_done.lock().unwrap_or_else(|e| e.into_inner());
                    all[position] = n;
                    let rendered = all.iter().map(|f| *f as f64).sum::<f64>() / FPS as f64;
                    // Clips take the first 90 % of the render band, the final assembly the rest.
                    p.sink
                        .emit(id, &step(Stage::Render, rendered * 0.9, total_s, "s"));
                }
            };
            let result = cp
                .ensure(key, "ffmpeg", &inputs, || async {
                    let logo = logo_file
                        .as_deref()
                        .zip(cfg.logo.as_ref())
                        .map(|(file, settings)| LogoOverlay { file, settings });
                    match line_id {
                        LineId::Segment(i) => {
                            let job = SegmentClipJob {
                                image: &source_path,
                                frames,
                                motion: Motion::for_segment(&cfg.ken_burns, i),
                                cues: &cues,
                                style: &cfg.subtitles,
                                render: &cfg.render,
                                logo,
                                out: &out,
                            };
                            render_segment_clip(&p.tools, &job, &report).await?;
                        }
                        LineId::Intro | LineId::Outro => {
                            let job = PresenterClipJob {
                                source: &source_path,
                                frames,
                                cues: &cues,
                                style: &cfg.subtitles,
                                render: &cfg.render,
                                logo,
                                out: &out,
                            };
                            render_presenter_clip(&p.tools, &job, &report).await?;
                        }
                    }
                    report(frames);
                    Ok(Made {
                        path: out.clone(),
                        metadata: json!({ "frames": frames }),
                    })
                })
                .await;
            (key, result.map(|_| ()))
        });
    }
    fail_with_all(tasks.collect().await)?;

    let srt = ctx.dir.subtitles();
    let srt_inputs = fp.subtitles(&all_cues)?;
    ctx.checkpoint()
        .ensure(
            AssetKey::single(AssetKind::Subtitles),
            "ytmaker",
            &srt_inputs,
            || async {
                write_srt(&all_cues, &srt)?;
                Ok(Made {
                    path: srt.clone(),
                    metadata: json!({ "cues": all_cues.len() }),
                })
            },
        )
        .await?;

    let mut clips = Vec::new();
    let mut clip_hashes = Vec::new();
    for position in 0..lines.len() {
        let (asset, path) = ctx
            .completed(AssetKey::indexed(AssetKind::SegmentClip, position as u32))
            .await?;
        clips.push(path);
        clip_hashes.push(asset.hash()?.to_owned());
    }
    let narration: Vec<PathBuf> = lines.iter().map(|l| l.audio.clone()).collect();
    let audio_hashes: Vec<String> = lines.iter().map(|l| l.audio_hash.clone()).collect();
    let final_inputs = fp.final_video(&clip_hashes, &audio_hashes);
    let video = ctx.dir.final_video();
    let narration_s: f64 = durations.iter().sum();
    ctx.checkpoint()
        .ensure(
            AssetKey::single(AssetKind::FinalVideo),
            "ffmpeg",
            &final_inputs,
            || async {
                let work = ctx.dir.work();
                let job = AssembleJob {
                    clips: &clips,
                    narration: &narration,
                    work_dir: &work,
                    out: &video,
                };
                let sink = ctx.p.sink.clone();
                let id = ctx.id;
                let on_progress = move |s: f64| {
                    sink.emit(
                        id,
                        &step(Stage::Render, total_s * 0.9 + s * 0.1, total_s, "s"),
                    )
                };
                assemble(&ctx.p.tools, &job, &on_progress).await?;
                let info = verify_final(ctx, &video, narration_s).await?;
                Ok(Made {
                    path: video.clone(),
                    metadata: info,
                })
            },
        )
        .await?;
    Ok(())
}

/// Checks the assembled file before it is called finished: right format, and audio and video as
/// long as the narration.
async fn verify_final(
    ctx: &StageCtx<'_>,
    video: &std::path::Path,
    narration_s: f64,
) -> YtResult<Value> {
    let info = probe(&ctx.p.tools, video).await?;
    let bad = |what: String| {
        YtError::new(
            ErrorCode::MEDIA_INVALID,
            format!("the assembled video is not right: {what}"),
        )
        .detail("path", video.display().to_string())
    };
    let v = info
        .video
        .as_ref()
        .ok_or_else(|| bad("no video stream".into()))?;
    let a = info
        .audio
        .as_ref()
        .ok_or_else(|| bad("no audio stream".into()))?;
    if (v.width, v.height) != (1920, 1080) {
        return Err(bad(format!(
            "{}x{} instead of 1920x1080",
            v.width, v.height
        )));
    }
    for (what, d) in [("video", v.duration_s), ("audio", a.duration_s)] {
        if (d - narration_s).abs() > MAX_AV_DRIFT_S {
            return Err(bad(format!(
                "{what} lasts {d:.2} s but the narration {narration_s:.2} s"
            ))
            .detail("drift_s", d - narration_s));
        }
    }
    Ok(
        json!({ "duration_s": info.duration_s, "video_duration_s": v.duration_s, "audio_duration_s": a.duration_s, "size_bytes": info.size_bytes }),
    )
}

// ---- stage 4: thumbnail ----

async fn thumbnail_stage(ctx: &StageCtx<'_>) -> YtResult<()> {
    let (project, script) = ctx.script().await?;
    let cfg = &project.configuration;
    let segment = cfg.thumbnail.background_segment;
    if segment as usize >= script.segments.len() {
        return Err(YtError::invalid_field(
            ErrorCode::CONFIG_INVALID,
            "thumbnail.background_segment",
            &format!("a segment index below {}", script.segments.len()),
            segment,
        ));
    }
    let (image, image_path) = ctx
        .completed(AssetKey::indexed(AssetKind::Image, segment))
        .await?;
    let logo = match cfg.logo.as_ref().filter(|l| l.on_thumbnail) {
        Some(logo) => Some((
            crate::logos::logo_for_render(&ctx.p.data, logo).await?,
            logo.clone(),
        )),
        None => None,
    };
    let inputs = Fingerprints::new(cfg)?.thumbnail(image.hash()?, &script.title);
    let out = ctx.dir.thumbnail();
    ctx.checkpoint()
        .ensure(
            AssetKey::single(AssetKind::Thumbnail),
            "ytmaker",
            &inputs,
            || async {
                let font = resolve_font(&cfg.subtitles.font_family, true)?;
                let (title, settings, background, target, logo) = (
                    script.title.clone(),
                    cfg.thumbnail.clone(),
                    image_path.clone(),
                    out.clone(),
                    logo.clone(),
                );
                tokio::task::spawn_blocking(move || {
                    make_thumbnail(&ThumbnailJob {
                        background: &background,
                        title: &title,
                        font: &font,
                        settings: &settings,
                        logo: logo
                            .as_ref()
                            .map(|(file, settings)| LogoOverlay { file, settings }),
                        out: &target,
                    })
                })
                .await
                .map_err(panicked)??;
                let size = tokio::fs::metadata(&out)
                    .await
                    .map_err(|e| YtError::io("inspect", &out, &e))?
                    .len();
                Ok(Made {
                    path: out.clone(),
                    metadata: json!({ "size_bytes": size }),
                })
            },
        )
        .await?;
    ctx.p
        .sink
        .emit(ctx.id, &step(Stage::Thumbnail, 1.0, 1.0, "thumbnail"));
    Ok(())
}

// ---- stage 5: publish ----

async fn publish_stage(ctx: &StageCtx<'_>) -> YtResult<RunOutcome> {
    let (project, script) = ctx.script().await?;
    let youtube = crate::youtube_accounts::project_youtube_settings(&project)?;
    let (_, video) = ctx
        .completed(AssetKey::single(AssetKind::FinalVideo))
        .await?;
    let (_, thumbnail) = ctx
        .completed(AssetKey::single(AssetKind::Thumbnail))
        .await?;
    let (_, subtitles) = ctx
        .completed(AssetKey::single(AssetKind::Subtitles))
        .await?;
    let publisher = ctx.p.providers.publisher.clone();
    let output_dir = ctx.dir.output();
    let state_dir = ctx.dir.work();
    let req = PublishRequest {
        video: &video,
        thumbnail: &thumbnail,
        subtitles: &subtitles,
        script: &script,
        output_dir: &output_dir,
        youtube: youtube.as_ref(),
        state_dir: &state_dir,
    };
    let result = ytmaker_providers::retry::run(
        ctx.p.retry_delay_scale,
        |attempt| {
            let span = tracing::info_span!("attempt", attempt);
            publisher.publish(&req).instrument(span)
        },
        |err, retry| ctx.announce_retry(err, retry),
    )
    .await
    .map_err(|(err, attempts)| err.detail("attempts", attempts))?;
    if let Some(video_id) = &result.video_id {
        ctx.p.store.set_youtube_video_id(ctx.id, video_id).await?;
    }
    tracing::info!(publisher = publisher.id(), location = %result.location, "published");
    ctx.p
        .sink
        .emit(ctx.id, &step(Stage::Upload, 1.0, 1.0, "publish"));
    Ok(RunOutcome {
        status: ProjectStatus::Completed,
        video,
        thumbnail,
        subtitles,
        location: result.location,
    })
}
