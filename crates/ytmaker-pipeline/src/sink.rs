//! A [`ProgressSink`] that stores sub-progress and log messages as project events, so the
//! WebSocket can replay them and other processes (the API server beside separate workers) see
//! them. Stage, status, asset, error and completion events are written by the stages themselves.

use tokio::sync::mpsc;
use uuid::Uuid;
use ytmaker_core::TraceId;
use ytmaker_core::event::ProjectEvent;
use ytmaker_store::Store;

use crate::progress::{Progress, ProgressSink};

/// Sub-progress is stored when it moved by at least this many points of the 0–100 bar (or its
/// stage finished), which bounds a run to a few hundred progress rows.
const MIN_PERCENT_STEP: f64 = 0.5;

pub struct EventSink {
    tx: mpsc::UnboundedSender<(Uuid, Progress)>,
}

impl EventSink {
    /// Starts the writer task; it ends after the last sender is dropped and its queue is written.
    pub fn start(store: Store, trace: TraceId) -> EventSink {
        let (tx, mut rx) = mpsc::unbounded_channel::<(Uuid, Progress)>();
        tokio::spawn(async move {
            let mut last_percent: Option<f64> = None;
            while let Some((project, progress)) = rx.recv().await {
                let event = match progress {
                    Progress::Step {
                        stage,
                        done,
                        total,
                        unit,
                        percent,
                    } => {
                        let finished = total > 0.0 && done >= total;
                        if !finished && last_percent.is_some_and(|l| percent - l < MIN_PERCENT_STEP)
                        {
                            continue;
                        }
                        last_percent = Some(percent);
                        ProjectEvent::Progress {
                            stage,
                            done,
                            total,
                            unit: unit.into(),
                            percent,
                        }
                    }
                    Progress::Log {
                        level,
                        message,
                        note,
                    } => ProjectEvent::Log {
                        level,
                        message,
                        note,
                    },
                    _ => continue,
                };
                if let Err(err) = store.append_event(project, &event, &trace).await {
                    // Progress is advisory; the run itself and its status are unaffected, but the
                    // loss is reported, not hidden.
                    tracing::error!(project_id = %project, error_code = %err.code, "could not store a progress event: {}", err.message);
                }
            }
        });
        EventSink { tx }
    }
}

impl ProgressSink for EventSink {
    fn emit(&self, project: Uuid, progress: &Progress) {
        if self.tx.send((project, progress.clone())).is_err() {
            tracing::error!(project_id = %project, "progress writer stopped; an event was not stored");
        }
    }
}
