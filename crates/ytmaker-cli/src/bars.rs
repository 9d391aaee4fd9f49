//! Progress bars for `generate` and `projects resume`: one bar per stage, fed by the pipeline.

use std::collections::HashMap;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use uuid::Uuid;
use ytmaker_core::Stage;
use ytmaker_pipeline::{Progress, ProgressSink, STAGES, stage_band};

pub struct StageBars {
    multi: MultiProgress,
    bars: Mutex<HashMap<Stage, ProgressBar>>,
}

impl StageBars {
    pub fn new() -> Self {
        let multi = MultiProgress::new();
        let style = ProgressStyle::with_template("{prefix:>10} [{bar:30}] {percent:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bars = STAGES
            .into_iter()
            .map(|stage| {
                let bar = multi.add(ProgressBar::new(1000));
                bar.set_style(style.clone());
                bar.set_prefix(stage.as_str());
                (stage, bar)
            })
            .collect();
        StageBars {
            multi,
            bars: Mutex::new(bars),
        }
    }

    /// A line above the bars; bars are hidden when stderr is not a terminal (CI, a pipe), and
    /// the line must still be seen.
    fn println(&self, line: &str) {
        if self.multi.is_hidden() {
            eprintln!("{line}");
        } else if let Err(e) = self.multi.println(line) {
            eprintln!("{line} ({e})");
        }
    }

    fn with_bar(&self, stage: Stage, f: impl FnOnce(&ProgressBar)) {
        let bars = self.bars.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bar) = bars.get(&stage) {
            f(bar);
        }
    }
}

impl ProgressSink for StageBars {
    fn emit(&self, _project: Uuid, progress: &Progress) {
        match progress {
            Progress::StageStarted { stage } => self.with_bar(*stage, |b| b.set_message("running")),
            Progress::StageFinished { stage } => self.with_bar(*stage, |b| {
                b.set_position(1000);
                b.finish_with_message("done");
            }),
            Progress::Step {
                stage,
                done,
                total,
                unit,
                percent,
            } => {
                let (lo, hi) = stage_band(*stage);
                let within = if hi > lo {
                    (percent - lo) / (hi - lo)
                } else {
                    1.0
                };
                self.with_bar(*stage, |b| {
                    b.set_position((within * 1000.0).round() as u64);
                    b.set_message(format!("{done:.0}/{total:.0} {unit}"));
                });
            }
            Progress::Log { level, message, .. } => {
                self.println(&format!("[{}] {message}", level.as_str()))
            }
            Progress::Retry {
                code,
                attempt,
                max_attempts,
                delay_ms,
            } => {
                let line = format!(
                    "[retry] {code}: attempt {attempt} of {max_attempts} failed; trying again in {:.1} s",
                    *delay_ms as f64 / 1000.0
                );
                self.println(&line);
            }
            Progress::Failed { info } => self.with_bar(info.stage, |b| {
                b.abandon_with_message(format!("FAILED {}", info.error_code))
            }),
            Progress::Completed { .. } => {}
        }
    }
}
