//! The local presenter: a portrait that "speaks" with the narration, rendered by FFmpeg into a
//! 720×720, 30 fps H.264 clip with the narration as AAC (the renderer re-composes it into the
//! 1080p frame).
//!
//! How the motion follows the voice: the narration's loudness is measured per video frame (FFmpeg
//! decodes it to 8 kHz mono PCM, RMS per 1/30 s, fast attack, slower release) and drives the
//! opacity of a `blend` between the idle and the talking frame through `sendcmd` — so the mouth of
//! the built-in presenter opens with each syllable and the ring around any portrait lights up —
//! while `showwaves` draws the live waveform below the portrait. One x264 pass, `ultrafast`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use image::RgbImage;
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_render::Toolchain;

use super::portrait::{self, Frames, LOOK_VERSION, WAVE_H, WAVE_W, WAVE_X, WAVE_Y};
use super::stable_hash;
use super::title_card::blocking;
use crate::atomic::{self, PendingFile};
use crate::{Presenter, PresenterClip, PresenterRequest};

/// Width and height of the clip.
pub const PRESENTER_SIZE: u32 = portrait::FRAME;
pub const PRESENTER_FPS: u32 = 30;

/// Sample rate the loudness is measured at: speech energy is below 4 kHz.
const ENVELOPE_RATE: u32 = 8000;
/// The loudness range mapped onto closed..open, below the voice's typical peak.
const DYNAMIC_RANGE_DB: f64 = 24.0;

pub struct LocalPresenter {
    tools: Toolchain,
}

impl LocalPresenter {
    pub fn new(tools: Toolchain) -> Self {
        LocalPresenter { tools }
    }

    /// The idle and talking frames as PNG files in `out_dir`, drawn once per portrait (keyed by
    /// the portrait's bytes, or the built-in drawing) and reused afterwards.
    async fn frames(
        &self,
        portrait: Option<&Path>,
        out_dir: &Path,
    ) -> YtResult<(PathBuf, PathBuf)> {
        let (key, photo) = match portrait {
            Some(path) => {
                let bytes = tokio::fs::read(path).await.map_err(|e| {
                    portrait_invalid(path, &format!("cannot read it: {e}"))
                        .detail("os_error", e.to_string())
                })?;
                let key = format!("portrait-{:016x}-v{LOOK_VERSION}", stable_hash(&bytes));
                (key, Some((path.to_path_buf(), bytes)))
            }
            None => (format!("builtin-v{LOOK_VERSION}"), None),
        };
        let idle = out_dir.join(format!("presenter-{key}-idle.png"));
        let talking = out_dir.join(format!("presenter-{key}-talking.png"));
        if exists(&idle).await? && exists(&talking).await? {
            return Ok((idle, talking));
        }
        let (idle_png, talking_png) = blocking("draw the presenter", move || {
            let frames = match photo {
                Some((path, bytes)) => {
                    let decoded = image::load_from_memory(&bytes)
                        .map_err(|e| portrait_invalid(&path, &e.to_string()))?;
                    portrait::frames_for_photo(&decoded)
                }
                None => portrait::frames_builtin(),
            };
            let Frames { idle, talking } = frames;
            Ok((encode_png(&idle)?, encode_png(&talking)?))
        })
        .await?;
        atomic::write_file(&idle, &idle_png).await?;
        atomic::write_file(&talking, &talking_png).await?;
        Ok((idle, talking))
    }

    /// Per-frame mouth openness (0..1) from the narration's loudness.
    async fn envelope(&self, audio: &Path, out_dir: &Path, stem: &str) -> YtResult<Vec<f64>> {
        let scratch = PendingFile::new(&out_dir.join(format!("{stem}.loudness.pcm")));
        let args: Vec<OsString> = vec![
            "-i".into(),
            audio.as_os_str().to_owned(),
            "-vn".into(),
            "-ac".into(),
            "1".into(),
            "-ar".into(),
            ENVELOPE_RATE.to_string().into(),
            "-f".into(),
            "s16le".into(),
            "-c:a".into(),
            "pcm_s16le".into(),
            scratch.path().as_os_str().to_owned(),
        ];
        ytmaker_render::run_ffmpeg(&self.tools, "presenter loudness", &args, &|_| {}).await?;
        let pcm = tokio::fs::read(scratch.path())
            .await
            .map_err(|e| YtError::io("read", scratch.path(), &e))?;
        // The scratch file is dropped (and removed) here; it was never meant to be kept.
        drop(scratch);
        let samples: Vec<i16> = pcm
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        Ok(openness(&samples, ENVELOPE_RATE, PRESENTER_FPS))
    }
}

pub(crate) fn portrait_invalid(path: &Path, reason: &str) -> YtError {
    YtError::new(
        ErrorCode::PRESENTER_PORTRAIT_INVALID,
        format!(
            "the presenter portrait {} is not a usable PNG/JPEG image: {reason}",
            path.display()
        ),
    )
    .detail("path", path.display().to_string())
    .detail("reason", reason)
}

async fn exists(path: &Path) -> YtResult<bool> {
    match tokio::fs::metadata(path).await {
        Ok(m) => Ok(m.is_file()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(YtError::io("check", path, &e)),
    }
}

fn encode_png(image: &RgbImage) -> YtResult<Vec<u8>> {
    let mut bytes = Vec::new();
    image
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .map_err(|e| {
            YtError::new(
                ErrorCode::IMAGE_RENDER_FAILED,
                format!("cannot encode a presenter frame: {e}"),
            )
        })?;
    Ok(bytes)
}

/// Loudness per video frame mapped to 0..1: RMS in dB relative to the voice's own loud level (the
/// 90th percentile of voiced frames), over [`DYNAMIC_RANGE_DB`]; then smoothed with a fast attack
/// and a slower release, as a mouth opens quickly and closes more gently.
pub(crate) fn openness(samples: &[i16], sample_rate: u32, fps: u32) -> Vec<f64> {
    let per_frame = sample_rate as f64 / fps as f64;
    let frames = (samples.len() as f64 / per_frame).ceil() as usize;
    let db: Vec<f64> = (0..frames)
        .map(|k| {
            let (a, b) = (
                (k as f64 * per_frame) as usize,
                (((k + 1) as f64 * per_frame) as usize).min(samples.len()),
            );
            let window = &samples[a.min(b)..b];
            if window.is_empty() {
                return -120.0;
            }
            let mean_square = window
                .iter()
                .map(|&s| (s as f64 / 32768.0).powi(2))
                .sum::<f64>()
                / window.len() as f64;
            10.0 * (mean_square + 1e-12).log10()
        })
        .collect();
    let mut voiced: Vec<f64> = db.iter().copied().filter(|d| *d > -55.0).collect();
    if voiced.is_empty() {
        return vec![0.0; frames];
    }
    voiced.sort_by(f64::total_cmp);
    let loud = voiced[((voiced.len() - 1) as f64 * 0.9) as usize];
    let floor = loud - DYNAMIC_RANGE_DB;
    let mut level = 0.0;
    db.iter()
        .map(|d| {
            let target = ((d - floor) / DYNAMIC_RANGE_DB).clamp(0.0, 1.0);
            let speed = if target > level { 0.7 } else { 0.35 };
            level += speed * (target - level);
            level
        })
        .collect()
}

/// `sendcmd` commands setting the blend's opacity at each frame where the (quantised) openness
/// changes.
fn blend_commands(openness: &[f64], fps: u32) -> String {
    let mut out = String::new();
    let mut last = -1.0;
    for (k, v) in openness.iter().enumerate() {
        let q = (v * 20.0).round() / 20.0;
        if (q - last).abs() > f64::EPSILON {
            let t = k as f64 / fps as f64;
            // Written into a quoted option value: only digits, dots, letters, '@', '_' and ';'.
            out.push_str(&format!("{t:.4} blend@talk all_opacity {q:.2};"));
            last = q;
        }
    }
    out
}

#[async_trait]
impl Presenter for LocalPresenter {
    fn id(&self) -> &'static str {
        "local-presenter"
    }

    async fn present(&self, req: &PresenterRequest<'_>) -> YtResult<PresenterClip> {
        if !(req.duration_s.is_finite() && req.duration_s > 0.0) {
            return Err(YtError::new(
                ErrorCode::MEDIA_INVALID,
                "the presenter's narration has no duration",
            )
            .detail("path", req.audio.display().to_string())
            .detail("duration_s", req.duration_s));
        }
        tokio::fs::metadata(req.audio)
            .await
            .map_err(|e| YtError::io("read", req.audio, &e))?;
        let (idle, talking) = self
            .frames(req.settings.portrait.as_deref(), req.out_dir)
            .await?;
        let openness = self.envelope(req.audio, req.out_dir, req.file_stem).await?;
        let commands = blend_commands(&openness, PRESENTER_FPS);

        // Each still is decoded once and repeated in memory by `loop` (an input looped with
        // `-loop 1` is decoded again for every frame, several times slower).
        let still =
            format!("format=yuv420p,loop=loop=-1:size=1:start=0,setpts=N/{PRESENTER_FPS}/TB");
        let graph = format!(
            "[1:v]{still},sendcmd=c='{commands}'[top];\
             [0:v]{still}[bottom];\
             [top][bottom]blend@talk=all_mode=normal:all_opacity=0[face];\
             [2:a]aformat=channel_layouts=mono,showwaves=s={WAVE_W}x{WAVE_H}:mode=cline:rate={PRESENTER_FPS}:scale=sqrt:colors=0xB8F4F2[wave];\
             [face][wave]overlay=x={WAVE_X}:y={WAVE_Y}:format=auto,format=yuv420p[v]"
        );
        // The graph goes through a file: the command list can be longer than one argument may be.
        let graph_file = PendingFile::new(
            &req.out_dir
                .join(format!("{}.presenter-graph.txt", req.file_stem)),
        );
        tokio::fs::write(graph_file.path(), graph.as_bytes())
            .await
            .map_err(|e| YtError::io("write", graph_file.path(), &e))?;

        let target = req.out_dir.join(format!("{}.mp4", req.file_stem));
        let pending = PendingFile::new(&target);
        let fps = PRESENTER_FPS.to_string();
        let mut args: Vec<OsString> = Vec::new();
        for still in [&idle, &talking] {
            args.extend(["-i".into(), still.as_os_str().to_owned()]);
        }
        args.extend(["-i".into(), req.audio.as_os_str().to_owned()]);
        args.extend([
            "-filter_complex_script".into(),
            graph_file.path().as_os_str().to_owned(),
        ]);
        for a in [
            "-map",
            "[v]",
            "-map",
            "2:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "18",
            "-pix_fmt",
            "yuv420p",
            "-r",
            &fps,
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-movflags",
            "+faststart",
            "-t",
        ] {
            args.push(a.into());
        }
        args.push(format!("{:.3}", req.duration_s).into());
        args.push(pending.path().as_os_str().to_owned());
        let total = req.duration_s;
        ytmaker_render::run_ffmpeg(&self.tools, "presenter clip", &args, &|done| {
            tracing::trace!(done_s = done, total_s = total, "presenter clip progress");
        })
        .await?;
        drop(graph_file);

        let info = ytmaker_render::probe(&self.tools, pending.path()).await?;
        if info.video.is_none() {
            return Err(YtError::new(
                ErrorCode::MEDIA_INVALID,
                "the presenter clip has no video stream",
            )
            .detail("path", target.display().to_string()));
        }
        let path = pending.commit().await?;
        tracing::info!(
            provider = "local-presenter",
            duration_s = info.duration_s,
            frames = openness.len(),
            "presenter clip rendered"
        );
        Ok(PresenterClip {
            path,
            duration_s: info.duration_s,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openness_follows_loudness() {
        let rate = 8000;
        // 0.5 s of silence, 0.5 s of a loud tone, 0.5 s of silence.
        let mut samples = vec![0i16; 4000];
        samples.extend((0..4000).map(|i| ((i as f64 * 0.3).sin() * 12000.0) as i16));
        samples.extend(vec![0i16; 4000]);
        let open = openness(&samples, rate, 30);
        assert_eq!(open.len(), 45);
        assert!(open[5] < 0.01, "closed in silence: {}", open[5]);
        assert!(open[25] > 0.9, "open while loud: {}", open[25]);
        assert!(open[44] < 0.05, "closes again: {}", open[44]);
        assert!(open[31] > open[34], "closes gradually");
    }

    #[test]
    fn commands_are_emitted_only_on_change() {
        let cmds = blend_commands(&[0.0, 0.0, 0.51, 0.52, 1.0], 30);
        assert_eq!(
            cmds,
            "0.0000 blend@talk all_opacity 0.00;0.0667 blend@talk all_opacity 0.50;0.1333 blend@talk all_opacity 1.00;"
        );
    }
}
