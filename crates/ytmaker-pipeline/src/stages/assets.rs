//! Stage 2: narration, images and presenter clips, made concurrently under the checkpoint.

use super::*;

pub(super) async fn assets_stage(ctx: &StageCtx<'_>) -> YtResult<()> {
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
