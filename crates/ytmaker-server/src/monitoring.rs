//! `/api/v1/alerts` and `/api/v1/monitoring*`: the alerts the monitor stored, the overview the
//! monitoring page shows (health, open alerts, per-API success rates and latencies over 24 h,
//! queue, disk, quotas), and the daily summary on demand. Evaluation itself runs in the
//! monitor's loop (`ytmaker_monitor::Monitor::spawn_loop`), never inside a request.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ytmaker_monitor::summary::{self, DailySummary};
use ytmaker_monitor::view::{AlertView, ApiStats, DiskView, QueueView, api_stats};
use ytmaker_store::{AlertState, now_ms};

use crate::AppState;
use crate::error::{ApiQuery, ApiResult, ErrorBody, invalid};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_alerts))
        .routes(routes!(overview))
        .routes(routes!(daily_summary))
}

/// Alerts listed at most (newest first).
const LIST_LIMIT: u32 = 500;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AlertsQuery {
    /// `open` (default), `resolved` or `all`.
    #[param(schema_with = alert_state_param)]
    state: Option<String>,
}

/// `state` values and the alerts they select (`None`: every state).
const ALERT_STATES: [(&str, Option<AlertState>); 3] = [
    ("open", Some(AlertState::Open)),
    ("resolved", Some(AlertState::Resolved)),
    ("all", None),
];

fn alert_state_param() -> utoipa::openapi::Object {
    crate::openapi::fields::one_of(ALERT_STATES.iter().map(|(name, _)| *name))
}

#[derive(Serialize, ToSchema)]
pub struct AlertList {
    pub alerts: Vec<AlertView>,
}

#[utoipa::path(get, path = "/api/v1/alerts", tag = "monitoring", params(AlertsQuery),
    responses((status = 200, body = AlertList), (status = 422, body = ErrorBody)))]
async fn list_alerts(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<AlertsQuery>,
) -> ApiResult<Json<AlertList>> {
    let wanted = q.state.as_deref().unwrap_or("open");
    let state = ALERT_STATES
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, state)| *state)
        .ok_or_else(|| invalid("state", "open, resolved or all", wanted))?;
    let alerts = s.store.alerts(state, LIST_LIMIT).await?;
    Ok(Json(AlertList {
        alerts: alerts.iter().map(AlertView::from).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Overview {
    /// `healthy`, `degraded` or `unhealthy`, as `GET /api/v1/system/health` reports it.
    pub health: String,
    /// Open alerts, most urgent first.
    pub alerts: Vec<AlertView>,
    /// Per API over the last 24 hours.
    pub apis: Vec<ApiStats>,
    pub queue: QueueView,
    pub disk: DiskView,
    /// As `GET /api/v1/quotas` lists them.
    #[schema(value_type = Vec<ytmaker_pipeline::quota::QuotaStatus>)]
    pub quotas: Vec<Value>,
}

#[utoipa::path(get, path = "/api/v1/monitoring", tag = "monitoring",
    responses((status = 200, body = Overview), (status = 500, body = ErrorBody)))]
async fn overview(State(s): State<AppState>) -> ApiResult<Json<Overview>> {
    let mut open = s.store.alerts(Some(AlertState::Open), LIST_LIMIT).await?;
    open.sort_by_key(|a| (a.priority.clone(), std::cmp::Reverse(a.first_seen_ms)));
    let health = crate::system::health_report(&s, &open).await;
    let since = now_ms() - 24 * 3600 * 1000;
    let calls = s.store.provider_calls_since(since).await?;
    let queue = ytmaker_monitor::health::queue(&s.store).await?;
    let disk = ytmaker_monitor::health::disk(&s.data)?;
    let quotas = s.monitor.context().current_quotas().await?;
    Ok(Json(Overview {
        health: health.status.as_str().into(),
        alerts: open.iter().map(AlertView::from).collect(),
        apis: api_stats(&calls),
        queue: QueueView::from(&queue),
        disk: DiskView::from(&disk.space),
        quotas,
    }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SummaryQuery {
    /// The UTC day, YYYY-MM-DD (default: today, so far).
    #[param(format = Date)]
    date: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/monitoring/summary", tag = "monitoring", params(SummaryQuery),
    responses((status = 200, body = DailySummary), (status = 422, body = ErrorBody)))]
async fn daily_summary(
    State(s): State<AppState>,
    ApiQuery(q): ApiQuery<SummaryQuery>,
) -> ApiResult<Json<DailySummary>> {
    let date = match q.date.as_deref() {
        // An RFC 3339 full-date, as the document's `format: date` says: exactly YYYY-MM-DD
        // (chrono alone would also take white space around it, or one-digit months).
        Some(raw)
            if raw.len() != "YYYY-MM-DD".len()
                || !raw.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            return Err(invalid("date", "YYYY-MM-DD", raw));
        }
        Some(raw) => summary::parse_date(raw)?,
        None => summary::today(now_ms()),
    };
    Ok(Json(summary::build(s.monitor.context(), date).await?))
}
