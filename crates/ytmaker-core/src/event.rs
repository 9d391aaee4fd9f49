//! Every event a project's log holds, as one enum (after Vector's typed internal events): the
//! store writes a [`ProjectEvent`] as its `kind` and `payload` columns and reads them back
//! through it, so a writer cannot invent a shape and a reader cannot mistype a field. The
//! serialised form, `{"kind": …, "payload": {…}}`, is what the REST API's event list shows.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::asset::AssetKind;
use crate::error::{ErrorCode, ErrorInfo, Stage, YtError};
use crate::status::ProjectStatus;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
pub enum ProjectEvent {
    /// The project moved from one status to another.
    Status {
        from: ProjectStatus,
        to: ProjectStatus,
    },
    /// A stage of a run started or finished.
    Stage { stage: Stage, state: StageState },
    /// Progress within a stage; `percent` is over the whole run (SPEC §2 bands).
    Progress {
        stage: Stage,
        done: f64,
        total: f64,
        unit: String,
        percent: f64,
    },
    /// A line for the progress page's log. `message` is the English line (logs, the CLI);
    /// `note`, when set, says the same as a kind and values, which the UI words in its language.
    Log {
        level: LogLevel,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<LogNote>,
    },
    /// A checkpointed asset was completed.
    Asset {
        kind: AssetKind,
        index: Option<u32>,
        status: AssetState,
        attempts: u32,
    },
    /// A retryable failure that will be tried again after `next_delay_ms`.
    Retry {
        #[cfg_attr(feature = "openapi", schema(value_type = String))]
        error_code: ErrorCode,
        message: String,
        attempt: u32,
        max_attempts: u32,
        next_delay_ms: u64,
        asset_kind: Option<AssetKind>,
        segment_index: Option<u32>,
    },
    /// The project failed: its `error_info`.
    Error(ErrorInfo),
    /// The user changed the project (what the edit was is in [`Edit`]).
    Edit(Edit),
    /// The run finished: where its outputs are.
    Complete {
        video: String,
        thumbnail: String,
        subtitles: String,
        location: String,
    },
    /// The retention policy removed intermediate files.
    Retention {
        policy: String,
        removed: Vec<String>,
        bytes_freed: u64,
        /// Absent in rows written before it was recorded.
        #[serde(default)]
        assets: usize,
        #[serde(default)]
        finished_at: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    Started,
    Finished,
}

impl StageState {
    pub fn as_str(self) -> &'static str {
        match self {
            StageState::Started => "started",
            StageState::Finished => "finished",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// The state an `asset` event reports (only completion is an event; the asset table holds the
/// rest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AssetState {
    Completed,
}

/// What a log line says, as a kind and its values (a message key and parameters), so that a UI
/// shows it in its own language rather than the server's English sentence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum LogNote {
    /// The run stopped on request while the project was `during`.
    Paused { during: ProjectStatus },
    /// The article was longer than the video's target: `kept_sentences` of `original_sentences`
    /// were kept (`kept_percent` of the text).
    Condensed {
        kept_sentences: usize,
        original_sentences: usize,
        kept_percent: f64,
    },
    /// A rewritten script has no segment `segment_index` (it has `segments`), so the user's
    /// description edit of that segment is not kept.
    DescriptionEditDropped { segment_index: u32, segments: usize },
    /// A length rule the script could not keep (`seconds` is the segment's or the total's
    /// estimate; `segment_index` is absent for the total).
    ScriptWarning {
        warning: crate::script::WarningKind,
        segment_index: Option<u32>,
        seconds: f64,
    },
}

/// A user's change to a project, as its `edit` event records it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "edit", rename_all = "snake_case")]
pub enum Edit {
    ImageDescription {
        segment_index: u32,
    },
    ImageUpload {
        segment_index: u32,
        width: u32,
        height: u32,
    },
    ImageRegenerate {
        segment_index: u32,
    },
    ContinueWithoutPresenter,
}

/// The `kind` column of each variant, for queries by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    Status,
    Stage,
    Progress,
    Log,
    Asset,
    Retry,
    Error,
    Edit,
    Complete,
    Retention,
}

impl EventKind {
    pub const ALL: [EventKind; 10] = [
        EventKind::Status,
        EventKind::Stage,
        EventKind::Progress,
        EventKind::Log,
        EventKind::Asset,
        EventKind::Retry,
        EventKind::Error,
        EventKind::Edit,
        EventKind::Complete,
        EventKind::Retention,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Status => "status",
            EventKind::Stage => "stage",
            EventKind::Progress => "progress",
            EventKind::Log => "log",
            EventKind::Asset => "asset",
            EventKind::Retry => "retry",
            EventKind::Error => "error",
            EventKind::Edit => "edit",
            EventKind::Complete => "complete",
            EventKind::Retention => "retention",
        }
    }
}

impl ProjectEvent {
    pub fn kind(&self) -> EventKind {
        match self {
            ProjectEvent::Status { .. } => EventKind::Status,
            ProjectEvent::Stage { .. } => EventKind::Stage,
            ProjectEvent::Progress { .. } => EventKind::Progress,
            ProjectEvent::Log { .. } => EventKind::Log,
            ProjectEvent::Asset { .. } => EventKind::Asset,
            ProjectEvent::Retry { .. } => EventKind::Retry,
            ProjectEvent::Error(_) => EventKind::Error,
            ProjectEvent::Edit(_) => EventKind::Edit,
            ProjectEvent::Complete { .. } => EventKind::Complete,
            ProjectEvent::Retention { .. } => EventKind::Retention,
        }
    }

    /// The `payload` column: the event's fields without its kind.
    pub fn payload(&self) -> Result<Value, YtError> {
        let mut whole = serde_json::to_value(self).map_err(|e| {
            YtError::new(
                ErrorCode::SERVER_PANICKED,
                format!("a {} event cannot be encoded: {e}", self.kind().as_str()),
            )
        })?;
        Ok(whole
            .get_mut("payload")
            .map(Value::take)
            .unwrap_or(Value::Null))
    }

    /// The event a stored `kind` and `payload` hold; a row that is not one is corrupt
    /// (`DATABASE_ERROR`, naming the kind and the reason).
    pub fn from_stored(kind: &str, payload: &Value) -> Result<ProjectEvent, YtError> {
        let whole = if payload.is_null() {
            serde_json::json!({ "kind": kind })
        } else {
            serde_json::json!({ "kind": kind, "payload": payload })
        };
        serde_json::from_value(whole).map_err(|e| {
            YtError::new(
                ErrorCode::DATABASE_ERROR,
                format!("a stored {kind} event is not one this version can read: {e}"),
            )
            .detail("kind", kind)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::TraceId;
    use serde_json::json;

    fn one_of_each() -> Vec<ProjectEvent> {
        vec![
            ProjectEvent::Status {
                from: ProjectStatus::Initialized,
                to: ProjectStatus::ScriptGenerating,
            },
            ProjectEvent::Stage {
                stage: Stage::Assets,
                state: StageState::Started,
            },
            ProjectEvent::Progress {
                stage: Stage::Render,
                done: 3.0,
                total: 9.5,
                unit: "s".into(),
                percent: 61.0,
            },
            ProjectEvent::Log {
                level: LogLevel::Warn,
                message: "paused during RENDERING".into(),
                note: Some(LogNote::Paused {
                    during: ProjectStatus::Rendering,
                }),
            },
            ProjectEvent::Log {
                level: LogLevel::Info,
                message: "a line with no note".into(),
                note: None,
            },
            ProjectEvent::Asset {
                kind: AssetKind::Audio,
                index: Some(3),
                status: AssetState::Completed,
                attempts: 1,
            },
            ProjectEvent::Retry {
                error_code: ErrorCode::STABILITY_RATE_LIMIT,
                message: "429".into(),
                attempt: 1,
                max_attempts: 5,
                next_delay_ms: 2000,
                asset_kind: Some(AssetKind::Image),
                segment_index: Some(2),
            },
            ProjectEvent::Error(ErrorInfo {
                stage: Stage::Upload,
                error_code: ErrorCode::YOUTUBE_QUOTA_EXCEEDED,
                error_message: "quota".into(),
                is_retryable: false,
                details: serde_json::Map::new(),
                solutions: vec!["wait".into()],
                timestamp: "2026-12-06T00:00:00.000Z".into(),
                trace_id: TraceId::generate(),
                attempts: 1,
            }),
            ProjectEvent::Edit(Edit::ImageUpload {
                segment_index: 1,
                width: 1280,
                height: 720,
            }),
            ProjectEvent::Edit(Edit::ContinueWithoutPresenter),
            ProjectEvent::Complete {
                video: "/d/final_video.mp4".into(),
                thumbnail: "/d/thumbnail.jpg".into(),
                subtitles: "/d/subtitles.srt".into(),
                location: "local".into(),
            },
            ProjectEvent::Retention {
                policy: "7d".into(),
                removed: vec!["audio".into()],
                bytes_freed: 1234,
                assets: 2,
                finished_at: "2026-12-01T00:00:00.000Z".into(),
            },
        ]
    }

    #[test]
    fn every_event_is_stored_and_read_back_as_itself_under_its_kind() {
        let events = one_of_each();
        for kind in EventKind::ALL {
            assert!(
                events.iter().any(|e| e.kind() == kind),
                "no sample of {kind:?}"
            );
        }
        for event in events {
            let whole = serde_json::to_value(&event).expect("encode");
            assert_eq!(whole["kind"], event.kind().as_str());
            let payload = event.payload().expect("payload");
            let back = ProjectEvent::from_stored(event.kind().as_str(), &payload).expect("decode");
            assert_eq!(back, event);
        }
    }

    #[test]
    fn the_stored_shapes_are_the_ones_earlier_versions_wrote() {
        // Rows written before the enum existed must still read.
        let status = ProjectEvent::from_stored(
            "status",
            &json!({ "from": "INITIALIZED", "to": "SCRIPT_GENERATING" }),
        )
        .expect("status");
        assert_eq!(status.kind(), EventKind::Status);
        let edit = ProjectEvent::from_stored(
            "edit",
            &json!({ "edit": "image_description", "segment_index": 4 }),
        )
        .expect("edit");
        assert_eq!(
            edit,
            ProjectEvent::Edit(Edit::ImageDescription { segment_index: 4 })
        );
        let asset = ProjectEvent::from_stored(
            "asset",
            &json!({ "kind": "script", "index": null, "status": "COMPLETED", "attempts": 1 }),
        )
        .expect("asset");
        assert_eq!(asset.kind(), EventKind::Asset);
    }

    #[test]
    fn a_row_that_is_no_event_is_a_database_error_naming_its_kind() {
        let err = ProjectEvent::from_stored("progress", &json!({ "percent": "ten" }))
            .expect_err("not a progress event");
        assert_eq!(err.code, ErrorCode::DATABASE_ERROR);
        assert_eq!(err.details["kind"], "progress");
        let err = ProjectEvent::from_stored("telepathy", &json!({})).expect_err("no such kind");
        assert_eq!(err.details["kind"], "telepathy");
    }
}
