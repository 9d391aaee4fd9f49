//! The MCP server (issue 14): tools an AI agent drives ytmaker with, built on the official Rust
//! SDK (`rmcp`). The same tools are served two ways: over stdio by `ytmaker mcp`, and over
//! streamable HTTP at `/mcp` by `ytmaker serve`, behind the same Host/Origin guard and access
//! token as the REST API.
//!
//! The tools are thin: each goes through the code its REST route uses (`projects::create`,
//! `control::apply`, the event fold), so the rules are the API's. A refusal or failure is a tool
//! error (`isError: true`) whose structured content is the REST error body,
//! `{"error": {code, message, is_retryable, details, solutions, trace_id, timestamp}}`, with the
//! trace id the call was logged under.

use std::time::Duration;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, Implementation, ProgressNotificationParam, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{RoleServer, ServerHandler, ServiceExt, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;
use ytmaker_core::{ErrorCode, ErrorInfo, ProjectStatus, Stage, TraceId, YtError};
use ytmaker_pipeline::ProjectView;
use ytmaker_pipeline::control::{self, Action};
use ytmaker_store::JobQueue;

use crate::AppState;
use crate::error::{ApiError, error_body};
use crate::projects::{CreateProject, file_for};

/// The longest one `wait_for_project` call blocks; an agent calls it again to keep following.
const MAX_WAIT_SECONDS: u32 = 600;
const DEFAULT_WAIT_SECONDS: u32 = 60;
/// How often `wait_for_project` reads the project's events.
const POLL_EVERY: Duration = Duration::from_millis(500);

#[derive(Clone)]
pub(crate) struct YtmakerMcp {
    state: AppState,
    /// How a result file is reached over HTTP (`http://127.0.0.1:8000`).
    base_url: String,
    tool_router: ToolRouter<Self>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateProjectArgs {
    /// The article to turn into a video (plain text or Markdown, 300 to 10,000 characters).
    content: String,
    /// The project's name (default: the script's title once it exists).
    name: Option<String>,
    /// Overrides of the default configuration or of the template's: any subset of its sections
    /// and fields, as in the REST API's `configuration` (e.g. {"providers": {"script": "local"}}).
    configuration: Option<Map<String, Value>>,
    /// A stored configuration template to start from (its id).
    config_template_id: Option<String>,
    /// A stored prompt template for the script (its id).
    prompt_template_id: Option<String>,
    /// Queue the project at once (default true). A start that is refused (a missing key, the
    /// quota) leaves the project created, and the error names it in details.project_id.
    start: Option<bool>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProjectArgs {
    /// The project's id (a UUID).
    project_id: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WaitArgs {
    /// The project's id (a UUID).
    project_id: String,
    /// Return after this many seconds even if the project is still running (default 60, at
    /// most 600). Progress is sent as MCP progress notifications when the call carries a
    /// progress token.
    timeout_seconds: Option<u32>,
}

#[derive(Deserialize, schemars::JsonSchema, Clone, Copy)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ActionName {
    Start,
    Pause,
    Resume,
    Cancel,
    /// Continue a FAILED project from the earliest step with work to do (also after its cause
    /// was fixed, when the error is not retryable).
    Retry,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ActionArgs {
    project_id: String,
    action: ActionName,
}

/// A project as the tools return it.
#[derive(Serialize)]
struct ProjectState {
    project_id: Uuid,
    name: String,
    status: ProjectStatus,
    /// `queued` or `running` while a worker has (or will take) the project; absent otherwise.
    job: Option<String>,
    /// The stage in progress, or the last one reached.
    stage: Option<Stage>,
    /// 0–100 over the whole run.
    percent: f64,
    eta_seconds: Option<f64>,
    /// The failure (`error_info`) of a FAILED project: code, message, solutions, trace id.
    error: Option<ErrorInfo>,
    /// True when the project is not running and no run is queued: waiting will not change it.
    settled: bool,
}

/// One result file: its download URL and where it is on this machine.
#[derive(Serialize)]
struct ResultFile {
    url: String,
    path: String,
    bytes: u64,
}

#[derive(Serialize)]
struct ProjectResult {
    project_id: Uuid,
    status: ProjectStatus,
    /// Where the video was published (a folder for the local publisher, a YouTube URL).
    location: Option<String>,
    video: ResultFile,
    thumbnail: ResultFile,
    subtitles: ResultFile,
}

impl YtmakerMcp {
    pub(crate) fn new(state: AppState) -> Self {
        let base_url = format!("http://{}", state.addr);
        YtmakerMcp {
            state,
            base_url,
            tool_router: Self::tool_router(),
        }
    }

    /// The streamable HTTP endpoint `serve` mounts at `/mcp`. The Host and Origin checks are
    /// the server's own guard's (one rule for every route), so the SDK's are turned off here.
    pub(crate) fn http_service(
        &self,
        sessions: tokio_util::sync::CancellationToken,
    ) -> StreamableHttpService<YtmakerMcp, LocalSessionManager> {
        let tools = self.clone();
        StreamableHttpService::new(
            move || Ok(tools.clone()),
            Default::default(),
            StreamableHttpServerConfig::default()
                .disable_allowed_hosts()
                .with_cancellation_token(sessions),
        )
    }

    /// Serves the tools over stdin/stdout until the client closes them.
    pub(crate) async fn serve_stdio(self) -> Result<(), YtError> {
        let running = self.serve(rmcp::transport::stdio()).await.map_err(|e| {
            YtError::new(
                ErrorCode::REQUEST_MALFORMED,
                format!("the MCP client's initialisation failed: {e}"),
            )
        })?;
        running.waiting().await.map_err(|e| {
            YtError::new(
                ErrorCode::SERVER_PANICKED,
                format!("the MCP session ended abnormally: {e}"),
            )
        })?;
        Ok(())
    }

    fn failure(&self, err: YtError, trace: &TraceId) -> CallToolResult {
        tracing::warn!(trace_id = %trace, error_code = %err.code, "MCP tool refused: {}", err.message);
        match serde_json::to_value(error_body(&err, trace, self.state.lang)) {
            Ok(body) => CallToolResult::structured_error(body),
            Err(e) => CallToolResult::structured_error(serde_json::json!({ "error": {
                "code": ErrorCode::SERVER_PANICKED.as_str(),
                "message": format!("the error body could not be encoded: {e}"),
                "trace_id": trace.as_str(),
            }})),
        }
    }

    /// The tool's answer: its value as structured content, or its error in the REST shape.
    fn reply<T: Serialize>(&self, outcome: Result<T, YtError>, trace: &TraceId) -> CallToolResult {
        match outcome {
            Ok(value) => self.answer(&value, trace),
            Err(err) => self.failure(err, trace),
        }
    }

    fn answer<T: Serialize>(&self, value: &T, trace: &TraceId) -> CallToolResult {
        match serde_json::to_value(value) {
            Ok(v) => CallToolResult::structured(v),
            Err(e) => self.failure(
                YtError::new(
                    ErrorCode::SERVER_PANICKED,
                    format!("the tool's answer could not be encoded: {e}"),
                ),
                trace,
            ),
        }
    }

    async fn project_state(&self, id: Uuid) -> Result<ProjectState, YtError> {
        let project = self.state.store.get_project(id).await?;
        let job = self.state.store.live_job(id).await?;
        let events = self.state.store.events_since(id, 0).await?;
        let view = ProjectView::fold(&events);
        Ok(ProjectState {
            project_id: id,
            name: project.name,
            status: project.status,
            settled: job.is_none() && !project.status.is_running(),
            job: job.map(|j| j.state.as_str().to_owned()),
            stage: view.stage,
            percent: view.percent,
            eta_seconds: view.eta_seconds,
            error: project.error_info,
        })
    }

    async fn result_of(&self, id: Uuid) -> Result<ProjectResult, YtError> {
        let project = self.state.store.get_project(id).await?;
        if project.status != ProjectStatus::Completed {
            return Err(YtError::new(
                ErrorCode::INVALID_STATE_TRANSITION,
                format!(
                    "the project is {}: its result files exist once it is COMPLETED",
                    project.status.as_str()
                ),
            )
            .detail("status", project.status.as_str())
            .detail("project_id", id.to_string()));
        }
        let events = self.state.store.events_since(id, 0).await?;
        let view = ProjectView::fold(&events);
        let file = |name: &str| -> Result<ResultFile, YtError> {
            let (path, _, _) = file_for(&self.state, id, name).ok_or_else(|| {
                YtError::new(ErrorCode::NOT_FOUND, format!("no file named {name:?}"))
            })?;
            let meta = std::fs::metadata(&path).map_err(|e| YtError::io("read", &path, &e))?;
            Ok(ResultFile {
                url: format!("{}/api/v1/projects/{id}/files/{name}", self.base_url),
                path: path.display().to_string(),
                bytes: meta.len(),
            })
        };
        Ok(ProjectResult {
            project_id: id,
            status: project.status,
            location: view.result.map(|r| r.location),
            video: file("video")?,
            thumbnail: file("thumbnail")?,
            subtitles: file("subtitles")?,
        })
    }
}

/// The id in `field`, or `VALIDATION_ERROR` naming the field.
fn parse_id(field: &str, raw: &str) -> Result<Uuid, YtError> {
    Uuid::parse_str(raw.trim()).map_err(|_| {
        YtError::invalid_field(ErrorCode::VALIDATION_ERROR, field, "a UUID", raw.to_owned())
    })
}

fn project_id(raw: &str) -> Result<Uuid, YtError> {
    parse_id("project_id", raw)
}

fn optional_id(field: &str, raw: Option<&str>) -> Result<Option<Uuid>, YtError> {
    raw.map(|r| parse_id(field, r)).transpose()
}

/// The trace id of this call: the HTTP request's (from `X-Trace-Id` or made by the middleware),
/// else a new one (stdio).
fn trace_of(context: &RequestContext<RoleServer>) -> TraceId {
    context
        .extensions
        .get::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<crate::middleware::RequestTrace>())
        .map(|t| t.0.clone())
        .unwrap_or_else(TraceId::generate)
}

#[tool_router]
impl YtmakerMcp {
    #[tool(
        description = "Create a video project from an article's text, and start it (unless start is false). Returns the project's id and state."
    )]
    async fn create_project(
        &self,
        Parameters(args): Parameters<CreateProjectArgs>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let trace = trace_of(&context);
        let made: Result<ProjectState, YtError> = async {
            let body = CreateProject {
                name: args.name,
                content: args.content,
                configuration: args.configuration.map(Value::Object),
                config_template_id: optional_id(
                    "config_template_id",
                    args.config_template_id.as_deref(),
                )?,
                prompt_template_id: optional_id(
                    "prompt_template_id",
                    args.prompt_template_id.as_deref(),
                )?,
                llm_model: None,
                youtube: None,
                start: args.start.unwrap_or(true),
            };
            let project = crate::projects::create(&self.state, body, &trace)
                .await
                .map_err(|ApiError(e)| e)?;
            self.project_state(project.id).await
        }
        .await;
        self.reply(made, &trace)
    }

    #[tool(
        description = "Start, pause, resume, cancel or retry a project (retry continues a FAILED project once its cause is fixed). Returns the project's state."
    )]
    async fn project_action(
        &self,
        Parameters(args): Parameters<ActionArgs>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let trace = trace_of(&context);
        let action = match args.action {
            ActionName::Start => Action::Start,
            ActionName::Pause => Action::Pause,
            ActionName::Resume => Action::Resume,
            ActionName::Cancel => Action::Cancel,
            ActionName::Retry => Action::Retry,
        };
        let done: Result<ProjectState, YtError> = async {
            let id = project_id(&args.project_id)?;
            control::apply(
                &self.state.store,
                &self.state.wakeup,
                &self.state.start_check,
                id,
                action,
                &trace,
            )
            .await?;
            self.project_state(id).await
        }
        .await;
        self.reply(done, &trace)
    }

    #[tool(
        description = "A project's state: status, stage, percent, ETA, and its error (code, message, solutions, trace id) when it FAILED."
    )]
    async fn get_project(
        &self,
        Parameters(args): Parameters<ProjectArgs>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let trace = trace_of(&context);
        let read = async { self.project_state(project_id(&args.project_id)?).await }.await;
        self.reply(read, &trace)
    }

    #[tool(
        description = "Follow a project until it is settled (COMPLETED, FAILED, PAUSED, CANCELLED, or not queued) or the timeout passes, sending progress notifications. Returns its state."
    )]
    async fn wait_for_project(
        &self,
        Parameters(args): Parameters<WaitArgs>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let trace = trace_of(&context);
        let timeout = Duration::from_secs(u64::from(
            args.timeout_seconds
                .unwrap_or(DEFAULT_WAIT_SECONDS)
                .min(MAX_WAIT_SECONDS),
        ));
        let progress = context.meta.get_progress_token();
        let followed: Result<ProjectState, YtError> = async {
            let id = project_id(&args.project_id)?;
            let deadline = tokio::time::Instant::now() + timeout;
            let mut last_percent = -1.0;
            loop {
                let state = self.project_state(id).await?;
                if let Some(token) = &progress
                    && state.percent != last_percent
                {
                    last_percent = state.percent;
                    let message = match state.stage {
                        Some(stage) => format!("{} ({})", state.status.as_str(), stage.as_str()),
                        None => state.status.as_str().to_owned(),
                    };
                    if let Err(e) = context
                        .peer
                        .notify_progress(
                            ProgressNotificationParam::new(token.clone(), state.percent)
                                .with_total(100.0)
                                .with_message(message),
                        )
                        .await
                    {
                        // The client went away: nothing is left to follow for.
                        return Err(YtError::new(
                            ErrorCode::REQUEST_MALFORMED,
                            format!("the progress notification could not be sent: {e}"),
                        ));
                    }
                }
                if state.settled || tokio::time::Instant::now() >= deadline {
                    return Ok(state);
                }
                tokio::time::sleep(POLL_EVERY).await;
            }
        }
        .await;
        self.reply(followed, &trace)
    }

    #[tool(
        description = "The error of a FAILED project: its code, message, whether it is retryable, the solutions, the stage and the trace id to find it in the logs. Null when the project has no error."
    )]
    async fn get_project_error(
        &self,
        Parameters(args): Parameters<ProjectArgs>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let trace = trace_of(&context);
        let read = async {
            let project = self
                .state
                .store
                .get_project(project_id(&args.project_id)?)
                .await?;
            Ok::<_, YtError>(serde_json::json!({ "error_info": project.error_info }))
        }
        .await;
        self.reply(read, &trace)
    }

    #[tool(
        description = "The result files of a COMPLETED project: the video, thumbnail and subtitles, each with its download URL, local path and size, and where it was published."
    )]
    async fn get_project_result(
        &self,
        Parameters(args): Parameters<ProjectArgs>,
        context: RequestContext<RoleServer>,
    ) -> CallToolResult {
        let trace = trace_of(&context);
        let read = async { self.result_of(project_id(&args.project_id)?).await }.await;
        self.reply(read, &trace)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for YtmakerMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("ytmaker", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "ytmaker turns an article into a narrated, subtitled video. Call create_project \
                 with the text, then wait_for_project until it is settled. A FAILED project's \
                 error has a catalogued code, solutions and a trace id; fix the cause and call \
                 project_action with retry. get_project_result gives the files.",
            )
    }
}
