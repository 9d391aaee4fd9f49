//! `/api/v1/quotas`: how much of each provider's allowance is used and left today (see
//! `ytmaker_pipeline::quota`).

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ytmaker_pipeline::quota::{self, QuotaStatus};

use crate::AppState;
use crate::error::{ApiResult, ErrorBody};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_quotas))
}

#[derive(Serialize, ToSchema)]
pub struct QuotasResponse {
    /// One entry per allowance.
    quotas: Vec<QuotaStatus>,
}

#[utoipa::path(get, path = "/api/v1/quotas", tag = "system",
    responses((status = 200, body = QuotasResponse), (status = 500, body = ErrorBody)))]
async fn list_quotas(State(s): State<AppState>) -> ApiResult<Json<QuotasResponse>> {
    let quotas = quota::current(&s.store, &s.quotas.cloud, &s.quotas.limits).await?;
    Ok(Json(QuotasResponse { quotas }))
}
