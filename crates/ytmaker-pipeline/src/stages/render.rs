//! Stage 3: the segment clips, the presenter clips and the final video.

use super::*;

struct Line {
    id: LineId,
    text: String,
    audio: PathBuf,
    audio_hash: String,
    duration_s: f64,
}

pub(super) async fn render_stage(ctx: &StageCtx<'_>) -> YtResult<()> {
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
