use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetKind, AssetStatus};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::event::ProjectEvent;
use ytmaker_core::script::Script;
use ytmaker_core::{ErrorCode, ErrorInfo, ProjectStatus, TraceId, YtError, YtResult};

use crate::db_err;

fn corrupt(column: &str, value: &str) -> YtError {
    YtError::new(
        ErrorCode::DATABASE_ERROR,
        format!("stored {column} is not valid: {value:.80}"),
    )
    .detail("column", column)
}

fn get<T>(row: &AnyRow, column: &str) -> YtResult<T>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column)
        .map_err(|e| db_err(&format!("read column {column}"), e))
}

fn json_column<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> YtResult<Option<T>> {
    let raw: Option<String> = get(row, column)?;
    raw.map(|s| serde_json::from_str(&s).map_err(|_| corrupt(column, &s)))
        .transpose()
}

fn uuid_column(row: &AnyRow, column: &str) -> YtResult<Uuid> {
    let raw: String = get(row, column)?;
    Uuid::parse_str(&raw).map_err(|_| corrupt(column, &raw))
}

fn status_column(row: &AnyRow) -> YtResult<ProjectStatus> {
    let raw: String = get(row, "status")?;
    ProjectStatus::parse(&raw).ok_or_else(|| corrupt("status", &raw))
}

pub struct NewProject {
    pub name: String,
    pub content: String,
    pub configuration: ProjectConfig,
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: Uuid,
    pub name: String,
    pub content: String,
    pub status: ProjectStatus,
    pub configuration: ProjectConfig,
    pub script: Option<Script>,
    pub error_info: Option<ErrorInfo>,
    /// Trace id of the latest run.
    pub trace_id: Option<TraceId>,
    pub youtube_video_id: Option<String>,
    pub config_template_id: Option<Uuid>,
    pub prompt_template_id: Option<Uuid>,
    /// The prompt text used for this project's script (a copy, so editing a template later does
    /// not change a project that was made with it).
    pub prompt_content: Option<String>,
    pub llm_model: Option<String>,
    /// Title, description, tags, privacy, `publish_at` for the upload (validated by the API).
    pub youtube_settings: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

fn optional_uuid(row: &AnyRow, column: &str) -> YtResult<Option<Uuid>> {
    let raw: Option<String> = get(row, column)?;
    raw.map(|r| Uuid::parse_str(&r).map_err(|_| corrupt(column, &r)))
        .transpose()
}

impl Project {
    pub(crate) fn from_row(row: &AnyRow) -> YtResult<Project> {
        let config_raw: String = get(row, "configuration")?;
        Ok(Project {
            id: uuid_column(row, "id")?,
            name: get(row, "name")?,
            content: get(row, "content")?,
            status: status_column(row)?,
            configuration: serde_json::from_str(&config_raw)
                .map_err(|_| corrupt("configuration", &config_raw))?,
            script: json_column(row, "script")?,
            error_info: json_column(row, "error_info")?,
            trace_id: get::<Option<String>>(row, "trace_id")?.and_then(|t| TraceId::parse(&t)),
            youtube_video_id: get(row, "youtube_video_id")?,
            config_template_id: optional_uuid(row, "config_template_id")?,
            prompt_template_id: optional_uuid(row, "prompt_template_id")?,
            prompt_content: get(row, "prompt_content")?,
            llm_model: get(row, "llm_model")?,
            youtube_settings: json_column(row, "youtube_settings")?,
            created_at: get(row, "created_at")?,
            updated_at: get(row, "updated_at")?,
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ProjectSummary {
    pub id: Uuid,
    pub name: String,
    pub status: ProjectStatus,
    pub error_code: Option<ErrorCode>,
    pub created_at: String,
    pub updated_at: String,
}

impl ProjectSummary {
    pub(crate) fn from_row(row: &AnyRow) -> YtResult<ProjectSummary> {
        let info: Option<ErrorInfo> = json_column(row, "error_info")?;
        Ok(ProjectSummary {
            id: uuid_column(row, "id")?,
            name: get(row, "name")?,
            status: status_column(row)?,
            error_code: info.map(|i| i.error_code),
            created_at: get(row, "created_at")?,
            updated_at: get(row, "updated_at")?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct ProjectFilter {
    pub status: Option<ProjectStatus>,
    pub limit: u32,
    pub offset: u32,
    pub sort: ProjectSort,
    pub descending: bool,
}

impl Default for ProjectFilter {
    fn default() -> Self {
        ProjectFilter {
            status: None,
            limit: 50,
            offset: 0,
            sort: ProjectSort::CreatedAt,
            descending: true,
        }
    }
}

/// Columns a project list may be sorted by (a closed set, so no caller text reaches the SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectSort {
    CreatedAt,
    UpdatedAt,
    Name,
    Status,
}

impl ProjectSort {
    pub(crate) fn column(self) -> &'static str {
        match self {
            ProjectSort::CreatedAt => "created_at",
            ProjectSort::UpdatedAt => "updated_at",
            ProjectSort::Name => "name",
            ProjectSort::Status => "status",
        }
    }
}

/// Per-project choices besides the visual configuration; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct ProjectSettings {
    pub name: Option<String>,
    pub configuration: Option<ProjectConfig>,
    pub config_template_id: Option<Uuid>,
    pub prompt_template_id: Option<Uuid>,
    pub prompt_content: Option<String>,
    pub llm_model: Option<String>,
    pub youtube_settings: Option<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Asset {
    pub id: Uuid,
    pub project_id: Uuid,
    pub key: AssetKey,
    pub status: AssetStatus,
    pub path: Option<String>,
    pub content_hash: Option<String>,
    pub provider: Option<String>,
    pub attempts: u32,
    pub error: Option<ErrorInfo>,
    /// Facts measured when the asset was made (e.g. `duration_s` of a narration line).
    pub metadata: Value,
    /// When the retention clean-up deleted this asset's file; `None` while it is kept. A removed
    /// asset keeps its row (what was made, its hash) but has no file to serve.
    pub removed_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl Asset {
    pub(crate) fn from_row(row: &AnyRow) -> YtResult<Asset> {
        let kind_raw: String = get(row, "kind")?;
        let kind = AssetKind::parse(&kind_raw).ok_or_else(|| corrupt("kind", &kind_raw))?;
        let index: i64 = get(row, "segment_index")?;
        let status_raw: String = get(row, "status")?;
        let attempts: i64 = get(row, "attempts")?;
        Ok(Asset {
            id: uuid_column(row, "id")?,
            project_id: uuid_column(row, "project_id")?,
            key: AssetKey {
                kind,
                index: u32::try_from(index).ok(),
            },
            status: AssetStatus::parse(&status_raw)
                .ok_or_else(|| corrupt("status", &status_raw))?,
            path: get(row, "path")?,
            content_hash: get(row, "content_hash")?,
            provider: get(row, "provider")?,
            attempts: u32::try_from(attempts)
                .map_err(|_| corrupt("attempts", &attempts.to_string()))?,
            error: json_column(row, "error")?,
            metadata: json_column(row, "metadata")?.unwrap_or(Value::Null),
            removed_at: get(row, "removed_at")?,
            created_at: get(row, "created_at")?,
            updated_at: get(row, "updated_at")?,
        })
    }

    pub fn is_completed(&self) -> bool {
        self.status == AssetStatus::Completed
    }

    /// The content hash every completed asset has; its absence means a corrupt row, which must
    /// not quietly turn into an empty fingerprint.
    pub fn hash(&self) -> YtResult<&str> {
        self.content_hash.as_deref().ok_or_else(|| {
            YtError::new(
                ErrorCode::DATABASE_ERROR,
                "a completed asset has no content hash",
            )
            .detail("asset_kind", self.key.kind.as_str())
            .detail("segment_index", self.key.index)
        })
    }
}

/// A stored event: the row as written (`kind`, `payload`) and the [`ProjectEvent`] it holds,
/// which every reader in the product matches on. It is sent (the REST API's event list) as the
/// event itself, `kind` and `payload` encoded from the enum, so what a client reads has the
/// enum's documented shape.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Event {
    pub seq: i64,
    pub project_id: Uuid,
    #[serde(skip)]
    pub kind: String,
    #[serde(skip)]
    pub payload: Value,
    #[serde(flatten)]
    pub event: ProjectEvent,
    pub trace_id: Option<String>,
    pub created_at: String,
}

impl Event {
    pub(crate) fn from_row(row: &AnyRow) -> YtResult<Event> {
        let payload_raw: String = get(row, "payload")?;
        let kind: String = get(row, "kind")?;
        let payload: Value =
            serde_json::from_str(&payload_raw).map_err(|_| corrupt("payload", &payload_raw))?;
        let seq: i64 = get(row, "seq")?;
        let project_id = uuid_column(row, "project_id")?;
        let event = ProjectEvent::from_stored(&kind, &payload).map_err(|e| {
            e.detail("seq", seq)
                .detail("project_id", project_id.to_string())
        })?;
        Ok(Event {
            seq,
            project_id,
            kind,
            payload,
            event,
            trace_id: get(row, "trace_id")?,
            created_at: get(row, "created_at")?,
        })
    }
}
