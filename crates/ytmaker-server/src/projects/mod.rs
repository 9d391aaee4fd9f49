//! `/api/v1/projects`: create, list, read, settings, actions and events; the configuration input
//! rules and the file serving are modules of their own.

mod config_input;
mod files;

pub(crate) use config_input::{check_api_config, parse_config};
use config_input::{merged_config, youtube_settings};
pub(crate) use files::file_for;
use files::*;

use axum::Extension;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use ytmaker_core::asset::AssetStatus;
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::event::ProjectEvent;
use ytmaker_core::script::Script;
use ytmaker_core::youtube::YoutubeSettings;
use ytmaker_core::{ErrorCode, ErrorInfo, ProjectStatus, YtError};
use ytmaker_pipeline::ProjectView;
use ytmaker_pipeline::control::{self, Action, ActionOutcome};
use ytmaker_store::{
    Asset, Event, JobQueue, NewProject, Project, ProjectFilter, ProjectSettings, ProjectSort,
    ProjectSummary,
};

use crate::AppState;
use crate::error::{
    ApiError, ApiJson, ApiPath, ApiQuery, ApiResult, ErrorBody, invalid, json_value,
};
use crate::middleware::RequestTrace;
use crate::openapi::{NoExtraErrors, ProviderErrors};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, delete_project))
        .routes(routes!(update_configuration))
        .routes(routes!(update_prompt))
        .routes(routes!(update_youtube))
        .routes(routes!(start_project))
        .routes(routes!(pause_project))
        .routes(routes!(resume_project))
        .routes(routes!(cancel_project))
        .routes(routes!(retry_project))
        .routes(routes!(project_result))
        .routes(routes!(project_file))
        .routes(routes!(project_events))
        .routes(routes!(project_assets))
        .routes(routes!(asset_file))
}

/// A project as the API returns it.
#[derive(Serialize, ToSchema)]
pub struct ProjectResponse {
    pub id: Uuid,
    pub name: String,
    /// One of the SPEC §2 statuses, e.g. `INITIALIZED`, `RENDERING`, `FAILED`.
    pub status: String,
    pub content: String,
    #[schema(schema_with = crate::openapi::config_ref)]
    pub configuration: ProjectConfig,
    #[schema(value_type = Option<Object>)]
    pub script: Option<Script>,
    /// SPEC §4 `error_info`, present when FAILED.
    pub error_info: Option<ErrorInfo>,
    pub trace_id: Option<String>,
    pub config_template_id: Option<Uuid>,
    pub prompt_template_id: Option<Uuid>,
    pub prompt_content: Option<String>,
    pub llm_model: Option<String>,
    #[schema(value_type = Option<YoutubeSettings>)]
    pub youtube_settings: Option<Value>,
    pub youtube_video_id: Option<String>,
    /// `queued` or `running` while a worker has (or will take) the project.
    pub job: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

pub(crate) async fn respond(state: &AppState, p: Project) -> ApiResult<Json<ProjectResponse>> {
    let job = state.store.live_job(p.id).await?;
    Ok(Json(ProjectResponse {
        id: p.id,
        name: p.name,
        status: p.status.as_str().into(),
        content: p.content,
        configuration: p.configuration,
        script: p.script,
        error_info: p.error_info,
        trace_id: p.trace_id.map(|t| t.to_string()),
        config_template_id: p.config_template_id,
        prompt_template_id: p.prompt_template_id,
        prompt_content: p.prompt_content,
        llm_model: p.llm_model,
        youtube_settings: p.youtube_settings,
        youtube_video_id: p.youtube_video_id,
        job: job.map(|j| j.state.as_str().to_owned()),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }))
}

/// The largest `offset` a listing accepts: the document declares it an int32, and the server
/// refuses what the document refuses.
const MAX_OFFSET: u32 = i32::MAX as u32;

/// `sort` values and the order they name.
/// The most projects one page lists (the document's `limit` maximum says the same; the API
/// contract test compares them).
pub(crate) const MAX_PAGE_LIMIT: u32 = 200;

pub(crate) const SORTS: [(&str, ProjectSort); 4] = [
    ("created_at", ProjectSort::CreatedAt),
    ("updated_at", ProjectSort::UpdatedAt),
    ("name", ProjectSort::Name),
    ("status", ProjectSort::Status),
];

/// `order` values: descending or not.
const ORDERS: [(&str, bool); 2] = [("desc", true), ("asc", false)];

fn status_param() -> utoipa::openapi::Object {
    crate::openapi::fields::one_of(ProjectStatus::ALL.iter().map(|s| s.as_str()))
}

fn sort_param() -> utoipa::openapi::Object {
    crate::openapi::fields::one_of(SORTS.iter().map(|(name, _)| *name))
}

fn order_param() -> utoipa::openapi::Object {
    crate::openapi::fields::one_of(ORDERS.iter().map(|(name, _)| *name))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only projects in this status, e.g. `FAILED`.
    #[param(schema_with = status_param)]
    status: Option<String>,
    /// Projects per page: 1–200, default 50.
    #[param(minimum = 1, maximum = 200, default = 50)]
    limit: Option<u32>,
    /// Projects skipped: 0–2147483647, default 0.
    #[param(minimum = 0, maximum = 2147483647, default = 0)]
    offset: Option<u32>,
    /// `created_at` (default), `updated_at`, `name` or `status`.
    #[param(schema_with = sort_param)]
    sort: Option<String>,
    /// `desc` (default) or `asc`.
    #[param(schema_with = order_param)]
    order: Option<String>,
}

/// The schema of the list's items, `ytmaker_store::ProjectSummary` as it serialises (the store
/// has no schema types of its own): statuses and error codes from their tables.
fn summary_items() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
    let string = || ObjectBuilder::new().schema_type(Type::String);
    let item = ObjectBuilder::new()
        .property(
            "id",
            string().format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
        )
        .property("name", string())
        .property(
            "status",
            crate::openapi::fields::one_of(ProjectStatus::ALL.iter().map(|s| s.as_str())),
        )
        .property("error_code", crate::openapi::fields::optional_error_code())
        .property("created_at", string())
        .property("updated_at", string())
        .required("id")
        .required("name")
        .required("status")
        .required("error_code")
        .required("created_at")
        .required("updated_at")
        .additional_properties(Some(
            utoipa::openapi::schema::AdditionalProperties::FreeForm(false),
        ));
    ArrayBuilder::new().items(item).build()
}

#[derive(Serialize, ToSchema)]
pub struct ProjectPage {
    #[schema(schema_with = summary_items)]
    pub items: Vec<ProjectSummary>,
    pub total: i64,
    pub limit: u32,
    pub offset: u32,
}

#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(ListQuery),
    responses((status = 200, body = ProjectPage), (status = 422, body = ErrorBody)))]
async fn list_projects(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<ProjectPage>> {
    let status = match q.status.as_deref() {
        Some(raw) => Some(
            ProjectStatus::parse(raw)
                .ok_or_else(|| invalid("status", "a project status such as FAILED", raw))?,
        ),
        None => None,
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
        return Err(invalid("limit", &format!("1 to {MAX_PAGE_LIMIT}"), limit));
    }
    let sort_name = q.sort.as_deref().unwrap_or("created_at");
    let sort = SORTS
        .iter()
        .find(|(name, _)| *name == sort_name)
        .map(|(_, sort)| *sort)
        .ok_or_else(|| invalid("sort", "created_at, updated_at, name or status", sort_name))?;
    let order = q.order.as_deref().unwrap_or("desc");
    let descending = ORDERS
        .iter()
        .find(|(name, _)| *name == order)
        .map(|(_, descending)| *descending)
        .ok_or_else(|| invalid("order", "asc or desc", order))?;
    let offset = q.offset.unwrap_or(0);
    if offset > MAX_OFFSET {
        return Err(invalid("offset", "0 to 2147483647", offset));
    }
    let filter = ProjectFilter {
        status,
        limit,
        offset,
        sort,
        descending,
    };
    let items = state.store.list_projects(&filter).await?;
    let total = state.store.count_projects(status).await?;
    Ok(Json(ProjectPage {
        items,
        total,
        limit,
        offset,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// Default: the script's title once it exists.
    #[schema(schema_with = crate::openapi::fields::optional_name)]
    pub(crate) name: Option<String>,
    #[schema(schema_with = crate::openapi::fields::article)]
    pub(crate) content: String,
    /// Overrides of the default configuration, or of the template's (any subset of its sections
    /// and fields).
    #[schema(schema_with = crate::openapi::config_overrides_ref)]
    pub(crate) configuration: Option<Value>,
    pub(crate) config_template_id: Option<Uuid>,
    pub(crate) prompt_template_id: Option<Uuid>,
    /// The Gemini model to write the script with (when the script provider is Gemini).
    #[schema(schema_with = crate::openapi::fields::optional_model)]
    pub(crate) llm_model: Option<String>,
    #[schema(value_type = Option<YoutubeSettings>)]
    pub(crate) youtube: Option<Value>,
    /// Queue it at once (default false).
    #[serde(default)]
    pub(crate) start: bool,
}

#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = CreateProject,
    responses((status = 201, body = ProjectResponse), (status = 422, body = ErrorBody), (status = 404, body = ErrorBody, description = "NOT_FOUND: the configuration or prompt template named does not exist"),
        ProviderErrors,
        (status = 429, body = ErrorBody, description = "QUOTA_INSUFFICIENT with `start`: the project is created but not started (details.project_id); or a provider's rate limit")))]
async fn create_project(
    State(state): State<AppState>,
    Extension(RequestTrace(trace)): Extension<RequestTrace>,
    ApiJson(body): ApiJson<CreateProject>,
) -> ApiResult<(StatusCode, Json<ProjectResponse>)> {
    let project = create(&state, body, &trace).await?;
    Ok((StatusCode::CREATED, respond(&state, project).await?))
}

/// Creates (and with `start`, starts) a project by the API's rules; the MCP server's
/// `create_project` tool goes through here too.
pub(crate) async fn create(
    state: &AppState,
    body: CreateProject,
    trace: &ytmaker_core::TraceId,
) -> ApiResult<Project> {
    ytmaker_core::article::validate_article_text(&body.content)?;
    if let Some(name) = &body.name {
        ytmaker_core::prompt::validate_name("name", name)?;
    }
    if let Some(model) = &body.llm_model {
        ytmaker_core::prompt::validate_model("llm_model", model)?;
    }
    let base = match body.config_template_id {
        Some(id) => state.store.config_template(id).await?.configuration,
        None => (*state.default_config).clone(),
    };
    let configuration = merged_config(&base, body.configuration.as_ref())?;
    check_api_config(&state.data, &base, &configuration).await?;
    let youtube = match &body.youtube {
        Some(raw) => Some(youtube_settings(state, raw).await?),
        None => None,
    };
    let prompt = match body.prompt_template_id {
        Some(id) => state.store.prompt_template(id).await?,
        None => state.store.default_prompt_template().await?,
    };
    // One statement: a failure leaves no project without its settings.
    let project = state
        .store
        .create_project_with(
            &NewProject {
                name: body.name.clone().unwrap_or_default(),
                content: body.content,
                configuration,
            },
            &ProjectSettings {
                config_template_id: body.config_template_id,
                prompt_template_id: Some(prompt.id),
                prompt_content: Some(prompt.content),
                llm_model: body.llm_model,
                youtube_settings: youtube,
                ..Default::default()
            },
        )
        .await?;
    tracing::info!(project_id = %project.id, "project created");
    let project = if body.start {
        // A refused start leaves the created project as it is (INITIALIZED); the error names it,
        // so a client shows that project rather than creating another.
        control::apply(
            &state.store,
            &state.wakeup,
            &state.start_check,
            project.id,
            Action::Start,
            trace,
        )
        .await
        .map_err(|e| e.detail("project_id", project.id.to_string()))?
        .project
    } else {
        project
    };
    Ok(project)
}

#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = ProjectResponse), (status = 404, body = ErrorBody)))]
async fn get_project(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ProjectResponse>> {
    let p = state.store.get_project(id).await?;
    respond(&state, p).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// Also delete the project's folder (inputs, assets, outputs). Default false.
    delete_files: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct Deleted {
    pub id: Uuid,
    pub files_deleted: bool,
}

#[utoipa::path(delete, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = Uuid, Path, description = "project id"), DeleteQuery),
    responses((status = 200, body = Deleted), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_project(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<DeleteQuery>,
) -> ApiResult<Json<Deleted>> {
    let project = state.store.get_project(id).await?;
    if state.store.live_job(id).await?.is_some() {
        return Err(ApiError(
            YtError::new(
                ErrorCode::INVALID_STATE_TRANSITION,
                "a queued or running project cannot be deleted; pause or cancel it first",
            )
            .detail("status", project.status.as_str())
            .detail("action", "delete"),
        ));
    }
    state.store.delete_project(id).await?;
    let delete_files = q.delete_files.unwrap_or(false);
    if delete_files {
        let dir = state.data.project(id);
        match tokio::fs::remove_dir_all(dir.root()).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ApiError(YtError::io("delete", dir.root(), &e))),
        }
    }
    tracing::info!(project_id = %id, delete_files, "project deleted");
    Ok(Json(Deleted {
        id,
        files_deleted: delete_files,
    }))
}

/// Settings may change only while nothing runs the project.
async fn editable(state: &AppState, id: Uuid, what: &str) -> ApiResult<Project> {
    let p = state.store.get_project(id).await?;
    let live = state.store.live_job(id).await?;
    let idle = matches!(
        p.status,
        ProjectStatus::Initialized | ProjectStatus::Paused | ProjectStatus::Failed
    );
    if !idle || live.is_some() {
        return Err(ApiError(
            YtError::new(
                ErrorCode::INVALID_STATE_TRANSITION,
                format!("the {what} of a project that is {} cannot change", p.status),
            )
            .detail("status", p.status.as_str())
            .detail("action", format!("update {what}")),
        ));
    }
    Ok(p)
}

#[utoipa::path(put, path = "/api/v1/projects/{id}/configuration", tag = "projects",
    params(("id" = Uuid, Path, description = "project id")),
    request_body(content = inline(crate::openapi::ConfigOverrides), description = "Overrides merged into the project's configuration"),
    responses((status = 200, body = ProjectResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_configuration(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<ProjectResponse>> {
    let p = editable(&state, id, "configuration").await?;
    let configuration = merged_config(&p.configuration, Some(&body))?;
    check_api_config(&state.data, &p.configuration, &configuration).await?;
    let p = state
        .store
        .update_project_settings(
            id,
            &ProjectSettings {
                configuration: Some(configuration),
                ..Default::default()
            },
        )
        .await?;
    respond(&state, p).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromptUpdate {
    prompt_template_id: Option<Uuid>,
    /// Edited prompt text for this project only (must contain `{article}`).
    #[schema(schema_with = crate::openapi::fields::optional_template_text)]
    prompt_content: Option<String>,
    #[schema(schema_with = crate::openapi::fields::optional_model)]
    llm_model: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/projects/{id}/prompt", tag = "projects",
    params(("id" = Uuid, Path, description = "project id")), request_body = PromptUpdate,
    responses((status = 200, body = ProjectResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_prompt(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<PromptUpdate>,
) -> ApiResult<Json<ProjectResponse>> {
    editable(&state, id, "prompt").await?;
    let mut content = body.prompt_content;
    if let Some(t) = body.prompt_template_id
        && content.is_none()
    {
        content = Some(state.store.prompt_template(t).await?.content);
    }
    if let Some(c) = &content {
        ytmaker_core::prompt::validate_template_content(c)?;
    }
    if let Some(m) = &body.llm_model {
        ytmaker_core::prompt::validate_model("llm_model", m)?;
    }
    let p = state
        .store
        .update_project_settings(
            id,
            &ProjectSettings {
                prompt_template_id: body.prompt_template_id,
                prompt_content: content,
                llm_model: body.llm_model,
                ..Default::default()
            },
        )
        .await?;
    respond(&state, p).await
}

#[utoipa::path(put, path = "/api/v1/projects/{id}/youtube", tag = "projects",
    params(("id" = Uuid, Path, description = "project id")),
    request_body(content = YoutubeSettings, description = "The upload's settings; `account` must be a linked account's channel id (absent or empty: the default account)"),
    responses((status = 200, body = ProjectResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_youtube(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<ProjectResponse>> {
    editable(&state, id, "YouTube settings").await?;
    let settings = youtube_settings(&state, &body).await?;
    let p = state
        .store
        .update_project_settings(
            id,
            &ProjectSettings {
                youtube_settings: Some(settings),
                ..Default::default()
            },
        )
        .await?;
    respond(&state, p).await
}

#[derive(Serialize, ToSchema)]
pub struct ActionResponse {
    /// start, pause, resume, cancel or retry.
    pub action: String,
    /// `queued`, `requested` (the running worker stops after its current step) or `done`.
    pub result: String,
    pub project: ProjectResponse,
}

async fn act(
    state: &AppState,
    id: Uuid,
    action: Action,
    trace: &ytmaker_core::TraceId,
) -> ApiResult<(StatusCode, Json<ActionResponse>)> {
    let ActionOutcome {
        action,
        result,
        project,
    } = control::apply(
        &state.store,
        &state.wakeup,
        &state.start_check,
        id,
        action,
        trace,
    )
    .await?;
    let Json(project) = respond(state, project).await?;
    let status = if result == "done" {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    Ok((
        status,
        Json(ActionResponse {
            action: action.as_str().into(),
            result: result.into(),
            project,
        }),
    ))
}

/// `$errors`: the extra error answers of the action (`ProviderErrors` where the start check asks
/// the providers and counts the quota, `NoExtraErrors` otherwise).
macro_rules! action_route {
    ($fn_name:ident, $action:expr, $path:literal, $doc:literal, $errors:ident) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "projects",
            params(("id" = Uuid, Path, description = "project id")),
            responses((status = 202, body = ActionResponse, description = "queued, or requested (the running worker stops after its current step)"),
                      (status = 200, body = ActionResponse, description = "done: applied at once"),
                      (status = 409, body = ErrorBody), (status = 404, body = ErrorBody),
                      $errors))]
        async fn $fn_name(
            State(state): State<AppState>,
            Extension(RequestTrace(trace)): Extension<RequestTrace>,
            ApiPath(id): ApiPath<Uuid>,
        ) -> ApiResult<(StatusCode, Json<ActionResponse>)> {
            act(&state, id, $action, &trace).await
        }
    };
}

action_route!(
    start_project,
    Action::Start,
    "/api/v1/projects/{id}/start",
    "Queue a new project.",
    ProviderErrors
);
action_route!(
    pause_project,
    Action::Pause,
    "/api/v1/projects/{id}/pause",
    "Pause after the current step; completed assets are kept.",
    NoExtraErrors
);
action_route!(
    resume_project,
    Action::Resume,
    "/api/v1/projects/{id}/resume",
    "Continue a paused or interrupted project.",
    ProviderErrors
);
action_route!(
    cancel_project,
    Action::Cancel,
    "/api/v1/projects/{id}/cancel",
    "Stop for good; what was made is kept.",
    NoExtraErrors
);
action_route!(
    retry_project,
    Action::Retry,
    "/api/v1/projects/{id}/retry",
    "Continue a failed project from its failed step.",
    ProviderErrors
);

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Only events with a larger sequence number.
    after_seq: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct EventsResponse {
    pub events: Vec<Event>,
    /// The project state folded from all its events.
    pub view: ProjectView,
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/events", tag = "projects",
    params(("id" = Uuid, Path, description = "project id"), EventsQuery),
    responses((status = 200, body = EventsResponse), (status = 404, body = ErrorBody)))]
async fn project_events(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Json<EventsResponse>> {
    state.store.get_project(id).await?;
    let all = state.store.events_since(id, 0).await?;
    let view = ProjectView::fold(&all);
    let after = q.after_seq.unwrap_or(0);
    let events = all.into_iter().filter(|e| e.seq > after).collect();
    Ok(Json(EventsResponse { events, view }))
}

/// An asset row and where to download its file, if it has one.
#[derive(Serialize)]
pub struct AssetEntry {
    #[serde(flatten)]
    pub asset: Asset,
    /// Set only for a COMPLETED asset whose file was not removed by the retention policy
    /// (`removed_at`), so the list never offers a file that is gone.
    pub file_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct AssetsResponse {
    /// Asset rows (kind, segment index, status, path, content hash, provider, attempts, error,
    /// metadata, `removed_at`, times) each with its `file_url`.
    #[schema(value_type = Vec<Object>)]
    pub assets: Vec<AssetEntry>,
    pub completed: usize,
    pub failed: usize,
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/assets", tag = "projects",
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = AssetsResponse), (status = 404, body = ErrorBody)))]
async fn project_assets(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<AssetsResponse>> {
    state.store.get_project(id).await?;
    let assets = state.store.assets(id).await?;
    let completed = assets
        .iter()
        .filter(|a| a.status == AssetStatus::Completed)
        .count();
    let failed = assets
        .iter()
        .filter(|a| a.status == AssetStatus::Failed)
        .count();
    let assets = assets
        .into_iter()
        .map(|asset| AssetEntry {
            file_url: (asset.is_completed() && asset.removed_at.is_none() && asset.path.is_some())
                .then(|| format!("/api/v1/projects/{id}/assets/{}/file", asset.id)),
            asset,
        })
        .collect();
    Ok(Json(AssetsResponse {
        assets,
        completed,
        failed,
    }))
}
