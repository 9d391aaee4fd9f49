use uuid::Uuid;
use ytmaker_core::{ErrorInfo, Stage};

/// What a run reports as it goes. The CLI draws bars from it; the server forwards it over the
/// WebSocket. Stage starts/ends, asset completions and errors are also stored as project events.
#[derive(Debug, Clone)]
pub enum Progress {
    StageStarted {
        stage: Stage,
    },
    StageFinished {
        stage: Stage,
    },
    /// Real sub-progress inside a stage: `done` of `total` `unit`s; `percent` is of the whole run.
    Step {
        stage: Stage,
        done: f64,
        total: f64,
        unit: &'static str,
        percent: f64,
    },
    Log {
        level: ytmaker_core::event::LogLevel,
        message: String,
        note: Option<ytmaker_core::event::LogNote>,
    },
    /// A provider call failed with a retryable code and is tried again after `delay_ms`
    /// (attempt `attempt` of `max_attempts` has failed).
    Retry {
        code: ytmaker_core::ErrorCode,
        attempt: u32,
        max_attempts: u32,
        delay_ms: u64,
    },
    Failed {
        info: ErrorInfo,
    },
    Completed {
        video: String,
        thumbnail: String,
        subtitles: String,
        location: String,
    },
}

pub trait ProgressSink: Send + Sync {
    fn emit(&self, project: Uuid, progress: &Progress);
}

/// The share of the 0–100 % bar each stage owns (SPEC §2).
pub fn stage_band(stage: Stage) -> (f64, f64) {
    match stage {
        Stage::Input => (0.0, 0.0),
        Stage::Script => (0.0, 10.0),
        Stage::Assets => (10.0, 50.0),
        Stage::Render => (50.0, 90.0),
        Stage::Thumbnail => (90.0, 92.0),
        Stage::Upload => (92.0, 100.0),
        Stage::System => (0.0, 0.0),
    }
}

pub(crate) fn step(stage: Stage, done: f64, total: f64, unit: &'static str) -> Progress {
    let (lo, hi) = stage_band(stage);
    let fraction = if total > 0.0 {
        (done / total).clamp(0.0, 1.0)
    } else {
        1.0
    };
    Progress::Step {
        stage,
        done,
        total,
        unit,
        percent: lo + (hi - lo) * fraction,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_cover_the_bar_in_stage_order() {
        let mut end = 0.0;
        for stage in crate::STAGES {
            let (lo, hi) = stage_band(stage);
            assert_eq!(lo, end, "{stage}");
            assert!(hi > lo);
            end = hi;
        }
        assert_eq!(end, 100.0);
        match step(Stage::Render, 30.0, 120.0, "s") {
            Progress::Step { percent, .. } => assert!((percent - 60.0).abs() < 1e-9),
            other => panic!("{other:?}"),
        }
    }
}
