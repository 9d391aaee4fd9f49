//! `ytmaker`: the command-line front end. Parses arguments, resolves settings, wires the store,
//! the providers and the pipeline together, and turns every error into a catalogued report with a
//! meaningful exit code.

mod alerts;
mod bars;
mod cleanup;
mod doctor;
mod keys;
mod logo;
mod quota;
mod report;
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
        stdout: cli.log_json,
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
                generate(&settings, &trace, &file, providers, name, config.as_deref()).await
            }
            Command::Projects { action } => projects(&settings, &trace, action).await,
            Command::Serve {
                bind,
                port,
                token,
                workers,
                ui_dir,
            } => serve(&settings, &trace, bind, port, token, workers, ui_dir).await,
            Command::Worker { workers } => worker(&settings, &trace, workers).await,
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

/// The web UI to serve: the folder given, else `web/dist` of the repository the server is started
/// in when the UI is built there. A folder given without `index.html` is refused rather than
/// served as an empty site.
fn resolve_ui_dir(given: Option<PathBuf>) -> YtResult<Option<PathBuf>> {
    match given {
        Some(dir) => {
            let index = dir.join("index.html");
            std::fs::metadata(&index).map_err(|e| {
                YtError::io("read the web UI's", &index, &e)
                    .detail("hint", "build the UI with `make web`")
            })?;
            Ok(Some(dir))
        }
        None => {
            let built = PathBuf::from("web/dist");
            Ok(built.join("index.html").is_file().then_some(built))
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn serve(
    settings: &Settings,
    trace: &TraceId,
    bind: std::net::IpAddr,
    port: u16,
    token: Option<String>,
    workers: usize,
    ui_dir: Option<PathBuf>,
) -> ExitCode {
    let started: YtResult<ytmaker_server::RunningServer> = async {
        let store = open_store(settings).await?;
        let tools = Toolchain::locate()?;
        let default_config = load_project_config(settings, None)?;
        let workers = if workers == 0 {
            None
        } else {
            Some(worker_config(workers)?)
        };
        ytmaker_server::start(ytmaker_server::ServerConfig {
            bind,
            port,
            token: token.clone(),
            store,
            data: settings.data.clone(),
            tools,
            lang: settings.lang,
            default_config,
            workers,
            ui_dir: resolve_ui_dir(ui_dir)?,
            cloud: ytmaker_pipeline::CloudAccess::from_env(&settings.data)?,
            retry_delay_scale: DelayScale::from_env()?,
            monitoring: settings::load_monitor_config(settings)?,
            quotas: settings::load_quota_limits(settings)?,
        })
        .await
    }
    .await;
    let server = match started {
        Ok(s) => s,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    // The address line is the contract with scripts and tests that start the server.
    println!("listening on http://{}", server.addr);
    if let Some(token) = token.as_deref().filter(|t| !t.is_empty()) {
        println!(
            "{}",
            sign_in_hint(server.addr, token, std::io::stdout().is_terminal())
        );
    }
    wait_for_stop_signal().await;
    tracing::info!("stopping the server");
    match server.stop().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    }
}

/// What `serve` prints under its address when it has an access token: on a terminal, the UI
/// address with the token in its fragment (`#access_token=…`), which the browser keeps to itself
/// — the page reads it, stores it and removes it from the address bar — so one click signs in.
/// The user at that terminal holds the token already (they passed it). When stdout is not a
/// terminal (a service manager's journal, a container log, a file) it is a log by another name,
/// kept and readable by others, so then only the address and where the token comes from.
fn sign_in_hint(addr: std::net::SocketAddr, token: &str, to_terminal: bool) -> String {
    // A server on every interface is opened here as loopback (other machines use its name).
    let host = if addr.ip().is_unspecified() {
        std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    if to_terminal {
        format!(
            "open the web UI (signed in): http://{host}/#access_token={}",
            fragment_encode(token)
        )
    } else {
        format!(
            "open the web UI at http://{host}/ and sign in with the access token this server was started with (--token or YTMAKER_SERVER_TOKEN)"
        )
    }
}

/// Percent-encodes everything but unreserved characters, as `encodeURIComponent` does, so the
/// page's `decodeURIComponent` gives the token back exactly.
fn fragment_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn worker(settings: &Settings, trace: &TraceId, workers: usize) -> ExitCode {
    let started: YtResult<ytmaker_pipeline::WorkerPool> = async {
        let store = open_store(settings).await?;
        let tools = Toolchain::locate()?;
        let cloud =
            ytmaker_pipeline::CloudAccess::from_env(&settings.data)?.recording_calls(&store);
        Ok(ytmaker_pipeline::WorkerPool::start(
            ytmaker_pipeline::WorkerContext {
                store,
                data: settings.data.clone(),
                tools,
                lang: settings.lang,
                wakeup: ytmaker_pipeline::control::Wakeup::default(),
                cloud,
                retry_delay_scale: DelayScale::from_env()?,
            },
            worker_config(workers.max(1))?,
        ))
    }
    .await;
    let pool = match started {
        Ok(p) => p,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    println!("worker running ({} at once)", workers.max(1));
    wait_for_stop_signal().await;
    pool.shutdown().await;
    ExitCode::SUCCESS
}

async fn open_store(settings: &Settings) -> YtResult<Store> {
    Store::open(&settings.database_url).await
}

async fn generate(
    settings: &Settings,
    trace: &TraceId,
    file: &Path,
    providers: Option<ytmaker_core::config::ProviderChoice>,
    name: Option<String>,
    config: Option<&Path>,
) -> ExitCode {
    let store = match open_store(settings).await {
        Ok(s) => s,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    let name = name.unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    tracing::info!(file = %file.display(), providers = ?providers, "generate requested");

    // Input and set-up problems still leave a project row that says what happened.
    let prepared = async {
        let bytes = std::fs::read(file)
            .map_err(|e| YtError::io("read the article", file, &e).at_stage(Stage::Input))?;
        let text =
            ytmaker_core::article::decode_article(&bytes).map_err(|e| e.at_stage(Stage::Input))?;
        let mut configuration =
            load_project_config(settings, config).map_err(|e| e.at_stage(Stage::Input))?;
        if let Some(choice) = providers {
            configuration.providers = choice;
        }
        ytmaker_pipeline::logos::check_config_logo(&settings.data, &configuration)
            .await
            .map_err(|e| e.at_stage(Stage::Input))?;
        let tools = Toolchain::locate().map_err(|e| e.at_stage(Stage::System))?;
        Ok::<_, YtError>((text, configuration, tools))
    }
    .await;
    let (text, configuration, tools) = match prepared {
        Ok(p) => p,
        Err(err) => {
            // What could be read of the input is kept on the refused project for the user to see;
            // an unreadable file is the error itself, so there is nothing more to keep.
            let content = match std::fs::read(file) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => String::new(),
            };
            let project =
                record_refused_project(&store, &name, content, &err, trace, settings.lang).await;
            return report::fail(&err, trace, project, settings.lang, exit_code_for(err.code));
        }
    };
    let project = match store
        .create_project(&NewProject {
            name,
            content: text,
            configuration,
        })
        .await
    {
        Ok(p) => p,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    let dir = settings.data.project(project.id);
    if let Err(err) = save_input(&dir, &project.content).await {
        if let Err(store_err) =
            record_failure_outside_run(&store, project.id, &err, trace, settings.lang).await
        {
            tracing::error!(error_code = %store_err.code, "could not record the failure: {}", store_err.message);
        }
        return report::fail(
            &err,
            trace,
            Some(project.id),
            settings.lang,
            exit_code_for(err.code),
        );
    }
    eprintln!("project {} created (trace id {trace})", project.id);
    run_project(settings, &store, tools, &project, trace).await
}

async fn save_input(dir: &ytmaker_store::ProjectDir, content: &str) -> YtResult<()> {
    tokio::fs::create_dir_all(dir.root())
        .await
        .map_err(|e| YtError::io("create", dir.root(), &e))?;
    let input = dir.input();
    tokio::fs::write(&input, content)
        .await
        .map_err(|e| YtError::io("write", &input, &e))
}

/// Creates a FAILED project for input that was refused before any stage could run.
async fn record_refused_project(
    store: &Store,
    name: &str,
    content: String,
    err: &YtError,
    trace: &TraceId,
    lang: Lang,
) -> Option<Uuid> {
    let new = NewProject {
        name: name.to_owned(),
        content,
        configuration: Default::default(),
    };
    let project = match store.create_project(&new).await {
        Ok(p) => p,
        Err(store_err) => {
            tracing::error!(error_code = %store_err.code, "could not record the refused project: {}", store_err.message);
            return None;
        }
    };
    match record_failure_outside_run(store, project.id, err, trace, lang).await {
        Ok(()) => Some(project.id),
        Err(store_err) => {
            tracing::error!(error_code = %store_err.code, "could not record the refused project: {}", store_err.message);
            Some(project.id)
        }
    }
}

async fn record_failure_outside_run(
    store: &Store,
    id: Uuid,
    err: &YtError,
    trace: &TraceId,
    lang: Lang,
) -> YtResult<()> {
    let details = serde_json::Value::Object(err.details.clone()).to_string();
    tracing::error!(project_id = %id, error_code = %err.code, details = details.as_str(), "{}", err.message);
    store.fail_project(id, &err.to_info(trace, 1, lang)).await
}

async fn run_project(
    settings: &Settings,
    store: &Store,
    tools: Toolchain,
    project: &Project,
    trace: &TraceId,
) -> ExitCode {
    let fail = |err: &YtError| {
        report::fail(
            err,
            trace,
            Some(project.id),
            settings.lang,
            exit_code_for(err.code),
        )
    };
    // A run that cannot work (a missing key or file, a short quota) is refused before anything
    // runs, as the server refuses a start (it keeps its status and can be run once fixed).
    let prepared = async {
        let access = ytmaker_pipeline::CloudAccess::from_env(&settings.data)?;
        let check = ytmaker_pipeline::control::StartCheck {
            quotas: ytmaker_pipeline::quota::QuotaCheck {
                cloud: access.clone(),
                limits: settings::load_quota_limits(settings)?,
            },
            data: settings.data.clone(),
            tools: tools.clone(),
        };
        ytmaker_pipeline::control::check_ready(&check, store, project, trace).await?;
        let ctx = ytmaker_pipeline::WorkerContext {
            store: store.clone(),
            data: settings.data.clone(),
            tools: tools.clone(),
            lang: settings.lang,
            wakeup: ytmaker_pipeline::control::Wakeup::default(),
            cloud: access.clone(),
            retry_delay_scale: DelayScale::from_env()?,
        };
        Ok::<_, YtError>((access, ctx, worker_config(1)?.lease))
    }
    .await;
    let (access, ctx, lease) = match prepared {
        Ok(p) => p,
        Err(err) => return fail(&err),
    };
    // The same lease as the server's workers: while this process runs the project, a worker or
    // another CLI is refused, and a pause or cancel asked of the server reaches this run.
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    let ended = ytmaker_pipeline::run_in_foreground(
        &ctx,
        lease,
        &ytmaker_pipeline::foreground_runner_name(),
        project.id,
        trace,
        Arc::new(bars::StageBars::new()),
        interrupt,
    )
    .await;
    access.flush_call_records().await;
    match ended {
        Ok(ytmaker_pipeline::LeasedEnd::Completed(outcome)) => {
            print_outcome(project.id, &outcome, trace);
            ExitCode::SUCCESS
        }
        Ok(ytmaker_pipeline::LeasedEnd::Paused) => {
            eprintln!(
                "\nproject {} is PAUSED. Continue with: ytmaker projects resume {}",
                project.id, project.id
            );
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Ok(ytmaker_pipeline::LeasedEnd::Cancelled) => {
            eprintln!("\nproject {} was CANCELLED", project.id);
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Ok(ytmaker_pipeline::LeasedEnd::LeaseGone) => fail(&YtError::new(
            ErrorCode::QUEUE_CONNECTION_FAILED,
            "this run lost its lease on the project (the database could not be reached to \
             renew it, or another runner took it over) and stopped without writing more; \
             continue with `ytmaker projects resume`",
        )),
        Ok(ytmaker_pipeline::LeasedEnd::Ended(status)) => fail(
            &YtError::new(
                ErrorCode::INVALID_STATE_TRANSITION,
                format!("the project is {status} already: another run finished it first"),
            )
            .detail("status", status.as_str()),
        ),
        Ok(ytmaker_pipeline::LeasedEnd::Failed(err)) | Err(err) => fail(&err),
    }
}

fn print_outcome(id: Uuid, o: &RunOutcome, trace: &TraceId) {
    println!("project    {id}");
    println!("video      {}", o.video.display());
    println!("thumbnail  {}", o.thumbnail.display());
    println!("subtitles  {}", o.subtitles.display());
    println!("published  {}", o.location);
    println!("trace id   {trace}");
}

async fn projects(settings: &Settings, trace: &TraceId, action: ProjectsAction) -> ExitCode {
    let store = match open_store(settings).await {
        Ok(s) => s,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    let result: YtResult<ExitCode> = async {
        match action {
            ProjectsAction::List { status, limit } => {
                let status = match status {
                    Some(raw) => Some(ProjectStatus::parse(&raw.to_ascii_uppercase()).ok_or_else(
                        || {
                            YtError::invalid_field(
                                ErrorCode::VALIDATION_ERROR,
                                "status",
                                "a project status such as FAILED or COMPLETED",
                                raw.as_str(),
                            )
                        },
                    )?),
                    None => None,
                };
                let rows = store
                    .list_projects(&ProjectFilter {
                        status,
                        limit,
                        offset: 0,
                        ..Default::default()
                    })
                    .await?;
                println!(
                    "{:<36}  {:<22}  {:<26}  {:<24}  name",
                    "id", "status", "error", "updated"
                );
                for p in rows {
                    let code = p.error_code.map(|c| c.to_string()).unwrap_or_default();
                    println!(
                        "{:<36}  {:<22}  {:<26}  {:<24}  {}",
                        p.id, p.status, code, p.updated_at, p.name
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::Show { id } => {
                let project = store.find_project(&id).await?;
                let assets = store.assets(project.id).await?;
                report::show_project(&project, &assets, &settings.data);
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::Resume { id } => {
                continue_project(settings, &store, trace, &id, false).await
            }
            ProjectsAction::Retry { id } => {
                continue_project(settings, &store, trace, &id, true).await
            }
            ProjectsAction::EditImage {
                id,
                segment,
                description,
                prompt,
            } => {
                let project = store.find_project(&id).await?;
                ytmaker_pipeline::edits::edit_segment_image(
                    &store,
                    &settings.data,
                    project.id,
                    segment,
                    &description,
                    prompt.as_deref(),
                    trace,
                )
                .await?;
                println!("project {}: segment {segment} has a new image description; `projects retry` makes its image", project.id);
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::SetImage { id, segment, file } => {
                let project = store.find_project(&id).await?;
                let bytes = std::fs::read(&file).map_err(|e| YtError::io("read", &file, &e))?;
                let (w, h) = ytmaker_pipeline::edits::replace_segment_image(
                    &store,
                    &settings.data,
                    project.id,
                    segment,
                    &bytes,
                    trace,
                )
                .await?;
                println!("project {}: segment {segment} uses your {w}×{h} image", project.id);
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::RegenerateImage { id, segment } => {
                let project = store.find_project(&id).await?;
                ytmaker_pipeline::edits::regenerate_segment_image(&store, project.id, segment, trace)
                    .await?;
                println!("project {}: segment {segment}'s image is made again by the next resume/retry", project.id);
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::NoPresenter { id } => {
                let project = store.find_project(&id).await?;
                ytmaker_pipeline::edits::continue_without_presenter(&store, project.id, trace)
                    .await?;
                println!("project {}: the video is finished without the presenter", project.id);
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::Cancel { id } => {
                let project = store.find_project(&id).await?;
                let outcome = ytmaker_pipeline::control::stop(
                    &store,
                    project.id,
                    ytmaker_pipeline::control::Action::Cancel,
                    trace,
                )
                .await?;
                match outcome.result {
                    "requested" => println!(
                        "project {}: cancel requested; the worker running it stops now",
                        project.id
                    ),
                    _ => println!("project {} is CANCELLED", project.id),
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
    .await;
    result.unwrap_or_else(|err| {
        report::fail(&err, trace, None, settings.lang, exit_code_for(err.code))
    })
}

/// `projects resume` / `projects retry`: runs the project here, from its checkpoints.
async fn continue_project(
    settings: &Settings,
    store: &Store,
    trace: &TraceId,
    id: &str,
    retry: bool,
) -> YtResult<ExitCode> {
    let project = store.find_project(id).await?;
    let verb = if retry { "retried" } else { "resumed" };
    if project.status.is_terminal() || (retry && project.status != ProjectStatus::Failed) {
        return Err(YtError::new(
            ErrorCode::INVALID_STATE_TRANSITION,
            format!("a {} project cannot be {verb}", project.status),
        )
        .detail("from", project.status.as_str()));
    }
    // A server's worker or another CLI holding its lease is named in the refusal
    // (`run_in_foreground`): running it here too would do the work twice.
    let tools = Toolchain::locate()?;
    eprintln!(
        "resuming project {} from {} (trace id {trace})",
        project.id, project.status
    );
    Ok(run_project(settings, store, tools, &project, trace).await)
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

#[cfg(test)]
mod ui_dir_tests {
    use super::resolve_ui_dir;
    use ytmaker_core::ErrorCode;

    #[test]
    fn a_given_ui_folder_must_hold_a_built_ui() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_ui_dir(Some(dir.path().to_owned())).unwrap_err();
        assert_eq!(err.code, ErrorCode::FILE_NOT_FOUND);
        assert!(err.message.contains("index.html"), "{}", err.message);
        std::fs::write(dir.path().join("index.html"), "<!doctype html>").unwrap();
        assert_eq!(
            resolve_ui_dir(Some(dir.path().to_owned())).unwrap(),
            Some(dir.path().to_owned())
        );
    }

    #[test]
    fn without_a_built_ui_in_the_working_folder_none_is_served() {
        // Tests run in crates/ytmaker-cli, which has no web/dist.
        assert_eq!(resolve_ui_dir(None).unwrap(), None);
    }
}

#[cfg(test)]
mod sign_in_hint_tests {
    use super::sign_in_hint;

    #[test]
    fn a_terminal_gets_a_link_that_signs_in_and_anything_else_never_gets_the_token() {
        let addr: std::net::SocketAddr = "0.0.0.0:8000".parse().unwrap();
        let link = sign_in_hint(addr, "a b&c/é", true);
        // In the fragment (never sent to the server), encoded as `encodeURIComponent` would.
        assert!(
            link.ends_with("http://127.0.0.1:8000/#access_token=a%20b%26c%2F%C3%A9"),
            "{link}"
        );
        let logged = sign_in_hint(addr, "a b&c/é", false);
        assert!(logged.contains("http://127.0.0.1:8000/"), "{logged}");
        assert!(!logged.contains("access_token="), "{logged}");
        assert!(!logged.contains("a b&c"), "{logged}");
        let bound: std::net::SocketAddr = "192.168.1.5:9000".parse().unwrap();
        assert!(sign_in_hint(bound, "t", true).contains("http://192.168.1.5:9000/#access_token=t"));
    }
}
