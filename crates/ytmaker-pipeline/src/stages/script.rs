//! Stage 1: the script, written by the chosen writer and checked before anything is paid for.

use super::*;

pub(super) async fn script_stage(ctx: &StageCtx<'_>) -> YtResult<()> {
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
                            note: Some(LogNote::DescriptionEditDropped {
                                segment_index: index,
                                segments: script.segments.len(),
                            }),
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
                note: Some(LogNote::ScriptWarning {
                    warning: warning.kind,
                    segment_index: warning.segment_index,
                    seconds: warning.seconds,
                }),
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
                note: Some(LogNote::Condensed {
                    kept_sentences: c.kept_sentences,
                    original_sentences: c.original_sentences,
                    kept_percent: (c.kept_ratio * 1000.0).round() / 10.0,
                }),
            },
        );
        tracing::info!(kept_ratio = c.kept_ratio, "{message}");
    }
    ctx.p
        .sink
        .emit(ctx.id, &step(Stage::Script, 1.0, 1.0, "script"));
    Ok(())
}
