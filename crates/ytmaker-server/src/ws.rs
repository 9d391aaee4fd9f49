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
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;
use ytmaker_core::asset::AssetKind;
use ytmaker_core::event::{LogLevel, ProjectEvent};
use ytmaker_pipeline::ProjectView;
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
    let snapshot = json!({
        "type": "snapshot",
        "seq": view.seq,
        "project": { "id": id, "name": project.name, "trace_id": project.trace_id },
        "state": view,
    });
    send(&mut tx, &snapshot).await?;
    if let Some(after) = after_seq {
        let mut replay_view = ProjectView::fold(events.iter().filter(|e| e.seq <= after));
        for e in events.iter().filter(|e| e.seq > after) {
            replay_view.apply(e);
            let mut msg = message(e, &replay_view);
            msg["replay"] = Value::Bool(true);
            send(&mut tx, &msg).await?;
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
                    send(&mut tx, &message(e, &view)).await?;
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
    msg: &Value,
) -> Result<(), StreamEnd> {
    tx.send(Message::Text(Utf8Bytes::from(msg.to_string())))
        .await
        .map_err(|e| StreamEnd::Client(e.to_string()))
}

/// The message for one stored event, given the view with that event applied.
pub(crate) fn message(e: &Event, view: &ProjectView) -> Value {
    let p = &e.payload;
    let mut msg = match &e.event {
        ProjectEvent::Status { .. } | ProjectEvent::Progress { .. } => json!({
            "type": "progress",
            "status": view.status,
            "stage": view.stage,
            "percent": view.percent,
            "sub_progress": view.sub_progress,
            "eta_seconds": view.eta_seconds,
        }),
        ProjectEvent::Stage { stage, state } => {
            json!({ "type": "stage", "stage": stage, "state": state })
        }
        ProjectEvent::Log { level, message } => {
            json!({ "type": "log", "level": level, "message": message })
        }
        ProjectEvent::Asset {
            kind,
            index,
            status: _,
            attempts: _,
        } => json!({
            "type": "log",
            "level": LogLevel::Info,
            "message": asset_line(*kind, *index),
            "asset": p,
        }),
        ProjectEvent::Retry { .. } => {
            let mut m = p.clone();
            m["type"] = json!("retry");
            m
        }
        ProjectEvent::Error(info) => json!({
            "type": "error",
            "code": info.error_code,
            "message": info.error_message,
            "stage": info.stage,
            "is_retryable": info.is_retryable,
            "details": info.details,
            "solutions": info.solutions,
            "trace_id": info.trace_id,
            "timestamp": info.timestamp,
            "attempts": info.attempts,
        }),
        ProjectEvent::Complete { location, .. } => {
            let [video_url, thumbnail_url, subtitles_url] =
                crate::projects::file_urls(e.project_id);
            json!({
                "type": "complete",
                "result": {
                    "video_url": video_url,
                    "thumbnail_url": thumbnail_url,
                    "subtitles_url": subtitles_url,
                    "location": location,
                },
            })
        }
        // The timestamp says when; the line says what the retention policy removed.
        ProjectEvent::Retention {
            policy,
            removed,
            bytes_freed,
            ..
        } => json!({
            "type": "log",
            "level": LogLevel::Info,
            "message": format!(
                "intermediate files removed by the retention policy ({policy}): {} — {bytes_freed} bytes freed",
                removed
                    .iter()
                    .map(|d| format!("{d}/"))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            "retention": p,
        }),
        ProjectEvent::Edit(_) => {
            json!({ "type": "log", "level": LogLevel::Info, "message": "edit event", "payload": p })
        }
    };
    msg["seq"] = json!(e.seq);
    msg["timestamp"] = msg
        .get("timestamp")
        .cloned()
        .unwrap_or_else(|| json!(e.created_at));
    msg["trace_id"] = msg
        .get("trace_id")
        .cloned()
        .unwrap_or_else(|| json!(e.trace_id));
    msg
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
        let msg = message(&event, &ProjectView::fold(std::slice::from_ref(&event)));
        assert_eq!(msg["type"], "log");
        assert_eq!(
            msg["message"],
            "intermediate files removed by the retention policy (7d): audio/ images/ — 1234 bytes freed"
        );
        assert_eq!(msg["timestamp"], "2026-01-08T00:00:00.000Z");
    }
}
