//! `/api/v1/system/*`: init status, stats, the error catalogue, health, client-log intake; the
//! OpenAPI document; the JSON 404 for unknown routes.

use std::path::Path;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ytmaker_core::error::Lang;
use ytmaker_core::{ErrorCode, TraceId, YtError, YtResult};
use ytmaker_monitor::health::{HealthInputs, HealthReport, HealthStatus};
use ytmaker_store::{Alert, AlertState, JobQueue};

use crate::AppState;
use crate::error::{ApiError, ApiJson, ApiPath, ApiResult, ErrorBody, invalid};
use crate::middleware::{RequestLang, RequestTrace};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(init_status))
        .routes(routes!(stats))
        .routes(routes!(error_catalogue))
        .routes(routes!(error_code))
        .routes(routes!(health))
        .routes(routes!(client_log))
}

pub(crate) fn free_bytes(dir: &Path) -> YtResult<u64> {
    ytmaker_pipeline::free_bytes(dir)
}

pub(crate) async fn openapi(State(s): State<AppState>) -> Json<Value> {
    Json((*s.openapi).clone())
}

pub(crate) async fn no_route(uri: Uri) -> ApiError {
    ApiError(
        YtError::new(ErrorCode::NOT_FOUND, format!("no route for {}", uri.path()))
            .detail("path", uri.path())
            .detail("resource", "route"),
    )
}

pub(crate) async fn no_ui(uri: Uri) -> ApiError {
    ApiError(
        YtError::new(
            ErrorCode::WEB_UI_NOT_BUILT,
            format!(
                "no web UI is served here, so {} has nothing to show: build it with `make web` and start `ytmaker serve` from the repository, or pass --ui-dir",
                uri.path()
            ),
        )
        .detail("path", uri.path()),
    )
}

#[derive(Serialize, ToSchema)]
pub struct InitStatus {
    /// True once at least one project exists (the UI shows its setup wizard before that).
    pub has_projects: bool,
    /// Providers a new project gets when it names none (recorded on the project).
    pub default_providers: ytmaker_core::config::ProviderChoice,
    pub language: String,
    pub version: String,
}

#[utoipa::path(get, path = "/api/v1/system/init", tag = "system",
    responses((status = 200, body = InitStatus)))]
async fn init_status(State(s): State<AppState>) -> ApiResult<Json<InitStatus>> {
    Ok(Json(InitStatus {
        has_projects: s.store.count_projects(None).await? > 0,
        default_providers: s.default_config.providers.clone(),
        language: match s.lang {
            Lang::ZhTw => "zh-TW".into(),
            Lang::En => "en".into(),
        },
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Stats {
    pub total_projects: i64,
    /// Count per status name.
    #[schema(value_type = Object)]
    pub by_status: serde_json::Map<String, Value>,
    pub queued_jobs: i64,
    pub running_jobs: i64,
}

#[utoipa::path(get, path = "/api/v1/system/stats", tag = "system",
    responses((status = 200, body = Stats)))]
async fn stats(State(s): State<AppState>) -> ApiResult<Json<Stats>> {
    let counts = s.store.count_by_status().await?;
    let queue = s.store.stats().await?;
    Ok(Json(Stats {
        total_projects: counts.iter().map(|(_, n)| n).sum(),
        by_status: counts
            .into_iter()
            .map(|(st, n)| (st.as_str().to_owned(), Value::from(n)))
            .collect(),
        queued_jobs: queue.queued,
        running_jobs: queue.running,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct CatalogueEntry {
    pub code: String,
    pub category: String,
    pub http_status: u16,
    pub is_retryable: bool,
    pub max_retries: u32,
    pub priority: String,
    pub title: String,
    pub explanation: String,
    pub solutions: Vec<String>,
}

fn entry(code: ErrorCode, lang: Lang) -> CatalogueEntry {
    let spec = code.spec();
    let guide = spec.guide(lang);
    CatalogueEntry {
        code: code.to_string(),
        category: format!("{:?}", spec.category),
        http_status: spec.http_status,
        is_retryable: spec.retry.is_retryable(),
        max_retries: spec.retry.max_retries,
        priority: format!("{:?}", spec.priority),
        title: guide.title.into(),
        explanation: guide.explanation.into(),
        solutions: guide.solutions.iter().map(|s| s.to_string()).collect(),
    }
}

#[utoipa::path(get, path = "/api/v1/system/errors", tag = "system",
    responses((status = 200, body = Vec<CatalogueEntry>)))]
async fn error_catalogue(
    Extension(RequestLang(lang)): Extension<RequestLang>,
) -> Json<Vec<CatalogueEntry>> {
    Json(ErrorCode::ALL.iter().map(|c| entry(*c, lang)).collect())
}

#[utoipa::path(get, path = "/api/v1/system/errors/{code}", tag = "system",
    params(("code" = String, Path, description = "an error code, e.g. DID_QUOTA_EXCEEDED")),
    responses((status = 200, body = CatalogueEntry), (status = 404, body = ErrorBody)))]
async fn error_code(
    Extension(RequestLang(lang)): Extension<RequestLang>,
    ApiPath(code): ApiPath<String>,
) -> ApiResult<Json<CatalogueEntry>> {
    let parsed = ErrorCode::parse(&code).ok_or_else(|| {
        ApiError(
            YtError::new(
                ErrorCode::NOT_FOUND,
                format!("{code:?} is not a catalogued error code"),
            )
            .detail("resource", "error code")
            .detail("code", code.clone()),
        )
    })?;
    Ok(Json(entry(parsed, lang)))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// `healthy`, `degraded` or `unhealthy`.
    pub status: String,
    #[schema(value_type = Object)]
    pub checks: serde_json::Map<String, Value>,
    pub uptime_seconds: u64,
}

/// The health checks (shared with the monitor's rules) plus the open alerts: an open P0 makes
/// the service unhealthy, an open P1 degraded.
pub(crate) async fn health_report(s: &AppState, open: &[Alert]) -> HealthReport {
    ytmaker_monitor::health::report(
        &HealthInputs {
            store: &s.store,
            data: &s.data,
            tools: &s.tools,
            default_config: &s.default_config,
            cloud: &s.cloud,
            workers: s.workers,
        },
        open,
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/system/health", tag = "system",
    responses((status = 200, body = Health, description = "healthy or degraded"),
        (status = 503, body = Health, description = "unhealthy: a check that the service needs failed (the body is the same report, not an error)")))]
async fn health(State(s): State<AppState>) -> Response {
    let mut checks = serde_json::Map::new();
    let open = match s.store.alerts(Some(AlertState::Open), 500).await {
        Ok(open) => open,
        Err(e) => {
            // The database check below reports the cause; alerts cannot be read without it.
            checks.insert(
                "alerts".into(),
                serde_json::json!({ "status": "failed", "details": { "error_code": e.code, "message": e.message } }),
            );
            Vec::new()
        }
    };
    let report = health_report(&s, &open).await;
    let alerts_unreadable = checks.contains_key("alerts");
    for (name, value) in report.checks {
        if !(alerts_unreadable && name == "alerts") {
            checks.insert(name, value);
        }
    }
    let status = if alerts_unreadable {
        HealthStatus::Unhealthy
    } else {
        report.status
    };
    let unhealthy = status == HealthStatus::Unhealthy;
    let code = if unhealthy {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    metrics::gauge!(ytmaker_core::metric::HEALTH_UNHEALTHY).set(if unhealthy { 1.0 } else { 0.0 });
    (
        code,
        Json(Health {
            status: status.as_str().into(),
            checks,
            uptime_seconds: s.started.elapsed().as_secs(),
        }),
    )
        .into_response()
}

/// The levels a client's log line may have.
const CLIENT_LOG_LEVELS: [(&str, tracing::Level); 3] = [
    ("error", tracing::Level::ERROR),
    ("warn", tracing::Level::WARN),
    ("info", tracing::Level::INFO),
];
const MAX_CLIENT_LOG_CHARS: usize = 2000;

fn level_field() -> utoipa::openapi::Object {
    crate::openapi::fields::one_of(CLIENT_LOG_LEVELS.iter().map(|(name, _)| *name))
}

fn message_field() -> utoipa::openapi::Object {
    crate::openapi::fields::any_text(1, MAX_CLIENT_LOG_CHARS)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientLog {
    #[schema(schema_with = level_field)]
    level: String,
    #[schema(schema_with = message_field)]
    message: String,
    /// The trace id of the failed request, if the UI has one.
    #[schema(schema_with = crate::openapi::fields::optional_trace_id)]
    trace_id: Option<String>,
    /// The error code the UI showed, if any.
    #[schema(schema_with = crate::openapi::fields::optional_error_code)]
    error_code: Option<String>,
    project_id: Option<uuid::Uuid>,
    /// Where in the UI (page, component).
    context: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Logged {
    pub trace_id: String,
}

#[utoipa::path(post, path = "/api/v1/system/client-logs", tag = "system", request_body = ClientLog,
    responses((status = 202, body = Logged), (status = 422, body = ErrorBody)))]
async fn client_log(
    Extension(RequestTrace(request_trace)): Extension<RequestTrace>,
    ApiJson(b): ApiJson<ClientLog>,
) -> ApiResult<(StatusCode, Json<Logged>)> {
    let chars = b.message.chars().count();
    if chars == 0 || chars > MAX_CLIENT_LOG_CHARS {
        return Err(invalid(
            "message",
            &format!("1 to {MAX_CLIENT_LOG_CHARS} characters"),
            chars,
        ));
    }
    let level = CLIENT_LOG_LEVELS
        .iter()
        .find(|(name, _)| *name == b.level)
        .map(|(_, level)| *level)
        .ok_or_else(|| invalid("level", "error, warn or info", b.level.as_str()))?;
    let trace = match b.trace_id.as_deref() {
        Some(raw) => TraceId::parse(raw)
            .ok_or_else(|| invalid("trace_id", "8–64 characters of [0-9A-Za-z_-]", raw))?,
        None => request_trace,
    };
    let code = match b.error_code.as_deref() {
        Some(raw) => Some(
            ErrorCode::parse(raw).ok_or_else(|| invalid("error_code", "a catalogued code", raw))?,
        ),
        None => None,
    };
    let code_str = code.map(|c| c.to_string()).unwrap_or_default();
    let project = b.project_id.map(|p| p.to_string()).unwrap_or_default();
    let context = b.context.unwrap_or_default();
    let span = tracing::info_span!("client", trace_id = %trace);
    let _enter = span.enter();
    // `tracing` needs the level at compile time, hence one arm per level.
    macro_rules! ui_line {
        ($lvl:expr) => {
            tracing::event!(
                $lvl,
                source = "ui",
                error_code = code_str.as_str(),
                project_id = project.as_str(),
                context = context.as_str(),
                "{}",
                b.message
            )
        };
    }
    match level {
        tracing::Level::ERROR => ui_line!(tracing::Level::ERROR),
        tracing::Level::WARN => ui_line!(tracing::Level::WARN),
        _ => ui_line!(tracing::Level::INFO),
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(Logged {
            trace_id: trace.to_string(),
        }),
    ))
}
