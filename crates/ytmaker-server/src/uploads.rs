//! `/api/v1/uploads/logo`: upload a logo (checked and stored by `ytmaker_pipeline::logos`) and
//! read it back for the UI's preview. A project's configuration names it by the returned id.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ytmaker_core::YtError;
use ytmaker_core::config::Rule;
use ytmaker_pipeline::logos;

use crate::AppState;
use crate::error::{ApiPath, ApiResult, ErrorBody};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    let (schemas, paths, upload) = routes!(upload_logo);
    OpenApiRouter::new()
        .routes((
            schemas,
            paths,
            // One over the limit, so a body just too large reaches the handler and is refused
            // with the limit in the details; anything larger is refused by axum, mapped to the
            // same PAYLOAD_TOO_LARGE.
            upload.layer(DefaultBodyLimit::max(logos::MAX_LOGO_BYTES + 1)),
        ))
        .routes(routes!(get_logo))
}

#[derive(Serialize, ToSchema)]
pub struct UploadedLogo {
    /// Put this in a configuration's `logo.upload`.
    id: String,
    width: u32,
    height: u32,
    /// Size of the stored PNG.
    bytes: u64,
}

#[utoipa::path(post, path = "/api/v1/uploads/logo", tag = "uploads",
    request_body(content = Vec<u8>, content_type = "image/png",
        description = "A PNG or JPEG (Content-Type image/png or image/jpeg, matching the bytes), at most 2 MB and 4096×4096 pixels; stored as PNG with alpha"),
    responses((status = 201, body = UploadedLogo), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_logo(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<UploadedLogo>)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let stored = logos::store_logo(&s.data, content_type, &body).await?;
    Ok((
        StatusCode::CREATED,
        Json(UploadedLogo {
            id: stored.id,
            width: stored.width,
            height: stored.height,
            bytes: stored.bytes,
        }),
    ))
}

fn upload_id_param() -> utoipa::openapi::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Rule::UploadId.pattern())
        .build()
}

/// `{id}` of a stored logo.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct LogoId {
    /// The id the upload answered with.
    #[param(schema_with = upload_id_param)]
    id: String,
}

#[utoipa::path(get, path = "/api/v1/uploads/logo/{id}", tag = "uploads",
    params(LogoId),
    responses((status = 200, content_type = "image/png", description = "the stored PNG"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn get_logo(
    State(s): State<AppState>,
    ApiPath(LogoId { id }): ApiPath<LogoId>,
) -> ApiResult<Response> {
    let path = logos::logo_file(&s.data, &id).await?;
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|e| YtError::io("read", &path, &e))?;
    let mut response = Body::from(bytes).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    // The id is the content's hash: the same URL always serves the same bytes.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(response)
}
