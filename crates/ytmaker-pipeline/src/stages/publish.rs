//! Stage 5: publishing the final video.

use super::*;

pub(super) async fn publish_stage(ctx: &StageCtx<'_>) -> YtResult<RunOutcome> {
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
