//! `/api/v1/settings`: settings changed at run time, stored in the database (today the retention
//! of intermediate files, SPEC §4), and running the retention sweep on demand.

use axum::Extension;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ytmaker_core::retention::Retention;
use ytmaker_pipeline::retention::{self, SweepMode, SweepReport};

use crate::AppState;
use crate::error::{ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::middleware::RequestTrace;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(sweep_now))
}

/// The stored settings (defaults for those never set).
#[derive(Serialize, ToSchema)]
pub struct SettingsResponse {
    /// How long a finished project's intermediate files are kept: `forever` (default), `7d`
    /// or `30d`.
    #[schema(value_type = String, example = "forever")]
    retention: Retention,
}

/// Settings to change; a field left out keeps its value.
fn retention_field() -> utoipa::openapi::Object {
    crate::openapi::fields::optional_one_of(Retention::ALL.iter().map(|r| r.as_str()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    /// How long intermediate files of finished projects are kept; anything else is
    /// `VALIDATION_ERROR` naming `retention`. Absent or null: unchanged.
    #[schema(schema_with = retention_field, example = "7d")]
    retention: Option<Value>,
}

async fn current(state: &AppState) -> ApiResult<Json<SettingsResponse>> {
    Ok(Json(SettingsResponse {
        retention: retention::policy(&state.store).await?,
    }))
}

#[utoipa::path(get, path = "/api/v1/settings", tag = "system",
    responses((status = 200, body = SettingsResponse), (status = 500, body = ErrorBody)))]
async fn get_settings(State(state): State<AppState>) -> ApiResult<Json<SettingsResponse>> {
    current(&state).await
}

#[utoipa::path(put, path = "/api/v1/settings", tag = "system", request_body = SettingsUpdate,
    responses((status = 200, body = SettingsResponse), (status = 400, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
async fn put_settings(
    State(state): State<AppState>,
    ApiJson(update): ApiJson<SettingsUpdate>,
) -> ApiResult<Json<SettingsResponse>> {
    if let Some(raw) = &update.retention {
        let chosen = Retention::from_json(raw)?;
        retention::set_policy(&state.store, chosen).await?;
    }
    current(&state).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SweepQuery {
    /// Only report what would be removed.
    dry_run: Option<bool>,
}

#[utoipa::path(post, path = "/api/v1/settings/retention/sweep", tag = "system", params(SweepQuery),
    responses((status = 200, description = "What was (or would be) removed: policy, dry_run, cutoff, projects[{project_id, status, finished_at, removed, bytes_freed, assets}], bytes_freed, failures[{project_id, code, message, details}]", body = Object),
              (status = 500, body = ErrorBody)))]
async fn sweep_now(
    State(state): State<AppState>,
    Extension(RequestTrace(trace)): Extension<RequestTrace>,
    ApiQuery(q): ApiQuery<SweepQuery>,
) -> ApiResult<Json<SweepReport>> {
    let mode = if q.dry_run.unwrap_or(false) {
        SweepMode::DryRun
    } else {
        SweepMode::Delete
    };
    let report =
        retention::sweep(&state.store, &state.data, chrono::Utc::now(), mode, &trace).await?;
    Ok(Json(report))
}
