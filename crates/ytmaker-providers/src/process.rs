//! Running an external program (espeak-ng). FFmpeg runs go through `ytmaker_render::run_ffmpeg`;
//! this is the one place every other program is started and logged.

use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use ytmaker_core::{ErrorCode, YtError, YtResult};

/// One run of a program.
pub(crate) struct ToolRun<'a> {
    /// Name in logs and error details (`espeak-ng`).
    pub tool: &'static str,
    pub program: &'a Path,
    pub args: &'a [OsString],
    /// Bytes written to the program's standard input (text never goes through a shell).
    pub stdin: Option<&'a [u8]>,
    pub timeout: Duration,
    /// The code when the program is not installed.
    pub not_found: ErrorCode,
    /// The code when it cannot be started, fails, or times out.
    pub failed: ErrorCode,
}

/// Runs the program and logs the run once: tool and duration_ms, plus error_code and the tail of
/// stderr when it fails.
pub(crate) async fn run_tool(run: ToolRun<'_>) -> YtResult<()> {
    let started = Instant::now();
    let result = execute(&run).await;
    let duration_ms = started.elapsed().as_millis() as u64;
    match &result {
        Ok(_) => tracing::info!(tool = run.tool, duration_ms, "external program finished"),
        Err(err) => tracing::error!(
            tool = run.tool,
            duration_ms,
            error_code = err.code.as_str(),
            stderr_tail = err.details.get("stderr_tail").and_then(|v| v.as_str()).unwrap_or(""),
            message = %err.message,
            "external program failed"
        ),
    }
    result
}

async fn execute(run: &ToolRun<'_>) -> YtResult<()> {
    let program = run.program.display().to_string();
    let mut child = Command::new(run.program)
        .args(run.args)
        .stdin(if run.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A timed-out run is dropped; the process must not outlive it.
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                run.not_found
            } else {
                run.failed
            };
            YtError::new(code, format!("cannot start {}: {e}", run.tool))
                .detail("tool", run.tool)
                .detail("program", program.clone())
                .detail("os_error", e.to_string())
        })?;

    let writer = match (run.stdin, child.stdin.take()) {
        (Some(bytes), Some(mut pipe)) => {
            let bytes = bytes.to_vec();
            Some(tokio::spawn(async move {
                pipe.write_all(&bytes).await?;
                pipe.shutdown().await
            }))
        }
        _ => None,
    };

    let output = match tokio::time::timeout(run.timeout, child.wait_with_output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => {
            return Err(YtError::new(
                run.failed,
                format!("{} could not be waited for: {e}", run.tool),
            )
            .detail("tool", run.tool)
            .detail("program", program));
        }
        Err(_) => {
            return Err(YtError::new(
                run.failed,
                format!(
                    "{} did not finish within {} s",
                    run.tool,
                    run.timeout.as_secs()
                ),
            )
            .detail("tool", run.tool)
            .detail("program", program)
            .detail("timeout_s", run.timeout.as_secs()));
        }
    };
    let stdin_result = match writer {
        Some(task) => match task.await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(join) => Err(join.to_string()),
        },
        None => Ok(()),
    };

    let failure = |message: String| {
        YtError::new(run.failed, message)
            .detail("tool", run.tool)
            .detail("program", program.clone())
            .detail(
                "exit_status",
                output
                    .status
                    .code()
                    .map_or_else(|| output.status.to_string(), |c| c.to_string()),
            )
            .detail("stderr_tail", stderr_tail(&output.stderr))
    };
    if !output.status.success() {
        return Err(failure(format!("{} failed ({})", run.tool, output.status)));
    }
    if let Err(e) = stdin_result {
        return Err(failure(format!("{} did not read its input: {e}", run.tool)));
    }
    Ok(())
}

/// The last lines of stderr (at most 2,000 bytes), where programs put the reason they failed.
fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(20)..].join("\n");
    let start = tail.len().saturating_sub(2000);
    let start = (start..tail.len())
        .find(|&i| tail.is_char_boundary(i))
        .unwrap_or(tail.len());
    tail[start..].to_owned()
}
