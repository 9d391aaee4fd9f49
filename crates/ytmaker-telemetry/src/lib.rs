//! Structured logging for ytmaker (SPEC §7).
//!
//! Every log line is one JSON object with `timestamp` (RFC 3339 UTC), `level`, `message`, the
//! fields of every enclosing span flattened to the top level (so `trace_id`, `project_id` and
//! `stage` set on a run's span appear on every line of that run), then the event's own fields.
//! Fields whose name says they hold a secret are replaced by `"[REDACTED]"` before anything is
//! written, as a second line of defence: secrets are never passed to a log call in the first place.
//!
//! [`init`] installs the subscriber; [`read_lines`] reads a run's lines back for `ytmaker logs`.

mod json_layer;
mod reader;

pub use json_layer::JsonLines;
pub use reader::{LogFilter, read_lines};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::{EnvFilter, layer::SubscriberExt, util::SubscriberInitExt};
use ytmaker_core::{ErrorCode, YtError, YtResult};

/// Where log lines go.
pub struct LogOptions {
    /// Daily-rotated `ytmaker.YYYY-MM-DD.log` files, 30 kept.
    pub dir: PathBuf,
    /// Also write every line to stdout (the server does; interactive CLI commands don't, so the
    /// progress bars stay readable).
    pub stdout: bool,
    /// A `tracing` filter such as `info` or `ytmaker=debug`.
    pub filter: String,
}

pub const LOG_FILE_PREFIX: &str = "ytmaker";
pub const LOG_FILE_SUFFIX: &str = "log";
const KEPT_LOG_FILES: usize = 30;

pub type SharedWriter = Arc<Mutex<dyn Write + Send>>;

/// Installs the JSON subscriber for the process. Lines are written synchronously so a crash
/// (even `kill -9`) loses no line that was logged before it.
pub fn init(opts: &LogOptions) -> YtResult<()> {
    let writers = writers_for(opts)?;
    let filter = EnvFilter::try_new(&opts.filter).map_err(|e| {
        YtError::new(
            ErrorCode::CONFIG_INVALID,
            format!("invalid log filter {:?}: {e}", opts.filter),
        )
        .detail("field", "log_filter")
    })?;
    tracing_subscriber::registry()
        .with(filter)
        .with(JsonLines::new(writers))
        .try_init()
        .map_err(|e| {
            YtError::new(
                ErrorCode::CONFIG_INVALID,
                format!("logging was already initialised: {e}"),
            )
        })
}

pub fn writers_for(opts: &LogOptions) -> YtResult<Vec<SharedWriter>> {
    let mut writers: Vec<SharedWriter> = vec![Arc::new(Mutex::new(rolling_file(&opts.dir)?))];
    if opts.stdout {
        writers.push(Arc::new(Mutex::new(std::io::stdout())));
    }
    Ok(writers)
}

fn rolling_file(dir: &Path) -> YtResult<RollingFileAppender> {
    std::fs::create_dir_all(dir).map_err(|e| YtError::io("create the log directory", dir, &e))?;
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(LOG_FILE_PREFIX)
        .filename_suffix(LOG_FILE_SUFFIX)
        .max_log_files(KEPT_LOG_FILES)
        .build(dir)
        .map_err(|e| {
            YtError::new(
                ErrorCode::FILE_SYSTEM_ERROR,
                format!("cannot open the log file in {}: {e}", dir.display()),
            )
            .detail("path", dir.display().to_string())
        })
}
