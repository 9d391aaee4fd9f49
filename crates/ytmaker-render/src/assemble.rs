//! The final video: clips joined without re-encoding, narration joined sample-accurately and
//! encoded once.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::run::run_ffmpeg;
use crate::tools::Toolchain;

pub struct AssembleJob<'a> {
    /// Rendered clips in playing order (intro, segments…, outro).
    pub clips: &'a [PathBuf],
    /// One audio file per narration line, in the same order and with the durations the
    /// [`crate::Timeline`] was built from.
    pub narration: &'a [PathBuf],
    /// Where the concat list is written.
    pub work_dir: &'a Path,
    pub out: &'a Path,
}

/// Joins the clips with the concat demuxer and `-c:v copy` (the clips are encoded identically,
/// see [`crate::render_segment_clip`]), joins the narration with the `concat` filter (decoded
/// samples end to end, so no gap or overlap at the joins), encodes AAC 192 kbps 48 kHz stereo
/// once, and muxes MP4 with `+faststart`. `on_progress` gets the seconds written so far.
pub async fn assemble(
    tools: &Toolchain,
    job: &AssembleJob<'_>,
    on_progress: &(dyn Fn(f64) + Send + Sync),
) -> YtResult<()> {
    if job.clips.is_empty() || job.narration.is_empty() {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "clips/narration",
            "at least one of each",
            job.clips.len(),
        ));
    }
    for file in job.clips.iter().chain(job.narration) {
        tokio::fs::metadata(file)
            .await
            .map_err(|err| YtError::io("read", file, &err))?;
    }
    let list = job.work_dir.join("clips.concat.txt");
    let mut listing = String::from("ffconcat version 1.0\n");
    for clip in job.clips {
        let absolute =
            std::path::absolute(clip).map_err(|err| YtError::io("resolve", clip, &err))?;
        listing.push_str(&format!(
            "file '{}'\n",
            absolute.to_string_lossy().replace('\'', r"'\''")
        ));
    }
    tokio::fs::write(&list, listing)
        .await
        .map_err(|err| YtError::io("write concat list", &list, &err))?;

    let mut args: Vec<OsString> = ["-f", "concat", "-safe", "0", "-i"]
        .map(OsString::from)
        .into();
    args.push(list.into_os_string());
    for line in job.narration {
        args.extend([OsString::from("-i"), line.as_os_str().to_owned()]);
    }
    let mut graph = String::new();
    for i in 0..job.narration.len() {
        graph.push_str(&format!(
            "[{}:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[a{i}];",
            i + 1
        ));
    }
    for i in 0..job.narration.len() {
        graph.push_str(&format!("[a{i}]"));
    }
    graph.push_str(&format!(
        "concat=n={}:v=0:a=1[narration]",
        job.narration.len()
    ));
    args.extend(
        [
            "-filter_complex",
            &graph,
            "-map",
            "0:v:0",
            "-map",
            "[narration]",
            "-c:v",
            "copy",
            "-c:a",
            "aac",
            "-b:a",
            "192k",
            "-ar",
            "48000",
            "-ac",
            "2",
            "-movflags",
            "+faststart",
        ]
        .map(OsString::from),
    );
    args.push(job.out.as_os_str().to_owned());
    run_ffmpeg(tools, "assemble", &args, on_progress).await
}
