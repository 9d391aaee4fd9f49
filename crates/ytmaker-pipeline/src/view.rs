//! The state of a project as a UI shows it, folded from the project's event log. The WebSocket
//! snapshot is this fold up to a sequence number, and every later event is applied by clients the
//! same way, so a page opened mid-run ends in the same state as one that watched from the start.

use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;
use ytmaker_core::event::{ProjectEvent, StageState};
use ytmaker_core::{ErrorInfo, ProjectStatus, Stage};
use ytmaker_store::Event;

use crate::progress::stage_band;

/// How far the current step is, in its own unit (`images`, `s` of video, `%` of an upload).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubProgress {
    pub done: f64,
    pub total: f64,
    pub unit: String,
}

/// A finished run as a client reaches it: the download links and where it was published.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunResult {
    pub video_url: String,
    pub thumbnail_url: String,
    pub subtitles_url: String,
    /// Where the video was published (a folder for the local publisher, a YouTube URL).
    pub location: String,
}

impl RunResult {
    pub fn new(project: Uuid, location: &str) -> RunResult {
        let [video_url, thumbnail_url, subtitles_url] = file_urls(project);
        RunResult {
            video_url,
            thumbnail_url,
            subtitles_url,
            location: location.into(),
        }
    }
}

/// Download URLs of a finished project's video, thumbnail and subtitles (the API's
/// `/projects/{id}/files/{name}`).
pub fn file_urls(project: Uuid) -> [String; 3] {
    ["video", "thumbnail", "subtitles"].map(|f| format!("/api/v1/projects/{project}/files/{f}"))
}

/// The state of a project as a UI shows it (the WebSocket snapshot's `state`, the REST event
/// list's `view`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectView {
    pub status: ProjectStatus,
    pub stage: Option<Stage>,
    /// 0–100 over the whole run (SPEC §2 bands).
    pub percent: f64,
    pub sub_progress: Option<SubProgress>,
    /// Remaining time extrapolated from this run's measured pace; absent until it can be.
    pub eta_seconds: Option<f64>,
    /// `started` / `finished` per stage name.
    pub stages: BTreeMap<String, StageState>,
    /// The latest failure's `error_info`, until a new run starts.
    pub error: Option<ErrorInfo>,
    /// The result links once the project is done.
    pub result: Option<RunResult>,
    /// Sequence number of the last event folded in.
    pub seq: i64,
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    run_started_at: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(skip)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
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
        match &event.event {
            ProjectEvent::Status { from, to } => {
                let (from, to) = (*from, *to);
                self.status = to;
                if to.is_running() {
                    self.stage = to.stage();
                    if !from.is_running() {
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
            ProjectEvent::Stage { stage, state } => {
                let stage = *stage;
                self.stages.insert(stage.as_str().into(), *state);
                let (lo, hi) = stage_band(stage);
                self.stage = Some(stage);
                self.sub_progress = None;
                let reached = match state {
                    StageState::Started => lo,
                    StageState::Finished => hi,
                };
                self.percent = self.percent.max(reached);
            }
            ProjectEvent::Progress {
                stage,
                done,
                total,
                unit,
                percent,
            } => {
                self.percent = self.percent.max(*percent);
                self.stage = Some(*stage);
                self.sub_progress = Some(SubProgress {
                    done: *done,
                    total: *total,
                    unit: unit.clone(),
                });
                if let (Some(start), Some(now)) = (self.run_started_at, at) {
                    let elapsed = (now - start).num_milliseconds() as f64 / 1000.0;
                    let gained = self.percent - self.run_started_percent;
                    if gained >= 1.0 && elapsed > 0.0 {
                        self.eta_seconds = Some(elapsed * (100.0 - self.percent) / gained);
                    }
                }
            }
            ProjectEvent::Error(info) => {
                self.error = Some(info.clone());
            }
            ProjectEvent::Complete { location, .. } => {
                self.result = Some(RunResult::new(event.project_id, location));
                self.percent = 100.0;
            }
            ProjectEvent::Log { .. }
            | ProjectEvent::Asset { .. }
            | ProjectEvent::Retry { .. }
            | ProjectEvent::Edit(_)
            | ProjectEvent::Retention { .. } => {}
        }
    }
}
