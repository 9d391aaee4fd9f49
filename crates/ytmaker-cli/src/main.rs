//! `ytmaker`: the command-line front end. Parses arguments, resolves settings, wires the store,
//! the providers and the pipeline together, and turns every error into a catalogued report with a
//! meaningful exit code.

mod alerts;
mod bars;
mod cleanup;
mod doctor;
mod generate;
mod keys;
mod logo;
mod projects;
mod quota;
mod report;
mod serve;
mod settings;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing::Instrument;
use uuid::Uuid;
use ytmaker_core::error::Lang;
use ytmaker_core::{ErrorCode, ProjectStatus, Stage, TraceId, YtError, YtResult};
use ytmaker_pipeline::RunOutcome;
use ytmaker_providers::retry::DelayScale;
use ytmaker_render::Toolchain;
use ytmaker_store::{NewProject, Project, ProjectFilter, Store};

use crate::settings::{Settings, load_project_config};

#[derive(Parser)]
#[command(
    name = "ytmaker",
    version,
    about = "Turns a long article into a narrated, subtitled video."
)]
struct Cli {
    /// Data directory (default: $YTMAKER_DATA_DIR, else the platform data directory).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Also print the JSON log lines to stdout (they always go to <data>/logs).
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make one video from a text file.
    Generate {
        file: PathBuf,
        /// Use the offline providers (no API key needed).
        #[arg(long, conflicts_with = "cloud")]
        offline: bool,
        /// Use the cloud providers for every capability (Gemini, Google TTS, Stability AI, D-ID,
        /// YouTube); their keys must be stored (`ytmaker keys`).
        #[arg(long)]
        cloud: bool,
        /// Project name (default: the file name).
        #[arg(long)]
        name: Option<String>,
        /// A TOML file with project configuration (see README).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// List, inspect and resume projects.
    Projects {
        #[command(subcommand)]
        action: ProjectsAction,
    },
    /// Run the local service: REST API, WebSocket progress, web UI and workers.
    Serve {
        /// Address to listen on; anything but loopback requires --token.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        #[arg(long, default_value_t = ytmaker_server::DEFAULT_PORT)]
        port: u16,
        /// Access token every request must carry (Authorization: Bearer …).
        #[arg(long, env = "YTMAKER_SERVER_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Projects run at once by this process (0: API only).
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// A built web UI to serve at / (default: $YTMAKER_UI_DIR, else web/dist of the folder the
        /// server is started from when it holds a built UI).
        #[arg(long, env = "YTMAKER_UI_DIR")]
        ui_dir: Option<PathBuf>,
    },
    /// Serve the MCP tools over stdin/stdout for an AI agent (create a project, follow it, read
    /// its error and result). Projects run in this process; the REST API listens on loopback.
    Mcp {
        /// Port of the loopback REST API that serves the result files (0: a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Projects run at once by this process.
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// Run workers only (they take queued projects from the shared database).
    Worker {
        #[arg(long, default_value_t = 2)]
        workers: usize,
    },
    /// Store, test, list and delete the cloud providers' API keys (encrypted at rest).
    Keys {
        #[command(subcommand)]
        action: keys::KeysAction,
    },
    /// Store a logo for the overlay and print the id a configuration names it by.
    Logo {
        #[command(subcommand)]
        action: logo::LogoAction,
    },
    /// Link a YouTube account for publishing.
    Youtube {
        #[command(subcommand)]
        action: keys::YoutubeAction,
    },
    /// Check FFmpeg, fonts, espeak-ng, disk space and the database.
    Doctor,
    /// Print the error-code catalogue.
    Errors,
    /// Explain one error code.
    Explain { code: String },
    /// Evaluate the alert rules now and list the open alerts (`--all`: resolved ones too), or
    /// print the daily summary.
    Alerts {
        #[command(subcommand)]
        action: Option<alerts::AlertsAction>,
        /// Also list resolved alerts.
        #[arg(long)]
        all: bool,
        /// Print JSON (the API's shape) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Each provider's quota used and left today (YouTube units and uploads, Gemini requests,
    /// Stability images, D-ID credits).
    Quota {
        /// Print JSON (the API's shape) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Apply the retention setting now: remove the intermediate files (audio, images, avatar,
    /// segments, work) of projects COMPLETED or CANCELLED longer ago than it allows. The
    /// article, script and output are always kept; `ytmaker serve` does this hourly.
    Cleanup {
        /// Only print what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Print JSON (the API's shape) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the log lines of one run.
    Logs {
        #[arg(long)]
        trace: Option<String>,
        #[arg(long)]
        project: Option<String>,
        #[arg(long)]
        code: Option<String>,
    },
}

#[derive(Subcommand)]
enum ProjectsAction {
    List {
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    Show {
        id: String,
    },
    /// Continue an interrupted, paused or failed project from its last completed asset.
    Resume {
        id: String,
    },
    /// Continue a FAILED project from its failed step (after fixing the cause).
    Retry {
        id: String,
    },
    /// Stop a project for good; what was made is kept. A project a server is running is asked to
    /// stop through the queue.
    Cancel {
        id: String,
    },
    /// Give one segment a new image description (FAILED or PAUSED project); its image is made
    /// again by the next resume/retry.
    EditImage {
        id: String,
        segment: u32,
        description: String,
        /// The English prompt for the image model (default: the description).
        #[arg(long)]
        prompt: Option<String>,
    },
    /// Use your own PNG/JPEG (at least 640×360) as one segment's image.
    SetImage {
        id: String,
        segment: u32,
        file: PathBuf,
    },
    /// Make one segment's image again on the next resume/retry.
    RegenerateImage {
        id: String,
        segment: u32,
    },
    /// Finish the video without the presenter (an explicit, recorded choice).
    NoPresenter {
        id: String,
    },
}

/// Exit codes: 0 success; 2 usage (clap); 3 the user's input, configuration or project state;
/// 4 a provider failed; 5 media or image work failed; 6 storage, queue or file system;
/// 7 an internal bug; 130 interrupted (the project is PAUSED and can be resumed).
fn exit_code_for(code: ErrorCode) -> u8 {
    use ytmaker_core::error::Category::*;
    match code.spec().category {
        Input | Config | State | Request => 3,
        Gemini | Llm | Stability | Did | Tts | Youtube => 4,
        Media | Image | Script => 5,
        Storage | Queue | FileSystem => 6,
        Internal => 7,
    }
}
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error[WORKER_PANICKED]: cannot start the async runtime: {e}");
            return ExitCode::from(7);
        }
    };
    runtime.block_on(dispatch(cli))
}

async fn dispatch(cli: Cli) -> ExitCode {
    // Commands that need no data directory.
    match &cli.command {
        Command::Errors => return report::print_catalogue(settings_lang()),
        Command::Explain { code } => return report::explain(code, settings_lang()),
        _ => {}
    }
    let trace = TraceId::generate();
    let settings = match Settings::resolve(cli.data_dir.as_deref()) {
        Ok(s) => s,
        Err(err) => {
            return report::fail(&err, &trace, None, settings_lang(), exit_code_for(err.code));
        }
    };
    let log = ytmaker_telemetry::LogOptions {
        dir: settings.data.logs(),
        // Under `mcp`, stdout carries the protocol and nothing else.
        stdout: cli.log_json && !matches!(cli.command, Command::Mcp { .. }),
        filter: log_filter(),
    };
    if let Err(err) = ytmaker_telemetry::init(&log) {
        return report::fail(&err, &trace, None, settings.lang, exit_code_for(err.code));
    }
    let span = tracing::info_span!("cli", trace_id = %trace);
    async move {
        match cli.command {
            Command::Generate {
                file,
                offline,
                cloud,
                name,
                config,
            } => {
                let providers = match (offline, cloud) {
                    (true, _) => Some(ytmaker_core::config::ProviderChoice::default()),
                    (_, true) => Some(ytmaker_core::config::ProviderChoice::cloud()),
                    _ => None,
                };
                generate::generate(&settings, &trace, &file, providers, name, config.as_deref())
                    .await
            }
            Command::Projects { action } => projects::projects(&settings, &trace, action).await,
            Command::Serve {
                bind,
                port,
                token,
                workers,
                ui_dir,
            } => serve::serve(&settings, &trace, bind, port, token, workers, ui_dir).await,
            Command::Worker { workers } => serve::worker(&settings, &trace, workers).await,
            Command::Mcp { port, workers } => serve::mcp(&settings, &trace, port, workers).await,
            Command::Doctor => doctor::run(&settings).await,
            Command::Keys { action } => keys::keys(&settings, &trace, action).await,
            Command::Youtube { action } => keys::youtube(&settings, &trace, action).await,
            Command::Logo { action } => logo::run(&settings, &trace, action).await,
            Command::Logs {
                trace: t,
                project,
                code,
            } => logs(&settings, &trace, t, project, code),
            Command::Alerts { action, all, json } => {
                alerts::run(&settings, &trace, action, all, json).await
            }
            Command::Quota { json } => quota::run(&settings, &trace, json).await,
            Command::Cleanup { dry_run, json } => {
                cleanup::run(&settings, &trace, dry_run, json).await
            }
            Command::Errors | Command::Explain { .. } => ExitCode::SUCCESS,
        }
    }
    .instrument(span)
    .await
}

fn settings_lang() -> Lang {
    match std::env::var("YTMAKER_LANG").as_deref() {
        Ok("en") => Lang::En,
        _ => Lang::ZhTw,
    }
}

fn log_filter() -> String {
    std::env::var("YTMAKER_LOG").unwrap_or_else(|_| "info".into())
}

/// Lease and poll interval of the workers, and how many dead runs a job may have before it is
/// given up; the environment overrides exist so that tests can exercise a takeover without
/// waiting 30 s.
fn worker_config(workers: usize) -> YtResult<ytmaker_pipeline::WorkerConfig> {
    let mut config = ytmaker_pipeline::WorkerConfig {
        workers,
        ..Default::default()
    };
    for (var, slot) in [
        ("YTMAKER_JOB_LEASE_MS", &mut config.lease),
        ("YTMAKER_JOB_POLL_MS", &mut config.poll),
    ] {
        if let Ok(raw) = std::env::var(var) {
            let ms: u64 = raw.parse().map_err(|_| {
                YtError::invalid_field(ErrorCode::CONFIG_INVALID, var, "milliseconds", raw.as_str())
            })?;
            *slot = std::time::Duration::from_millis(ms.max(10));
        }
    }
    const MAX_ABANDONED: &str = "YTMAKER_JOB_MAX_ABANDONED_RUNS";
    if let Ok(raw) = std::env::var(MAX_ABANDONED) {
        config.max_abandoned_runs = raw.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
            YtError::invalid_field(
                ErrorCode::CONFIG_INVALID,
                MAX_ABANDONED,
                "a whole number of runs, 1 or more",
                raw.as_str(),
            )
        })?;
    }
    Ok(config)
}

async fn wait_for_stop_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    r = ctrl_c => if let Err(e) = r { tracing::error!("cannot listen for Ctrl-C: {e}") },
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                if let Err(e) = ctrl_c.await {
                    tracing::error!("cannot listen for Ctrl-C: {e}");
                }
            }
        }
    }
    #[cfg(not(unix))]
    if let Err(e) = ctrl_c.await {
        tracing::error!("cannot listen for Ctrl-C: {e}");
    }
}

async fn open_store(settings: &Settings) -> YtResult<Store> {
    Store::open(&settings.database_url).await
}

fn logs(
    settings: &Settings,
    trace: &TraceId,
    by_trace: Option<String>,
    project: Option<String>,
    code: Option<String>,
) -> ExitCode {
    if by_trace.is_none() && project.is_none() && code.is_none() {
        let err = YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "--trace/--project/--code",
            "give at least one filter",
            serde_json::Value::Null,
        );
        return report::fail(&err, trace, None, settings.lang, 3);
    }
    let filter = ytmaker_telemetry::LogFilter {
        trace_id: by_trace,
        project_id: project,
        error_code: code,
    };
    match ytmaker_telemetry::read_lines(&settings.data.logs(), &filter) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    }
}
