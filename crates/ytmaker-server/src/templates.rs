//! `/api/v1/configurations` and `/api/v1/prompt-templates`: CRUD and duplicate. The default prompt
//! template cannot be deleted.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use ytmaker_core::prompt::{validate_name, validate_template_content};
use ytmaker_store::{ConfigTemplate, PromptTemplate};

use crate::AppState;
use crate::error::{ApiJson, ApiPath, ApiResult, ErrorBody};
use crate::projects::{check_api_config, parse_config};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_prompts, create_prompt))
        .routes(routes!(get_prompt, update_prompt, delete_prompt))
        .routes(routes!(duplicate_prompt))
        .routes(routes!(list_configs, create_config))
        .routes(routes!(get_config, update_config, delete_config))
        .routes(routes!(duplicate_config))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptBody {
    #[schema(schema_with = crate::openapi::fields::name)]
    name: String,
    /// The prompt; must contain `{article}`.
    #[schema(schema_with = crate::openapi::fields::template_text)]
    content: String,
}

#[utoipa::path(get, path = "/api/v1/prompt-templates", tag = "templates",
    responses((status = 200, body = Vec<Object>)))]
async fn list_prompts(State(s): State<AppState>) -> ApiResult<Json<Vec<PromptTemplate>>> {
    Ok(Json(s.store.list_prompt_templates().await?))
}

#[utoipa::path(post, path = "/api/v1/prompt-templates", tag = "templates", request_body = PromptBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn create_prompt(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<PromptBody>,
) -> ApiResult<(StatusCode, Json<PromptTemplate>)> {
    validate_name("name", &b.name)?;
    validate_template_content(&b.content)?;
    let t = s.store.create_prompt_template(&b.name, &b.content).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(get, path = "/api/v1/prompt-templates/{id}", tag = "templates",
    params(("id" = Uuid, Path, description = "template id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_prompt(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<PromptTemplate>> {
    Ok(Json(s.store.prompt_template(id).await?))
}

#[utoipa::path(put, path = "/api/v1/prompt-templates/{id}", tag = "templates", operation_id = "update_prompt_template",
    params(("id" = Uuid, Path, description = "template id")), request_body = PromptBody,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_prompt(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<PromptBody>,
) -> ApiResult<Json<PromptTemplate>> {
    validate_name("name", &b.name)?;
    validate_template_content(&b.content)?;
    Ok(Json(
        s.store
            .update_prompt_template(id, &b.name, &b.content)
            .await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/prompt-templates/{id}", tag = "templates",
    params(("id" = Uuid, Path, description = "template id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "the default template is protected")))]
async fn delete_prompt(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    s.store.delete_prompt_template(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/prompt-templates/{id}/duplicate", tag = "templates",
    params(("id" = Uuid, Path, description = "template id")),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody)))]
async fn duplicate_prompt(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<PromptTemplate>)> {
    let t = s.store.prompt_template(id).await?;
    let name = copy_name(&t.name);
    let copy = s.store.create_prompt_template(&name, &t.content).await?;
    Ok((StatusCode::CREATED, Json(copy)))
}

fn copy_name(name: &str) -> String {
    let base: String = name.chars().take(93).collect();
    format!("{base} (copy)")
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigBody {
    #[schema(schema_with = crate::openapi::fields::name)]
    name: String,
    /// A complete or partial project configuration; missing sections and fields take their
    /// defaults.
    #[schema(schema_with = crate::openapi::config_ref)]
    configuration: Value,
}

#[utoipa::path(get, path = "/api/v1/configurations", tag = "templates",
    responses((status = 200, body = Vec<Object>)))]
async fn list_configs(State(s): State<AppState>) -> ApiResult<Json<Vec<ConfigTemplate>>> {
    Ok(Json(s.store.list_config_templates().await?))
}

#[utoipa::path(post, path = "/api/v1/configurations", tag = "templates", request_body = ConfigBody,
    responses((status = 201, body = Object), (status = 422, body = ErrorBody)))]
async fn create_config(
    State(s): State<AppState>,
    ApiJson(b): ApiJson<ConfigBody>,
) -> ApiResult<(StatusCode, Json<ConfigTemplate>)> {
    validate_name("name", &b.name)?;
    let config = parse_config(b.configuration)?;
    check_api_config(&s.data, &s.default_config, &config).await?;
    let t = s.store.create_config_template(&b.name, &config).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(get, path = "/api/v1/configurations/{id}", tag = "templates",
    params(("id" = Uuid, Path, description = "template id")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)))]
async fn get_config(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ConfigTemplate>> {
    Ok(Json(s.store.config_template(id).await?))
}

#[utoipa::path(put, path = "/api/v1/configurations/{id}", tag = "templates",
    params(("id" = Uuid, Path, description = "template id")), request_body = ConfigBody,
    responses((status = 200, body = Object), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_config(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(b): ApiJson<ConfigBody>,
) -> ApiResult<Json<ConfigTemplate>> {
    validate_name("name", &b.name)?;
    let config = parse_config(b.configuration)?;
    let stored = s.store.config_template(id).await?.configuration;
    check_api_config(&s.data, &stored, &config).await?;
    Ok(Json(
        s.store.update_config_template(id, &b.name, &config).await?,
    ))
}

#[utoipa::path(delete, path = "/api/v1/configurations/{id}", tag = "templates",
    params(("id" = Uuid, Path, description = "template id")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_config(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    s.store.delete_config_template(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/configurations/{id}/duplicate", tag = "templates",
    params(("id" = Uuid, Path, description = "template id")),
    responses((status = 201, body = Object), (status = 404, body = ErrorBody)))]
async fn duplicate_config(
    State(s): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<(StatusCode, Json<ConfigTemplate>)> {
    let t = s.store.config_template(id).await?;
    let copy = s
        .store
        .create_config_template(&copy_name(&t.name), &t.configuration)
        .await?;
    Ok((StatusCode::CREATED, Json(copy)))
}
