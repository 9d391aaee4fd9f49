//! The state of a project as a UI shows it, folded from the project's event log. The WebSocket
//! snapshot is this fold up to a sequence number, and every later event is applied by clients the
//! same way, so a page opened mid-run ends in the same state as one that watched from the start.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use ytmaker_core::{ProjectStatus, Stage};
use ytmaker_store::Event;

use crate::progress::stage_band;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SubProgress {
    pub done: f64,
    pub total: f64,
    pub unit: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProjectView {
    pub status: ProjectStatus,
    pub stage: Option<Stage>,
    /// 0–100 over the whole run (SPEC §2 bands).
    pub percent: f64,
    pub sub_progress: Option<SubProgress>,
    /// Remaining time extrapolated from this run's measured pace; absent until it can be.
    pub eta_seconds: Option<f64>,
    /// `started` / `finished` per stage name.
    pub stages: BTreeMap<String, String>,
    /// The latest `error_info` as stored (kept as stored so nothing in it can be lost in the fold).
    pub error: Option<Value>,
    /// The `complete` event's result links once the project is done.
    pub result: Option<Value>,
    /// Sequence number of the last event folded in.
    pub seq: i64,
    #[serde(skip)]
    run_started_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip)]
    run_started_percent: f64,
}

impl Default for ProjectView {
    fn default() -> Self {
        ProjectView {
            status: ProjectStatus::Initialized,
            stage: None,
            percent: 0.0,
            sub_progress: None,
            eta_seconds: None,
            stages: BTreeMap::new(),
            error: None,
            result: None,
            seq: 0,
            run_started_at: None,
            run_started_percent: 0.0,
        }
    }
}

fn stage_named(raw: &str) -> Option<Stage> {
    crate::STAGES.into_iter().find(|s| s.as_str() == raw)
}

impl ProjectView {
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> ProjectView {
        let mut view = ProjectView::default();
        for e in events {
            view.apply(e);
        }
        view
    }

    pub fn apply(&mut self, event: &Event) {
        self.seq = self.seq.max(event.seq);
        let at = chrono::DateTime::parse_from_rfc3339(&event.created_at)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc));
        let p = &event.payload;
        match event.kind.as_str() {
            "status" => {
                let Some(to) = p["to"].as_str().and_then(ProjectStatus::parse) else {
                    return;
                };
                let from = p["from"].as_str().and_then(ProjectStatus::parse);
                self.status = to;
                if to.is_running() {
                    self.stage = to.stage();
                    if from.is_none_or(|f| !f.is_running()) {
                        // A new run (start, resume, retry): the pace is measured from here.
                        self.run_started_at = at;
                        self.run_started_percent = self.percent;
                        self.error = None;
                    }
                }
                if to == ProjectStatus::Completed {
                    self.percent = 100.0;
                    self.sub_progress = None;
                    self.eta_seconds = Some(0.0);
                }
                if !to.is_running() {
                    self.eta_seconds = (to == ProjectStatus::Completed).then_some(0.0);
                }
            }
            "stage" => {
                let (Some(stage), Some(state)) = (
                    p["stage"].as_str().and_then(stage_named),
                    p["state"].as_str(),
                ) else {
                    return;
                };
                self.stages.insert(stage.as_str().into(), state.into());
                let (lo, hi) = stage_band(stage);
                self.stage = Some(stage);
                self.sub_progress = None;
                self.percent = self.percent.max(if state == "finished" { hi } else { lo });
            }
            "progress" => {
                let Some(percent) = p["percent"].as_f64() else {
                    return;
                };
                self.percent = self.percent.max(percent);
                self.stage = p["stage"].as_str().and_then(stage_named).or(self.stage);
                self.sub_progress = Some(SubProgress {
                    done: p["done"].as_f64().unwrap_or(0.0),
                    total: p["total"].as_f64().unwrap_or(0.0),
                    unit: p["unit"].as_str().unwrap_or_default().into(),
                });
                if let (Some(start), Some(now)) = (self.run_started_at, at) {
                    let elapsed = (now - start).num_milliseconds() as f64 / 1000.0;
                    let gained = self.percent - self.run_started_percent;
                    if gained >= 1.0 && elapsed > 0.0 {
                        self.eta_seconds = Some(elapsed * (100.0 - self.percent) / gained);
                    }
                }
            }
            "error" => {
                self.error = Some(p.clone());
            }
            "complete" => {
                self.result = Some(p.clone());
                self.percent = 100.0;
            }
            _ => {}
        }
    }
}
