//! Segment and presenter clips: every clip leaves here as H.264 High, yuv420p, 1920×1080, 30 fps,
//! with the same encoder settings, so the final video concatenates them without re-encoding.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use ytmaker_core::config::{FPS, FRAME_HEIGHT, FRAME_WIDTH, RenderSettings, SubtitleStyle};
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::fonts::resolve_font;
use crate::frames::KenBurnsSource;
use crate::logo::{LogoOverlay, place_logo};
use crate::motion::Motion;
use crate::run::run_ffmpeg_with_stdin;
use crate::subtitles::{Cue, write_ass};
use crate::tools::Toolchain;

/// Colour behind a presenter video that does not fill the 16:9 frame.
const PRESENTER_BACKGROUND: &str = "0x14181F";

/// One segment: a Ken Burns move over an image, with its subtitles.
pub struct SegmentClipJob<'a> {
    pub image: &'a Path,
    pub frames: u32,
    pub motion: Motion,
    /// Times relative to the start of the clip.
    pub cues: &'a [Cue],
    pub style: &'a SubtitleStyle,
    pub render: &'a RenderSettings,
    /// Drawn under the subtitles when set.
    pub logo: Option<LogoOverlay<'a>>,
    pub out: &'a Path,
}

/// Renders a segment clip: exactly `job.frames` frames, no audio. `on_frames` gets the number
/// of frames encoded so far.
///
/// The frames are made in Rust (module `frames`) and piped to ffmpeg as rawvideo, so the
/// clip costs one x264 pass plus a cheap warp per frame. When subtitles are drawn, the
/// `.ass` script is written next to `job.out` and kept with it; so is the scaled logo
/// (`.logo.png`), which FFmpeg overlays before the subtitles.
pub async fn render_segment_clip(
    tools: &Toolchain,
    job: &SegmentClipJob<'_>,
    on_frames: &(dyn Fn(u32) + Send + Sync),
) -> YtResult<()> {
    let frames = require_frames(job.frames)?;
    let subtitles = prepare_subtitles(job.cues, job.style, job.out).await?;
    let logo = prepare_logo(job.logo, job.out).await?;
    let (image, motion) = (job.image.to_owned(), job.motion);
    let source = blocking(move || KenBurnsSource::load(&image, motion, frames)).await?;

    let (reader, writer) = std::io::pipe().map_err(|err| {
        YtError::new(
            ErrorCode::FILE_SYSTEM_ERROR,
            format!("cannot create a pipe to ffmpeg: {err}"),
        )
        .detail("os_error", err.to_string())
    })?;
    let span = tracing::Span::current();
    let feeder = tokio::task::spawn_blocking(move || span.in_scope(|| source.write_frames(writer)));

    let mut args = os_args(&[
        "-f",
        "rawvideo",
        "-pix_fmt",
        "yuv420p",
        "-s",
        &format!("{FRAME_WIDTH}x{FRAME_HEIGHT}"),
    ]);
    args.extend(os_args(&["-framerate", &FPS.to_string(), "-i", "pipe:0"]));
    args.extend(filter_args(None, logo.as_ref(), subtitles.as_deref()));
    args.extend(h264_output_args(job.render, job.out));
    let encoded = run_ffmpeg_with_stdin(tools, "segment clip", &args, Stdio::from(reader), &|s| {
        on_frames(frames_at(s, frames))
    })
    .await;
    let fed = feeder.await;
    // ffmpeg's own error explains a failure better than the broken pipe the writer then sees.
    encoded?;
    match fed {
        Ok(Ok(())) => {}
        Ok(Err(err)) => {
            return Err(YtError::new(
                ErrorCode::FFMPEG_EXECUTION_FAILED,
                format!("ffmpeg stopped reading frames: {err}"),
            )
            .detail("purpose", "segment clip")
            .detail("os_error", err.to_string()));
        }
        Err(join) => return Err(panicked(join)),
    }
    on_frames(frames);
    Ok(())
}

/// The intro or outro: a presenter video placed on the 16:9 frame.
pub struct PresenterClipJob<'a> {
    /// A presenter video of any size and frame rate (e.g. 512×512 from D-ID); its audio is
    /// ignored, the narration is muxed by [`crate::assemble`].
    pub source: &'a Path,
    pub frames: u32,
    pub cues: &'a [Cue],
    pub style: &'a SubtitleStyle,
    pub render: &'a RenderSettings,
    /// Drawn under the subtitles when set.
    pub logo: Option<LogoOverlay<'a>>,
    pub out: &'a Path,
}

/// Scales the presenter video to fit 1920×1080 (aspect kept), centres it on a dark background,
/// converts it to 30 fps, burns the subtitles and makes it exactly `job.frames` long: a shorter
/// source holds its last frame, a longer one is cut.
pub async fn render_presenter_clip(
    tools: &Toolchain,
    job: &PresenterClipJob<'_>,
    on_frames: &(dyn Fn(u32) + Send + Sync),
) -> YtResult<()> {
    let frames = require_frames(job.frames)?;
    let source = tokio::fs::metadata(job.source)
        .await
        .map_err(|err| YtError::io("read presenter video", job.source, &err))?;
    if !source.is_file() {
        return Err(YtError::new(
            ErrorCode::MEDIA_INVALID,
            format!("{} is not a file", job.source.display()),
        )
        .detail("path", job.source.display().to_string()));
    }
    let subtitles = prepare_subtitles(job.cues, job.style, job.out).await?;
    let logo = prepare_logo(job.logo, job.out).await?;
    let base = format!(
        "fps={FPS},scale={FRAME_WIDTH}:{FRAME_HEIGHT}:force_original_aspect_ratio=decrease:force_divisible_by=2\
         :out_color_matrix=bt709:out_range=tv,format=yuv420p,\
         pad={FRAME_WIDTH}:{FRAME_HEIGHT}:(ow-iw)/2:(oh-ih)/2:color={PRESENTER_BACKGROUND},setsar=1,\
         tpad=stop=-1:stop_mode=clone"
    );
    let mut args = vec![OsString::from("-i"), job.source.as_os_str().to_owned()];
    args.extend(filter_args(Some(base), logo.as_ref(), subtitles.as_deref()));
    args.extend(os_args(&["-frames:v", &frames.to_string()]));
    args.extend(h264_output_args(job.render, job.out));
    run_ffmpeg_with_stdin(tools, "presenter clip", &args, Stdio::null(), &|s| {
        on_frames(frames_at(s, frames))
    })
    .await?;
    on_frames(frames);
    Ok(())
}

fn require_frames(frames: u32) -> YtResult<u32> {
    if frames == 0 {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "frames",
            "at least one frame",
            0,
        ));
    }
    Ok(frames)
}

/// The encoder settings every clip shares. Concatenating without re-encoding needs identical
/// streams: same profile, pixel format, colour tags, time base and x264 settings (from which x264
/// derives the same level and parameter sets).
fn h264_output_args(render: &RenderSettings, out: &Path) -> Vec<OsString> {
    let mut args = os_args(&[
        "-an",
        "-c:v",
        "libx264",
        "-preset",
        &render.x264_preset,
        "-crf",
        &render.crf.to_string(),
        "-profile:v",
        "high",
        // x264 signals the lowest profile the stream needs, so presets without High-only tools
        // (ultrafast) come out as Constrained Baseline; the 8x8 transform is High-only, and on
        // by default in every other preset.
        "-8x8dct",
        "1",
        "-pix_fmt",
        "yuv420p",
        "-r",
        &FPS.to_string(),
        "-colorspace",
        "bt709",
        "-color_primaries",
        "bt709",
        "-color_trc",
        "bt709",
        "-color_range",
        "tv",
        "-video_track_timescale",
        "15360",
    ]);
    args.push(out.as_os_str().to_owned());
    args
}

/// Writes the clip's `.ass` script when there is something to draw, after checking that the
/// font family exists: libass would otherwise quietly draw with whatever fontconfig offers.
async fn prepare_subtitles(
    cues: &[Cue],
    style: &SubtitleStyle,
    out: &Path,
) -> YtResult<Option<PathBuf>> {
    if !style.enabled || cues.is_empty() {
        return Ok(None);
    }
    let family = style.font_family.clone();
    blocking(move || resolve_font(&family, false)).await?;
    let ass = out.with_extension("ass");
    let (cues, style, path) = (cues.to_vec(), style.clone(), ass.clone());
    blocking(move || write_ass(&cues, &style, &path)).await?;
    Ok(Some(ass))
}

/// A logo scaled and placed for the 1920×1080 frame, written as RGBA PNG for FFmpeg to overlay.
struct PreparedLogo {
    file: PathBuf,
    x: u32,
    y: u32,
}

/// Reads and scales the logo once per clip (an unreadable logo fails the clip) and writes the
/// result next to `out`, so FFmpeg only converts and blends a small, already-sized image.
async fn prepare_logo(logo: Option<LogoOverlay<'_>>, out: &Path) -> YtResult<Option<PreparedLogo>> {
    let Some(logo) = logo else {
        return Ok(None);
    };
    let (source, settings) = (logo.file.to_owned(), logo.settings.clone());
    let file = out.with_extension("logo.png");
    let target = file.clone();
    let (x, y) = blocking(move || {
        let overlay = LogoOverlay {
            file: &source,
            settings: &settings,
        };
        let placed = place_logo(&overlay, FRAME_WIDTH, FRAME_HEIGHT, true)?;
        placed.image.save(&target).map_err(|err| {
            YtError::new(
                ErrorCode::IMAGE_RENDER_FAILED,
                format!("cannot write the scaled logo {}: {err}", target.display()),
            )
            .detail("path", target.display().to_string())
        })?;
        Ok((placed.x, placed.y))
    })
    .await?;
    Ok(Some(PreparedLogo { file, x, y }))
}

/// The video filter arguments for input 0 (the frames), `base` (a filter chain on them, if any),
/// the logo (input 1) and the subtitles, in that order, so subtitles are drawn over the logo.
/// Without a logo it stays a simple `-vf` chain. The logo is converted to BT.709 limited-range
/// YUV with alpha before `overlay`, the same conversion the frames had, so its colours match
/// the colour tags of the clip.
fn filter_args(
    base: Option<String>,
    logo: Option<&PreparedLogo>,
    ass: Option<&Path>,
) -> Vec<OsString> {
    let Some(logo) = logo else {
        let chain: Vec<OsString> = base
            .map(OsString::from)
            .into_iter()
            .chain(ass.map(ass_filter))
            .collect();
        if chain.is_empty() {
            return Vec::new();
        }
        return vec![OsString::from("-vf"), chain.join(&OsString::from(","))];
    };
    let mut graph = OsString::from(format!(
        "[0:v]{}[base];\
         [1:v]scale=out_color_matrix=bt709:out_range=tv,format=yuva420p[logo];\
         [base][logo]overlay=x={}:y={}:format=yuv420:eof_action=repeat",
        base.as_deref().unwrap_or("null"),
        logo.x,
        logo.y
    ));
    if let Some(ass) = ass {
        graph.push(",");
        graph.push(ass_filter(ass));
    }
    vec![
        OsString::from("-i"),
        logo.file.as_os_str().to_owned(),
        OsString::from("-filter_complex"),
        graph,
    ]
}

/// `ass=filename=…` with the path escaped twice: once for the option value (`\ ' :`), once for
/// the filter graph (`\ ' [ ] , ;`), the two levels FFmpeg parses.
fn ass_filter(path: &Path) -> OsString {
    let value = escape(&path.to_string_lossy(), &['\\', '\'', ':']);
    OsString::from(format!(
        "ass=filename={}",
        escape(&value, &['\\', '\'', '[', ']', ',', ';'])
    ))
}

fn escape(text: &str, special: &[char]) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if special.contains(&c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn frames_at(seconds: f64, frames: u32) -> u32 {
    ((seconds * f64::from(FPS)).round() as u32).min(frames)
}

fn os_args(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

/// Runs CPU-bound or blocking work off the async threads, in the caller's span.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> YtResult<T> + Send + 'static,
) -> YtResult<T> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(panicked)?
}

pub(crate) fn panicked(join: tokio::task::JoinError) -> YtError {
    let message = match join.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "non-text panic".to_owned()),
        Err(join) => join.to_string(),
    };
    YtError::new(
        ErrorCode::WORKER_PANICKED,
        format!("render worker panicked: {message}"),
    )
    .detail("panic", message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ass_paths_are_escaped_for_both_filter_levels() {
        let filter = ass_filter(Path::new("/tmp/a b,c/it's:[x].ass"));
        assert_eq!(
            filter,
            OsString::from(r"ass=filename=/tmp/a b\,c/it\\\'s\\:\[x\].ass")
        );
    }

    #[test]
    fn progress_is_clamped_to_the_clip() {
        assert_eq!(frames_at(1.0, 90), 30);
        assert_eq!(frames_at(3.2, 90), 90);
    }
}
