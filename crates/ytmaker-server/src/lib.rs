//! The local service (SPEC §5, §7, §8): REST under `/api/v1`, WebSocket progress with replay,
//! health, Prometheus `/metrics`, the OpenAPI document, the web UI folder, and — unless started
//! API-only — the worker pool that runs queued projects.
//!
//! Layers, outermost first: [`middleware::observe`] (trace id, one log line and metrics per
//! request, the JSON shape of every error), panic catching, [`middleware::guard`] (Host/Origin),
//! the body limit, then the routes, each behind [`middleware::require_token`] (the access token;
//! the UI's files are served without it). Handlers never write project status: actions
//! go through `ytmaker_pipeline::control`.

mod edits;
mod error;
mod keys;
mod listen;
mod mcp;
mod metrics_endpoint;
mod middleware;
mod monitoring;
mod openapi;
mod projects;
mod quotas;
mod settings;
mod system;
mod templates;
mod uploads;
pub mod web_contract;
mod ws;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use tokio::sync::oneshot;
use tracing::Instrument;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::error::Lang;
use ytmaker_core::quota::QuotaLimits;
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_monitor::{Monitor, MonitorConfig, MonitorContext};
use ytmaker_pipeline::control::Wakeup;
use ytmaker_pipeline::quota::QuotaCheck;
use ytmaker_pipeline::{CloudAccess, WorkerConfig, WorkerContext, WorkerPool};
use ytmaker_providers::retry::DelayScale;
use ytmaker_render::Toolchain;
use ytmaker_store::{DataDir, Store};

pub use error::{ErrorBody, ErrorObject};
pub use middleware::{TRACE_HEADER, trace_from_headers};

/// Largest request body accepted (an article is at most 10,000 characters, ≤ 40 KB in UTF-8;
/// the rest is room for configuration and settings).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

pub const DEFAULT_PORT: u16 = 8000;

pub struct ServerConfig {
    pub bind: IpAddr,
    pub port: u16,
    /// Required when `bind` is not a loopback address; then every request must carry it.
    pub token: Option<String>,
    pub store: Store,
    pub data: DataDir,
    pub tools: Toolchain,
    pub lang: Lang,
    /// Configuration a new project starts from (the user's config file over the defaults).
    pub default_config: ProjectConfig,
    /// `None` runs the API only (workers run elsewhere).
    pub workers: Option<WorkerConfig>,
    /// A built web UI to serve at `/`.
    pub ui_dir: Option<PathBuf>,
    pub cloud: CloudAccess,
    pub retry_delay_scale: DelayScale,
    /// Alert evaluation (its loop runs every `interval_seconds`; 0 leaves it to `ytmaker alerts`).
    pub monitoring: MonitorConfig,
    /// Daily quota limits (`[quotas]` in the settings file).
    pub quotas: QuotaLimits,
}

#[derive(Clone)]
pub(crate) struct Security {
    /// `host:port` values this server answers to (lower case).
    pub allowed_hosts: Vec<String>,
    pub token: Option<String>,
}

#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Store,
    pub data: DataDir,
    pub tools: Toolchain,
    pub lang: Lang,
    pub default_config: Arc<ProjectConfig>,
    pub wakeup: Wakeup,
    pub security: Arc<Security>,
    pub started: Instant,
    pub workers: usize,
    pub openapi: Arc<serde_json::Value>,
    pub cloud: CloudAccess,
    pub logins: keys::PendingLogins,
    /// The address this server listens on (for the OAuth redirect back to it).
    pub addr: SocketAddr,
    pub monitor: Monitor,
    /// The cloud access and limits starts are checked against (and `GET /quotas` reports).
    pub quotas: QuotaCheck,
    /// What a start, resume or retry is checked against before it is queued.
    pub start_check: ytmaker_pipeline::control::StartCheck,
}

/// A server that is listening. Dropping it does not stop it; call [`RunningServer::stop`].
pub struct RunningServer {
    pub addr: SocketAddr,
    stop: oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<std::io::Result<()>>,
    pool: Option<WorkerPool>,
    monitor_loop: Option<tokio::task::JoinHandle<()>>,
    /// The retention sweep (at start-up, then hourly).
    retention_loop: tokio::task::JoinHandle<()>,
    /// Waited for at stop, so no call record is dropped with the runtime.
    cloud: CloudAccess,
    /// The MCP tools, for `ytmaker mcp` to serve over stdio.
    mcp: mcp::YtmakerMcp,
    /// Ends the MCP HTTP sessions (their event streams would hold the graceful stop open).
    mcp_sessions: tokio_util::sync::CancellationToken,
}

impl RunningServer {
    /// Serves the MCP tools over stdin/stdout (`ytmaker mcp`) until the client closes them; the
    /// server keeps running, so the result files stay downloadable at its address.
    pub async fn serve_mcp_stdio(&self) -> YtResult<()> {
        self.mcp.clone().serve_stdio().await
    }

    /// Stops accepting requests, hands running jobs back to the queue and waits for both.
    pub async fn stop(self) -> YtResult<()> {
        self.mcp_sessions.cancel();
        if self.stop.send(()).is_err() {
            tracing::warn!("the server had already stopped");
        }
        if let Some(evaluating) = self.monitor_loop {
            evaluating.abort();
        }
        self.retention_loop.abort();
        if let Some(pool) = self.pool {
            pool.shutdown().await;
        }
        self.cloud.flush_call_records().await;
        match self.serving.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(YtError::new(
                ErrorCode::SERVER_BIND_FAILED,
                format!("server stopped with an error: {e}"),
            )),
            Err(e) => Err(YtError::new(
                ErrorCode::SERVER_PANICKED,
                format!("server task ended abnormally: {e}"),
            )),
        }
    }
}

fn bind_error(message: String, addr: SocketAddr) -> YtError {
    YtError::new(ErrorCode::SERVER_BIND_FAILED, message).detail("address", addr.to_string())
}

/// Binds, starts the workers (if any) and serves until stopped.
pub async fn start(config: ServerConfig) -> YtResult<RunningServer> {
    let requested = SocketAddr::new(config.bind, config.port);
    if !config.bind.is_loopback() && config.token.as_deref().is_none_or(str::is_empty) {
        return Err(bind_error(
            format!(
                "binding to {} (not a loopback address) requires an access token (--token or YTMAKER_SERVER_TOKEN)",
                config.bind
            ),
            requested,
        ));
    }
    // It travels in an `Authorization` header, which a browser can only send in visible ASCII.
    if let Some(token) = config.token.as_deref()
        && !token.bytes().all(|b| b.is_ascii_graphic())
    {
        return Err(YtError::new(
            ErrorCode::CONFIG_INVALID,
            "the access token may only hold visible ASCII characters (letters, digits, punctuation; no spaces)",
        )
        .detail("field", "token")
        .detail("rule", "visible ASCII, as it is sent in an HTTP header"));
    }
    let listener = tokio::net::TcpListener::bind(requested)
        .await
        .map_err(|e| bind_error(format!("cannot listen on {requested}: {e}"), requested))?;
    let addr = listener
        .local_addr()
        .map_err(|e| bind_error(format!("cannot read the bound address: {e}"), requested))?;
    let port = addr.port();
    let mut allowed_hosts = vec![
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ];
    if !config.bind.is_loopback() && !config.bind.is_unspecified() {
        allowed_hosts.push(match config.bind {
            IpAddr::V4(v4) => format!("{v4}:{port}"),
            IpAddr::V6(v6) => format!("[{v6}]:{port}"),
        });
    }
    if config.bind.is_unspecified() {
        // Listening on every interface: the token protects it, and any host name may be used.
        allowed_hosts.push("*".into());
    }
    let wakeup = Wakeup::default();
    // Calls made outside a run (key tests, quota reads) are recorded too; a run records its
    // calls with its project and trace (`CloudAccess::for_run`).
    let cloud = config.cloud.recording_calls(&config.store);
    let quotas = QuotaCheck {
        cloud: cloud.clone(),
        limits: config.quotas,
    };
    let flush_on_stop = cloud.clone();
    let workers = config.workers.as_ref().map_or(0, |w| w.workers.max(1));
    let pool = config.workers.clone().map(|w| {
        WorkerPool::start(
            WorkerContext {
                store: config.store.clone(),
                data: config.data.clone(),
                tools: config.tools.clone(),
                lang: config.lang,
                wakeup: wakeup.clone(),
                cloud: cloud.clone(),
                retry_delay_scale: config.retry_delay_scale,
            },
            w,
        )
    });
    let monitor = Monitor::new(MonitorContext {
        store: config.store.clone(),
        data: config.data.clone(),
        tools: Ok(config.tools.clone()),
        quotas: Some(Arc::new(ytmaker_monitor::PipelineQuotas {
            store: config.store.clone(),
            check: quotas.clone(),
        })),
        config: config.monitoring.clone(),
        retry_delay_scale: config.retry_delay_scale,
    })?;
    metrics_endpoint::install()?;
    let (retention_store, retention_data) = (config.store.clone(), config.data.clone());
    let (router, api) = api_router().split_for_parts();
    let openapi = openapi::document(&api)?;
    let start_check = ytmaker_pipeline::control::StartCheck {
        quotas: quotas.clone(),
        data: config.data.clone(),
        tools: config.tools.clone(),
    };
    let state = AppState {
        store: config.store,
        data: config.data,
        tools: config.tools,
        lang: config.lang,
        default_config: Arc::new(config.default_config),
        wakeup,
        security: Arc::new(Security {
            allowed_hosts,
            token: config.token.filter(|t| !t.is_empty()),
        }),
        started: Instant::now(),
        workers,
        openapi: Arc::new(openapi),
        cloud,
        logins: keys::PendingLogins::default(),
        addr,
        monitor: monitor.clone(),
        quotas,
        start_check,
    };
    let mcp_sessions = tokio_util::sync::CancellationToken::new();
    let mcp = mcp::YtmakerMcp::new(state.clone());
    let app = app(router, state, config.ui_dir, &mcp, &mcp_sessions);
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        listen::serve(listener, app, async {
            // A stop request and a dropped handle both mean "stop".
            if stopped.await.is_err() {
                tracing::info!("server handle dropped; stopping");
            }
        })
        .await
    });
    let monitor_loop = config
        .monitoring
        .interval()
        .map(|every| monitor.spawn_loop(every));
    let retention_loop = spawn_retention_loop(
        retention_store,
        retention_data,
        ytmaker_pipeline::retention::SWEEP_INTERVAL,
    );
    tracing::info!(address = %addr, workers, "server listening");
    Ok(RunningServer {
        addr,
        stop,
        serving,
        pool,
        monitor_loop,
        retention_loop,
        cloud: flush_on_stop,
        mcp,
        mcp_sessions,
    })
}

/// The OpenAPI document the server serves at `/api/v1/openapi.json`, built without a server
/// (the web UI's TypeScript types are generated from it: `web_contract`).
pub fn openapi_document() -> YtResult<serde_json::Value> {
    let (_, api) = api_router().split_for_parts();
    openapi::document(&api)
}

fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(projects::router())
        .merge(templates::router())
        .merge(system::router())
        .merge(keys::router())
        .merge(edits::router())
        .merge(quotas::router())
        .merge(monitoring::router())
        .merge(settings::router())
        .merge(uploads::router())
}

/// Sweeps at once, then every `interval`, applying the retention policy stored at that moment.
/// Each failure was logged and counted by the sweep itself; a sweep that could not run at all
/// (the database is down) is logged here and tried again at the next tick.
fn spawn_retention_loop(
    store: Store,
    data: DataDir,
    interval: std::time::Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let trace = ytmaker_core::TraceId::generate();
            let span = tracing::info_span!("retention", trace_id = %trace);
            let swept = ytmaker_pipeline::retention::sweep(
                &store,
                &data,
                chrono::Utc::now(),
                ytmaker_pipeline::retention::SweepMode::Delete,
                &trace,
            )
            .instrument(span.clone())
            .await;
            if let Err(e) = swept {
                metrics::counter!(ytmaker_core::metric::RETENTION_FAILURES_TOTAL).increment(1);
                span.in_scope(|| {
                    tracing::error!(
                        error_code = %e.code,
                        "retention sweep could not run: {}",
                        e.message
                    )
                });
            }
        }
    })
}

fn app(
    api: Router<AppState>,
    state: AppState,
    ui_dir: Option<PathBuf>,
    mcp: &mcp::YtmakerMcp,
    mcp_sessions: &tokio_util::sync::CancellationToken,
) -> Router {
    let mut router = api
        .route_service("/mcp", mcp.http_service(mcp_sessions.child_token()))
        .route("/api/v1/projects/{id}/progress", get(ws::progress))
        .route("/api/v1/openapi.json", get(system::openapi))
        .route("/metrics", get(metrics_endpoint::render))
        // Unknown API paths stay JSON errors even when the UI's fallback serves everything else.
        .route("/api/{*rest}", any(system::no_route))
        // The token guards the routes (data); the UI's files below are served without it.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::require_token,
        ))
        .route_layer(axum::middleware::from_fn(middleware::matched_route));
    router = match ui_dir {
        Some(dir) => router.fallback_service(
            tower_http::services::ServeDir::new(&dir)
                .fallback(tower_http::services::ServeFile::new(dir.join("index.html"))),
        ),
        // Pages asked of a server without a UI say why they are missing and how to get them.
        None => router.fallback(system::no_ui),
    };
    router
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::guard,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            middleware::panic_response,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::observe,
        ))
        .with_state(state)
}
