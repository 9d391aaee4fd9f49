//! `/api/v1/projects/{id}/segments/{index}/…` and `…/continue-without-presenter`: the changes a
//! user makes to a FAILED or PAUSED project before retrying it (`ytmaker_pipeline::edits` holds
//! the rules).

use axum::Extension;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use ytmaker_core::script::Segment;
use ytmaker_pipeline::edits;

use crate::AppState;
use crate::error::{ApiJson, ApiPath, ApiResult, ErrorBody, invalid};
use crate::middleware::RequestTrace;
use crate::projects::{ProjectResponse, respond};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    let (schemas, paths, upload) = routes!(upload_image);
    OpenApiRouter::new()
        .routes(routes!(edit_image))
        .routes((
            schemas,
            paths,
            // An image is far larger than the API's usual 256 KiB bodies.
            upload.layer(DefaultBodyLimit::max(edits::MAX_UPLOAD_BYTES + 1)),
        ))
        .routes(routes!(regenerate_image))
        .routes(routes!(continue_without_presenter))
}

/// The longest image description: the pipeline's limit (`edit_segment_image`, counted there
/// after trimming), applied here to the text as sent, as the API document states it.
const MAX_IMAGE_DESCRIPTION_CHARS: usize = 2000;

fn image_description_field() -> utoipa::openapi::Object {
    crate::openapi::fields::text(1, MAX_IMAGE_DESCRIPTION_CHARS).build()
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageEdit {
    /// What the image should show.
    #[schema(schema_with = image_description_field)]
    image_description: String,
    /// The English prompt for the image model; the description when omitted.
    image_prompt: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EditedSegment {
    #[schema(value_type = Object)]
    segment: Segment,
}

#[utoipa::path(put, path = "/api/v1/projects/{id}/segments/{index}/image", tag = "edits",
    params(("id" = Uuid, Path, description = "project id"), ("index" = u32, Path, description = "segment index")),
    request_body = ImageEdit,
    responses((status = 200, body = EditedSegment), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn edit_image(
    State(s): State<AppState>,
    Extension(RequestTrace(trace)): Extension<RequestTrace>,
    ApiPath((id, index)): ApiPath<(Uuid, u32)>,
    ApiJson(body): ApiJson<ImageEdit>,
) -> ApiResult<Json<EditedSegment>> {
    let chars = body.image_description.chars().count();
    if chars > MAX_IMAGE_DESCRIPTION_CHARS {
        return Err(invalid(
            "image_description",
            &format!("1–{MAX_IMAGE_DESCRIPTION_CHARS} characters"),
            chars,
        ));
    }
    let segment = edits::edit_segment_image(
        &s.store,
        &s.data,
        id,
        index,
        &body.image_description,
        body.image_prompt.as_deref(),
        &trace,
    )
    .await?;
    Ok(Json(EditedSegment { segment }))
}

#[derive(Serialize, ToSchema)]
pub struct UploadedImage {
    width: u32,
    height: u32,
}

#[utoipa::path(put, path = "/api/v1/projects/{id}/segments/{index}/image/file", tag = "edits",
    params(("id" = Uuid, Path, description = "project id"), ("index" = u32, Path, description = "segment index")),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 200, body = UploadedImage), (status = 409, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_image(
    State(s): State<AppState>,
    Extension(RequestTrace(trace)): Extension<RequestTrace>,
    ApiPath((id, index)): ApiPath<(Uuid, u32)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<UploadedImage>> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !matches!(content_type, "image/png" | "image/jpeg") {
        return Err(invalid(
            "content-type",
            "image/png or image/jpeg",
            content_type,
        ));
    }
    let (width, height) =
        edits::replace_segment_image(&s.store, &s.data, id, index, &body, &trace).await?;
    Ok(Json(UploadedImage { width, height }))
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/segments/{index}/image/regenerate", tag = "edits",
    params(("id" = Uuid, Path, description = "project id"), ("index" = u32, Path, description = "segment index")),
    responses((status = 204), (status = 409, body = ErrorBody)))]
async fn regenerate_image(
    State(s): State<AppState>,
    Extension(RequestTrace(trace)): Extension<RequestTrace>,
    ApiPath((id, index)): ApiPath<(Uuid, u32)>,
) -> ApiResult<StatusCode> {
    edits::regenerate_segment_image(&s.store, id, index, &trace).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/projects/{id}/continue-without-presenter", tag = "edits",
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = ProjectResponse), (status = 409, body = ErrorBody)))]
async fn continue_without_presenter(
    State(s): State<AppState>,
    Extension(RequestTrace(trace)): Extension<RequestTrace>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ProjectResponse>> {
    let project = edits::continue_without_presenter(&s.store, id, &trace).await?;
    respond(&s, project).await
}
