//! The one place that starts FFmpeg processes and logs them.
//!
//! Every ffmpeg and ffprobe run goes through [`run_ffmpeg`] (or its crate-internal variants), so
//! each run is logged exactly once, with its purpose and duration, and fails with the same typed
//! error wherever it was started from.

use serde_json::Value;
use std::ffi::OsString;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader};
use tokio::process::Command;
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::tools::Toolchain;

/// How much of stderr an error carries: enough for FFmpeg's final complaint and the lines that
/// led to it, small enough for a log line and `error_info`.
const STDERR_TAIL_CHARS: usize = 2000;

/// Runs ffmpeg with `-hide_banner -nostdin -y -progress pipe:1 -nostats` followed by `args`.
///
/// `on_progress` gets the seconds of output written so far (FFmpeg's `out_time_us`). A non-zero
/// exit is `FFMPEG_EXECUTION_FAILED` with `purpose`, `exit_status`, `stderr_tail` and `args` in
/// the details. Dropping the future kills the process.
pub async fn run_ffmpeg(
    tools: &Toolchain,
    purpose: &str,
    args: &[OsString],
    on_progress: &(dyn Fn(f64) + Send + Sync),
) -> YtResult<()> {
    run_ffmpeg_with_stdin(tools, purpose, args, Stdio::null(), on_progress).await
}

/// [`run_ffmpeg`] with `stdin` as the process's standard input, for frames piped in as rawvideo.
pub(crate) async fn run_ffmpeg_with_stdin(
    tools: &Toolchain,
    purpose: &str,
    args: &[OsString],
    stdin: Stdio,
    on_progress: &(dyn Fn(f64) + Send + Sync),
) -> YtResult<()> {
    let mut command = Command::new(&tools.ffmpeg);
    command
        .args([
            "-hide_banner",
            "-nostdin",
            "-y",
            "-progress",
            "pipe:1",
            "-nostats",
        ])
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let spawned = command.spawn();
    // The command holds our copy of a piped stdin's read end; until it is dropped a frame writer
    // would block forever on a full pipe instead of seeing EPIPE when ffmpeg dies.
    drop(command);
    let mut child = spawned
        .map_err(|err| spawn_failed("ffmpeg", &tools.ffmpeg, purpose, &err, started.elapsed()))?;
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");

    let progress = async {
        let mut lines = BufReader::new(stdout).split(b'\n');
        while let Some(line) = lines.next_segment().await? {
            // `out_time_us=N/A` comes before the first frame; only numbers are progress.
            let us = std::str::from_utf8(&line)
                .ok()
                .and_then(|l| l.strip_prefix("out_time_us="))
                .and_then(|v| v.trim().parse::<i64>().ok());
            if let Some(us) = us {
                on_progress(us.max(0) as f64 / 1e6);
            }
        }
        Ok::<(), std::io::Error>(())
    };
    let (status, progress, stderr_tail) = tokio::join!(child.wait(), progress, read_tail(stderr));
    let duration_ms = started.elapsed().as_millis() as u64;

    let (exit_status, stderr_tail) = match (status, progress, stderr_tail) {
        (Ok(status), Ok(()), Ok(_)) if status.success() => {
            tracing::info!(tool = "ffmpeg", purpose, duration_ms, "ffmpeg run finished");
            return Ok(());
        }
        (Ok(status), Ok(()), Ok(tail)) => (status.to_string(), tail),
        (Err(err), _, _) | (_, Err(err), _) | (_, _, Err(err)) => (
            "unknown".to_owned(),
            format!("cannot read ffmpeg's output: {err}"),
        ),
    };
    tracing::error!(
        tool = "ffmpeg",
        purpose,
        duration_ms,
        exit_status = exit_status.as_str(),
        error_code = ErrorCode::FFMPEG_EXECUTION_FAILED.as_str(),
        stderr_tail = stderr_tail.as_str(),
        "ffmpeg run failed"
    );
    Err(YtError::new(
        ErrorCode::FFMPEG_EXECUTION_FAILED,
        format!("ffmpeg failed ({purpose}): {}", last_line(&stderr_tail)),
    )
    .detail("purpose", purpose)
    .detail("exit_status", exit_status)
    .detail("stderr_tail", stderr_tail)
    .detail(
        "args",
        Value::from(
            args.iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
        ),
    ))
}

/// What a short, non-streaming run (ffprobe, `-version`) printed.
pub(crate) struct Captured {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr_tail: String,
}

/// Runs `program args` to completion and hands back its output; the caller decides what a
/// non-zero exit means (for ffprobe it is a bad media file, not a broken FFmpeg).
pub(crate) async fn capture(
    tool: &'static str,
    program: &Path,
    purpose: &str,
    args: &[OsString],
) -> YtResult<Captured> {
    let started = Instant::now();
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|err| spawn_failed(tool, program, purpose, &err, started.elapsed()))?;
    let duration_ms = started.elapsed().as_millis() as u64;
    let status = output.status;
    tracing::info!(
        tool,
        purpose,
        duration_ms,
        exit_status = status.to_string().as_str(),
        "{tool} run finished"
    );
    Ok(Captured {
        status,
        stdout: output.stdout,
        stderr_tail: tail_chars(&String::from_utf8_lossy(&output.stderr)),
    })
}

fn spawn_failed(
    tool: &'static str,
    program: &Path,
    purpose: &str,
    err: &std::io::Error,
    elapsed: Duration,
) -> YtError {
    let code = match err.kind() {
        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => {
            ErrorCode::FFMPEG_NOT_FOUND
        }
        _ => ErrorCode::FFMPEG_EXECUTION_FAILED,
    };
    tracing::error!(
        tool,
        purpose,
        duration_ms = elapsed.as_millis() as u64,
        error_code = code.as_str(),
        os_error = %err,
        "{tool} could not be started"
    );
    YtError::new(code, format!("cannot start {}: {err}", program.display()))
        .detail("binary", program.display().to_string())
        .detail("purpose", purpose)
        .detail("os_error", err.to_string())
}

/// Drains a pipe to the end, keeping only its tail, so a chatty process never blocks on a full
/// pipe and memory stays bounded.
async fn read_tail(mut pipe: impl AsyncRead + Unpin) -> std::io::Result<String> {
    const KEEP_BYTES: usize = 16 * 1024;
    let mut kept = Vec::with_capacity(KEEP_BYTES);
    let mut chunk = [0u8; 4096];
    loop {
        let n = pipe.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        kept.extend_from_slice(&chunk[..n]);
        if kept.len() > 2 * KEEP_BYTES {
            kept.drain(..kept.len() - KEEP_BYTES);
        }
    }
    Ok(tail_chars(&String::from_utf8_lossy(&kept)))
}

fn tail_chars(text: &str) -> String {
    let text = text.trim_end();
    let skip = text.chars().count().saturating_sub(STDERR_TAIL_CHARS);
    text.chars().skip(skip).collect()
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("no error output")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_keeps_the_last_characters_on_char_boundaries() {
        let long = "錯".repeat(STDERR_TAIL_CHARS + 10) + "end\n";
        let tail = tail_chars(&long);
        assert_eq!(tail.chars().count(), STDERR_TAIL_CHARS);
        assert!(tail.ends_with("錯end"));
    }
}
