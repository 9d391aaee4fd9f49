//! The project status state machine (SPEC §2). Every status change in the product goes through
//! [`ProjectStatus::transition`]; no other code decides which changes are allowed.

use serde::{Deserialize, Serialize};
use std::fmt;

use crate::error::{ErrorCode, Stage, YtError};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProjectStatus {
    Initialized,
    ScriptGenerating,
    ScriptGenerated,
    AssetsGenerating,
    AssetsGenerated,
    Rendering,
    Rendered,
    ThumbnailGenerating,
    ThumbnailGenerated,
    Uploading,
    Completed,
    Paused,
    Cancelled,
    Failed,
}

use ProjectStatus::*;

impl ProjectStatus {
    pub const ALL: [ProjectStatus; 14] = [
        Initialized,
        ScriptGenerating,
        ScriptGenerated,
        AssetsGenerating,
        AssetsGenerated,
        Rendering,
        Rendered,
        ThumbnailGenerating,
        ThumbnailGenerated,
        Uploading,
        Completed,
        Paused,
        Cancelled,
        Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Initialized => "INITIALIZED",
            ScriptGenerating => "SCRIPT_GENERATING",
            ScriptGenerated => "SCRIPT_GENERATED",
            AssetsGenerating => "ASSETS_GENERATING",
            AssetsGenerated => "ASSETS_GENERATED",
            Rendering => "RENDERING",
            Rendered => "RENDERED",
            ThumbnailGenerating => "THUMBNAIL_GENERATING",
            ThumbnailGenerated => "THUMBNAIL_GENERATED",
            Uploading => "UPLOADING",
            Completed => "COMPLETED",
            Paused => "PAUSED",
            Cancelled => "CANCELLED",
            Failed => "FAILED",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The status while `stage` runs.
    pub fn running(stage: Stage) -> Option<Self> {
        Some(match stage {
            Stage::Script => ScriptGenerating,
            Stage::Assets => AssetsGenerating,
            Stage::Render => Rendering,
            Stage::Thumbnail => ThumbnailGenerating,
            Stage::Upload => Uploading,
            Stage::Input | Stage::System => return None,
        })
    }

    /// The status after `stage` finished.
    pub fn finished(stage: Stage) -> Option<Self> {
        Some(match stage {
            Stage::Script => ScriptGenerated,
            Stage::Assets => AssetsGenerated,
            Stage::Render => Rendered,
            Stage::Thumbnail => ThumbnailGenerated,
            Stage::Upload => Completed,
            Stage::Input | Stage::System => return None,
        })
    }

    /// The stage a running status belongs to.
    pub fn stage(self) -> Option<Stage> {
        match self {
            ScriptGenerating => Some(Stage::Script),
            AssetsGenerating => Some(Stage::Assets),
            Rendering => Some(Stage::Render),
            ThumbnailGenerating => Some(Stage::Thumbnail),
            Uploading => Some(Stage::Upload),
            _ => None,
        }
    }

    pub fn is_running(self) -> bool {
        self.stage().is_some()
    }

    /// A stage has finished and the next has not started: a run is still under way.
    pub fn is_between_stages(self) -> bool {
        matches!(
            self,
            ScriptGenerated | AssetsGenerated | Rendered | ThumbnailGenerated
        )
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Completed | Cancelled)
    }

    /// Whether the change `self → to` is allowed.
    ///
    /// A running status may be entered again from itself: that is how an interrupted run (a crash,
    /// `kill -9`) is taken up again; the checkpoints decide what is left to do.
    pub fn allows(self, to: ProjectStatus) -> bool {
        if self == to {
            return self.is_running();
        }
        match (self, to) {
            (Completed | Cancelled, _) => false,
            (_, Cancelled) => true,
            (Initialized, ScriptGenerating) => true,
            // A project whose input or set-up was refused before any stage ran.
            (Initialized, Failed) => true,
            (ScriptGenerating, ScriptGenerated)
            | (ScriptGenerated, AssetsGenerating)
            | (AssetsGenerating, AssetsGenerated)
            | (AssetsGenerated, Rendering)
            | (Rendering, Rendered)
            | (Rendered, ThumbnailGenerating)
            | (ThumbnailGenerating, ThumbnailGenerated)
            | (ThumbnailGenerated, Uploading)
            | (Uploading, Completed) => true,
            (from, Failed | Paused) if from.is_running() => true,
            // A run that stopped between two stages, or a resumed project, whose run could not
            // go on (its providers could not be built): the failure must still be recorded.
            (from, Failed) if from.is_between_stages() || from == Paused => true,
            // Resume after a pause and retry after a failure go back into a running status; the
            // pipeline picks which one from the checkpoints.
            (Paused | Failed, to) => to.is_running(),
            // A run that takes over a project whose runner died (its lease expired: a kill -9,
            // a lease it could not renew) starts again at the earliest stage with work, which
            // can be before the stage the dead run had reached.
            (from, to) if from.is_running() && to.is_running() => true,
            _ => false,
        }
    }

    pub fn transition(self, to: ProjectStatus) -> Result<ProjectStatus, YtError> {
        if self.allows(to) {
            Ok(to)
        } else {
            Err(YtError::new(
                ErrorCode::INVALID_STATE_TRANSITION,
                format!(
                    "a project in {} cannot go to {}",
                    self.as_str(),
                    to.as_str()
                ),
            )
            .detail("from", self.as_str())
            .detail("to", to.as_str()))
        }
    }
}

impl fmt::Display for ProjectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_happy_path_is_allowed_in_order() {
        let path = [
            Initialized,
            ScriptGenerating,
            ScriptGenerated,
            AssetsGenerating,
            AssetsGenerated,
            Rendering,
            Rendered,
            ThumbnailGenerating,
            ThumbnailGenerated,
            Uploading,
            Completed,
        ];
        for pair in path.windows(2) {
            assert_eq!(pair[0].transition(pair[1]).unwrap(), pair[1]);
        }
    }

    #[test]
    fn skipping_a_stage_or_leaving_a_terminal_status_is_refused() {
        for (from, to) in [
            (Initialized, Rendering),
            (ScriptGenerated, Rendering),
            (Completed, ScriptGenerating),
            (Cancelled, AssetsGenerating),
            (Initialized, Paused),
            (Rendered, Paused),
            (Initialized, Completed),
            (Failed, Completed),
            (Initialized, Initialized),
        ] {
            let err = from.transition(to).unwrap_err();
            assert_eq!(
                err.code,
                ErrorCode::INVALID_STATE_TRANSITION,
                "{from} -> {to}"
            );
            assert_eq!(err.details["from"], from.as_str());
        }
    }

    #[test]
    fn running_statuses_can_fail_pause_and_be_resumed() {
        for s in ProjectStatus::ALL.into_iter().filter(|s| s.is_running()) {
            assert!(
                s.allows(Failed) && s.allows(Paused) && s.allows(Cancelled) && s.allows(s),
                "{s}"
            );
            assert!(Paused.allows(s) && Failed.allows(s), "{s}");
        }
        assert!(!Paused.allows(Completed));
    }

    /// Found by the seams model test: a runner that could not renew its lease (the database
    /// locked) stopped in RENDERING; the worker that took the job over needed to start at the
    /// assets and was refused for ever.
    #[test]
    fn a_run_taking_over_from_a_dead_runner_can_restart_at_an_earlier_stage() {
        let running: Vec<_> = ProjectStatus::ALL
            .into_iter()
            .filter(|s| s.is_running())
            .collect();
        for from in &running {
            for to in &running {
                assert!(from.allows(*to), "{from} -> {to}");
            }
        }
        assert!(!ScriptGenerated.allows(Rendering) && !Rendered.allows(AssetsGenerating));
    }

    #[test]
    fn a_run_that_cannot_go_on_between_stages_or_after_a_pause_can_fail() {
        for s in [
            ScriptGenerated,
            AssetsGenerated,
            Rendered,
            ThumbnailGenerated,
            Paused,
        ] {
            assert!(s.allows(Failed), "{s}");
        }
        assert!(!Completed.allows(Failed) && !Cancelled.allows(Failed));
    }

    #[test]
    fn stage_and_status_agree() {
        for stage in [
            Stage::Script,
            Stage::Assets,
            Stage::Render,
            Stage::Thumbnail,
            Stage::Upload,
        ] {
            let running = ProjectStatus::running(stage).unwrap();
            assert_eq!(running.stage(), Some(stage));
            assert!(running.allows(ProjectStatus::finished(stage).unwrap()));
        }
        for s in ProjectStatus::ALL {
            assert_eq!(ProjectStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
