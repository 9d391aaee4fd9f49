//! WebSocket `/api/v1/projects/{id}/progress` (SPEC §5).
//!
//! On connect the client gets a `snapshot` — the project state folded from its whole event log up
//! to sequence number S — then, if it says which events it has seen (`?after_seq=N`), the
//! messages for events N+1..S again (marked `replay`), then every new event as it is stored.
//! Events are read from the database, not from memory, so workers in other processes are seen
//! too and a reconnecting client misses nothing.

use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;
use ytmaker_core::asset::AssetKind;
use ytmaker_core::event::{LogLevel, ProjectEvent, StageState};
use ytmaker_core::{ErrorCode, ProjectStatus, Stage, YtError};
use ytmaker_pipeline::{ProjectView, RunResult, SubProgress};
use ytmaker_store::Event;

use crate::AppState;
use crate::error::{ApiPath, ApiQuery, ApiResult};

/// How often new events are looked for (SPEC §10: progress reaches the browser within 250 ms).
const POLL: Duration = Duration::from_millis(100);
/// SPEC §5: heartbeat every 30 s.
const HEARTBEAT: Duration = Duration::from_secs(30);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProgressQuery {
    after_seq: Option<i64>,
    // The access token a browser sends here as `?access_token=` is checked and removed from the
    // query by `middleware::require_token` before this is parsed.
}

pub(crate) async fn progress(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ProgressQuery>,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    // Refuse an unknown project before upgrading, so the client gets the JSON error.
    state.store.get_project(id).await?;
    Ok(upgrade.on_upgrade(move |socket| async move {
        match stream(state, id, q.after_seq, socket).await {
            Ok(()) => {}
            // The client went away: nothing failed on our side.
            Err(StreamEnd::Client(reason)) => {
                tracing::info!(project_id = %id, "progress socket closed: {reason}")
            }
            // The server could not read or send the project's events: the client lost its
            // progress, so this is an error with its code.
            Err(StreamEnd::Server(err)) => tracing::error!(
                project_id = %id,
                error_code = %err.code,
                "progress socket ended by a server error: {}",
                err.message
            ),
        }
    }))
}

/// Why a progress stream ended before the client closed it.
enum StreamEnd {
    /// The connection failed or the client went away.
    Client(String),
    /// The events could not be read.
    Server(ytmaker_core::YtError),
}

async fn stream(
    state: AppState,
    id: Uuid,
    after_seq: Option<i64>,
    socket: WebSocket,
) -> Result<(), StreamEnd> {
    let (mut tx, mut rx) = socket.split();
    let events = state
        .store
        .events_since(id, 0)
        .await
        .map_err(StreamEnd::Server)?;
    let mut view = ProjectView::fold(&events);
    let project = state
        .store
        .get_project(id)
        .await
        .map_err(StreamEnd::Server)?;
    let snapshot = ProgressMessage::Snapshot(Snapshot {
        seq: view.seq,
        project: SnapshotProject {
            id,
            name: project.name,
            trace_id: project.trace_id.map(|t| t.to_string()),
        },
        state: view.clone(),
    });
    send(&mut tx, &snapshot).await?;
    if let Some(after) = after_seq {
        let mut replay_view = ProjectView::fold(events.iter().filter(|e| e.seq <= after));
        for e in events.iter().filter(|e| e.seq > after) {
            replay_view.apply(e);
            send(&mut tx, &message(e, &replay_view, true)).await?;
        }
    }
    let mut last = view.seq;
    let mut poll = tokio::time::interval(POLL);
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    loop {
        tokio::select! {
            _ = poll.tick() => {
                let new = state.store.events_since(id, last).await.map_err(StreamEnd::Server)?;
                for e in &new {
                    view.apply(e);
                    last = e.seq;
                    send(&mut tx, &message(e, &view, false)).await?;
                }
            }
            _ = heartbeat.tick() => {
                tx.send(Message::Ping(Default::default())).await.map_err(|e| StreamEnd::Client(e.to_string()))?;
            }
            incoming = rx.next() => match incoming {
                None | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Err(e)) => return Err(StreamEnd::Client(e.to_string())),
                Some(Ok(_)) => {}
            }
        }
    }
}

async fn send(
    tx: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    msg: &ProgressMessage,
) -> Result<(), StreamEnd> {
    let text = serde_json::to_string(msg).map_err(|e| {
        StreamEnd::Server(YtError::new(
            ErrorCode::SERVER_PANICKED,
            format!("a progress message cannot be encoded: {e}"),
        ))
    })?;
    tx.send(Message::Text(Utf8Bytes::from(text)))
        .await
        .map_err(|e| StreamEnd::Client(e.to_string()))
}

/// One message of the progress WebSocket (SPEC §5): a text frame holding this as JSON, told
/// apart by `type`. Every message but the snapshot is made from one stored event and carries its
/// `seq`, its time and its trace id; `replay` marks the events sent again to a client that
/// reconnected with `?after_seq=`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProgressMessage {
    /// Sent first on every connection: the state folded from the whole event log.
    Snapshot(Snapshot),
    /// The status changed or the current step moved.
    Progress(ProgressUpdate),
    /// A stage started or finished.
    Stage(StageChange),
    /// A line for the progress page's log.
    Log(LogEntry),
    /// A retryable failure that will be tried again.
    Retry(RetryNotice),
    /// The project failed: its `error_info`.
    Error(FailureNotice),
    /// The run finished.
    Complete(Completion),
}

/// What every message made from a stored event carries.
#[derive(Debug, Serialize, ToSchema)]
pub struct Envelope {
    /// The event's sequence number; a reconnecting client sends the last one as `after_seq`.
    pub seq: i64,
    /// Present (true) on an event sent again after a reconnection.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    #[schema(required = false)]
    pub replay: bool,
    pub timestamp: String,
    pub trace_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Snapshot {
    pub seq: i64,
    pub project: SnapshotProject,
    pub state: ProjectView,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SnapshotProject {
    pub id: Uuid,
    pub name: String,
    pub trace_id: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressUpdate {
    pub status: ProjectStatus,
    pub stage: Option<Stage>,
    /// 0–100 over the whole run.
    pub percent: f64,
    pub sub_progress: Option<SubProgress>,
    pub eta_seconds: Option<f64>,
    #[serde(flatten)]
    pub envelope: Envelope,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageChange {
    pub stage: Stage,
    pub state: StageState,
    #[serde(flatten)]
    pub envelope: Envelope,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LogEntry {
    pub level: LogLevel,
    /// The line in English; a client that wants another language builds it from `event`.
    pub message: String,
    /// The stored event the line reports, when a client can word it itself: an asset
    /// completed, the retention policy, an edit, or a `log` event with a `note`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub event: Option<ProjectEvent>,
    #[serde(flatten)]
    pub envelope: Envelope,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RetryNotice {
    /// A code of the catalogue (GET /api/v1/system/errors).
    pub error_code: String,
    pub message: String,
    pub attempt: u32,
    pub max_attempts: u32,
    pub next_delay_ms: u64,
    pub asset_kind: Option<AssetKind>,
    pub segment_index: Option<u32>,
    #[serde(flatten)]
    pub envelope: Envelope,
}

/// A project's `error_info` under the names SPEC §5 gives them (`code`, `message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct FailureNotice {
    /// A code of the catalogue (GET /api/v1/system/errors).
    pub code: String,
    pub message: String,
    pub stage: Stage,
    pub is_retryable: bool,
    #[schema(value_type = Object)]
    pub details: serde_json::Map<String, Value>,
    pub solutions: Vec<String>,
    pub attempts: u32,
    #[serde(flatten)]
    pub envelope: Envelope,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Completion {
    pub result: RunResult,
    #[serde(flatten)]
    pub envelope: Envelope,
}

fn envelope_of(e: &Event, replay: bool) -> Envelope {
    Envelope {
        seq: e.seq,
        replay,
        timestamp: e.created_at.clone(),
        trace_id: e.trace_id.clone(),
    }
}

/// The message for one stored event, given the view with that event applied.
pub(crate) fn message(e: &Event, view: &ProjectView, replay: bool) -> ProgressMessage {
    let envelope = envelope_of(e, replay);
    let log = |message: String, event: Option<&ProjectEvent>| {
        ProgressMessage::Log(LogEntry {
            level: LogLevel::Info,
            message,
            event: event.cloned(),
            envelope: envelope_of(e, replay),
        })
    };
    match &e.event {
        ProjectEvent::Status { .. } | ProjectEvent::Progress { .. } => {
            ProgressMessage::Progress(ProgressUpdate {
                status: view.status,
                stage: view.stage,
                percent: view.percent,
                sub_progress: view.sub_progress.clone(),
                eta_seconds: view.eta_seconds,
                envelope,
            })
        }
        ProjectEvent::Stage { stage, state } => ProgressMessage::Stage(StageChange {
            stage: *stage,
            state: *state,
            envelope,
        }),
        ProjectEvent::Log {
            level,
            message,
            note,
        } => ProgressMessage::Log(LogEntry {
            level: *level,
            message: message.clone(),
            // A line with a note is worded by the UI from the event itself.
            event: note.as_ref().map(|_| e.event.clone()),
            envelope,
        }),
        ProjectEvent::Asset { kind, index, .. } => log(asset_line(*kind, *index), Some(&e.event)),
        ProjectEvent::Retry {
            error_code,
            message,
            attempt,
            max_attempts,
            next_delay_ms,
            asset_kind,
            segment_index,
        } => ProgressMessage::Retry(RetryNotice {
            error_code: error_code.as_str().into(),
            message: message.clone(),
            attempt: *attempt,
            max_attempts: *max_attempts,
            next_delay_ms: *next_delay_ms,
            asset_kind: *asset_kind,
            segment_index: *segment_index,
            envelope,
        }),
        // The failure's own time and trace id, which the event row repeats.
        ProjectEvent::Error(info) => ProgressMessage::Error(FailureNotice {
            code: info.error_code.as_str().into(),
            message: info.error_message.clone(),
            stage: info.stage,
            is_retryable: info.is_retryable,
            details: info.details.clone(),
            solutions: info.solutions.clone(),
            attempts: info.attempts,
            envelope: Envelope {
                timestamp: info.timestamp.clone(),
                trace_id: Some(info.trace_id.to_string()),
                ..envelope
            },
        }),
        ProjectEvent::Complete { location, .. } => ProgressMessage::Complete(Completion {
            result: view
                .result
                .clone()
                .unwrap_or_else(|| RunResult::new(e.project_id, location)),
            envelope,
        }),
        // The timestamp says when; the line says what the retention policy removed.
        ProjectEvent::Retention {
            policy,
            removed,
            bytes_freed,
            ..
        } => log(
            format!(
                "intermediate files removed by the retention policy ({policy}): {} — {bytes_freed} bytes freed",
                removed
                    .iter()
                    .map(|d| format!("{d}/"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Some(&e.event),
        ),
        ProjectEvent::Edit(_) => log("edit event".into(), Some(&e.event)),
    }
}

/// "audio 3 completed" for a segment's asset, "script completed" for a project-wide one.
fn asset_line(kind: AssetKind, index: Option<u32>) -> String {
    match index {
        Some(index) => format!("{} {index} completed", kind.as_str()),
        None => format!("{} completed", kind.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_lines_name_the_segment_only_when_there_is_one() {
        assert_eq!(asset_line(AssetKind::Audio, Some(3)), "audio 3 completed");
        assert_eq!(asset_line(AssetKind::Script, None), "script completed");
    }

    #[test]
    fn a_retention_event_is_a_log_line_saying_what_was_removed() {
        let retention = ProjectEvent::Retention {
            policy: "7d".into(),
            removed: vec!["audio".into(), "images".into()],
            bytes_freed: 1234,
            assets: 2,
            finished_at: "2026-01-01T00:00:00.000Z".into(),
        };
        let event = Event {
            seq: 9,
            project_id: uuid::Uuid::new_v4(),
            kind: retention.kind().as_str().into(),
            payload: retention.payload().expect("payload"),
            event: retention,
            trace_id: None,
            created_at: "2026-01-08T00:00:00.000Z".into(),
        };
        let msg = serde_json::to_value(message(
            &event,
            &ProjectView::fold(std::slice::from_ref(&event)),
            false,
        ))
        .expect("encode");
        assert_eq!(msg["type"], "log");
        assert_eq!(
            msg["message"],
            "intermediate files removed by the retention policy (7d): audio/ images/ — 1234 bytes freed"
        );
        assert_eq!(msg["timestamp"], "2026-01-08T00:00:00.000Z");
        assert_eq!(msg["event"]["kind"], "retention");
        assert_eq!(msg["event"]["payload"]["bytes_freed"], 1234);
        assert!(
            msg.get("replay").is_none(),
            "a live message has no replay mark"
        );
    }

    #[test]
    fn a_failure_is_sent_with_its_own_time_and_trace_id_and_a_replay_is_marked() {
        let info = YtError::new(ErrorCode::STABILITY_RATE_LIMIT, "429").to_info(
            &ytmaker_core::TraceId::generate(),
            2,
            ytmaker_core::error::Lang::En,
        );
        let failure = ProjectEvent::Error(info.clone());
        let event = Event {
            seq: 4,
            project_id: uuid::Uuid::new_v4(),
            kind: failure.kind().as_str().into(),
            payload: failure.payload().expect("payload"),
            event: failure,
            trace_id: None,
            created_at: "2026-01-08T00:00:00.000Z".into(),
        };
        let view = ProjectView::fold(std::slice::from_ref(&event));
        let msg = serde_json::to_value(message(&event, &view, true)).expect("encode");
        assert_eq!(msg["type"], "error");
        assert_eq!(msg["code"], "STABILITY_RATE_LIMIT");
        assert_eq!(msg["trace_id"], info.trace_id.as_str());
        assert_eq!(msg["timestamp"], info.timestamp.as_str());
        assert_eq!(msg["attempts"], 2);
        assert_eq!(msg["replay"], true);
        assert_eq!(msg["seq"], 4);
        // The view the snapshot sends holds the same failure.
        assert_eq!(
            view.error.as_ref().map(|e| e.error_code),
            Some(ErrorCode::STABILITY_RATE_LIMIT)
        );
    }
}
