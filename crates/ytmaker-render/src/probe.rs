//! What a media file holds, as ffprobe reports it.

use serde::Deserialize;
use std::ffi::OsString;
use std::path::Path;
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::run::capture;
use crate::tools::Toolchain;

#[derive(Clone, Debug, PartialEq)]
pub struct MediaInfo {
    /// The container's duration.
    pub duration_s: f64,
    /// The first video stream that is not an attached picture (cover art).
    pub video: Option<VideoStream>,
    pub audio: Option<AudioStream>,
    /// ffprobe's `format_name`, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub format_name: String,
    pub size_bytes: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct VideoStream {
    pub codec: String,
    /// Empty when the codec has no profiles (e.g. rawvideo).
    pub profile: String,
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    pub pix_fmt: String,
    pub duration_s: f64,
    /// The frame count the container records (`nb_frames`); `None` when it records none (mkv).
    pub frames: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AudioStream {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u32,
    pub bit_rate: Option<u64>,
    pub duration_s: f64,
}

/// Probes `path` with `ffprobe -of json`. A missing file is `FILE_NOT_FOUND`; a file ffprobe
/// cannot read, or one with no duration or no audio/video stream, is `MEDIA_INVALID`.
pub async fn probe(tools: &Toolchain, path: &Path) -> YtResult<MediaInfo> {
    let metadata = tokio::fs::metadata(path)
        .await
        .map_err(|err| YtError::io("probe", path, &err))?;
    let args: Vec<OsString> = [
        "-v",
        "error",
        "-print_format",
        "json",
        "-show_format",
        "-show_streams",
    ]
    .into_iter()
    .map(OsString::from)
    .chain([path.as_os_str().to_owned()])
    .collect();
    let out = capture("ffprobe", &tools.ffprobe, "probe", &args).await?;
    let invalid = |reason: &str| {
        YtError::new(
            ErrorCode::MEDIA_INVALID,
            format!("{} is not a usable media file: {reason}", path.display()),
        )
        .detail("path", path.display().to_string())
        .detail("reason", reason)
    };
    if !out.status.success() {
        return Err(invalid("ffprobe cannot read it")
            .detail("exit_status", out.status.to_string())
            .detail("stderr_tail", out.stderr_tail));
    }
    let raw: RawProbe = serde_json::from_slice(&out.stdout).map_err(|err| {
        let head: String = String::from_utf8_lossy(&out.stdout)
            .chars()
            .take(300)
            .collect();
        invalid("ffprobe's answer is not the expected JSON")
            .detail("parse_error", err.to_string())
            .detail("output_head", head)
    })?;
    let format = raw
        .format
        .ok_or_else(|| invalid("ffprobe reports no container format"))?;
    let duration_s =
        parse_seconds(format.duration.as_deref()).ok_or_else(|| invalid("no duration"))?;

    let streams = raw.streams.unwrap_or_default();
    let video = streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("video") && !s.is_attached_picture())
        .map(|s| s.video(duration_s))
        .transpose()
        .map_err(&invalid)?;
    let audio = streams
        .iter()
        .find(|s| s.codec_type.as_deref() == Some("audio"))
        .map(|s| s.audio(duration_s))
        .transpose()
        .map_err(&invalid)?;
    if video.is_none() && audio.is_none() {
        return Err(invalid("no audio or video stream"));
    }
    Ok(MediaInfo {
        duration_s,
        video,
        audio,
        format_name: format.format_name.unwrap_or_default(),
        size_bytes: metadata.len(),
    })
}

#[derive(Deserialize)]
struct RawProbe {
    streams: Option<Vec<RawStream>>,
    format: Option<RawFormat>,
}

#[derive(Deserialize)]
struct RawFormat {
    format_name: Option<String>,
    duration: Option<String>,
}

#[derive(Deserialize)]
struct RawStream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    profile: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    pix_fmt: Option<String>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    duration: Option<String>,
    nb_frames: Option<String>,
    sample_rate: Option<String>,
    channels: Option<u32>,
    bit_rate: Option<String>,
    disposition: Option<RawDisposition>,
}

#[derive(Deserialize)]
struct RawDisposition {
    #[serde(default)]
    attached_pic: u8,
}

impl RawStream {
    fn is_attached_picture(&self) -> bool {
        self.disposition
            .as_ref()
            .is_some_and(|d| d.attached_pic == 1)
    }

    /// Matroska and WebM record durations on the container only, so a stream without one
    /// lasts as long as the container.
    fn duration_or(&self, container_s: f64) -> f64 {
        parse_seconds(self.duration.as_deref()).unwrap_or(container_s)
    }

    fn video(&self, container_s: f64) -> Result<VideoStream, &'static str> {
        let (Some(width), Some(height)) = (self.width, self.height) else {
            return Err("video stream without a frame size");
        };
        // avg_frame_rate is 0/0 for streams without timing (images); r_frame_rate is then the
        // demuxer's guess, which is what FFmpeg itself would use.
        let fps = parse_rate(self.avg_frame_rate.as_deref())
            .or_else(|| parse_rate(self.r_frame_rate.as_deref()))
            .ok_or("video stream without a frame rate")?;
        Ok(VideoStream {
            codec: self.codec_name.clone().unwrap_or_default(),
            profile: self.profile.clone().unwrap_or_default(),
            width,
            height,
            fps,
            pix_fmt: self.pix_fmt.clone().unwrap_or_default(),
            duration_s: self.duration_or(container_s),
            frames: self.nb_frames.as_deref().and_then(|n| n.parse().ok()),
        })
    }

    fn audio(&self, container_s: f64) -> Result<AudioStream, &'static str> {
        let sample_rate = self
            .sample_rate
            .as_deref()
            .and_then(|r| r.parse().ok())
            .ok_or("audio stream without a sample rate")?;
        Ok(AudioStream {
            codec: self.codec_name.clone().unwrap_or_default(),
            sample_rate,
            channels: self
                .channels
                .ok_or("audio stream without a channel count")?,
            bit_rate: self.bit_rate.as_deref().and_then(|b| b.parse().ok()),
            duration_s: self.duration_or(container_s),
        })
    }
}

fn parse_seconds(raw: Option<&str>) -> Option<f64> {
    raw?.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
}

fn parse_rate(raw: Option<&str>) -> Option<f64> {
    let (num, den) = raw?.split_once('/')?;
    let (num, den) = (num.parse::<f64>().ok()?, den.parse::<f64>().ok()?);
    (num > 0.0 && den > 0.0).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate(Some("30/1")), Some(30.0));
        assert_eq!(parse_rate(Some("30000/1001")), Some(30000.0 / 1001.0));
        assert_eq!(parse_rate(Some("0/0")), None);
        assert_eq!(parse_rate(None), None);
    }
}
