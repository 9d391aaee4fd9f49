//! Stage 4: the thumbnail.

use super::*;

pub(super) async fn thumbnail_stage(ctx: &StageCtx<'_>) -> YtResult<()> {
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
