//! Frame-exact placement of the narration lines on the 30 fps timeline.

use ytmaker_core::config::FPS;

/// Where each narration line (intro, segments…, outro) sits in the video.
///
/// Line i starts at frame `round(cum_start_i × 30)` and lasts `round(cum_end_i × 30) −
/// round(cum_start_i × 30)` frames. Rounding the cumulative times, not each duration, keeps the
/// error from adding up: every clip boundary is within half a frame of the matching boundary in
/// the concatenated narration, however many lines there are.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    pub entries: Vec<TimelineEntry>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TimelineEntry {
    pub start_frame: u64,
    pub frames: u32,
    /// Where the line's narration starts in the concatenated narration.
    pub audio_start_s: f64,
    pub audio_duration_s: f64,
}

impl Timeline {
    /// Durations of the narration lines in playing order, as measured from the audio files.
    pub fn from_durations(durations_s: &[f64]) -> Timeline {
        let fps = f64::from(FPS);
        let mut audio_start_s = 0.0;
        let mut start_frame = 0u64;
        let entries = durations_s
            .iter()
            .map(|&audio_duration_s| {
                let audio_end_s = audio_start_s + audio_duration_s;
                let end_frame = (audio_end_s * fps).round() as u64;
                let entry = TimelineEntry {
                    start_frame,
                    frames: end_frame.saturating_sub(start_frame) as u32,
                    audio_start_s,
                    audio_duration_s,
                };
                (audio_start_s, start_frame) = (audio_end_s, end_frame.max(start_frame));
                entry
            })
            .collect();
        Timeline { entries }
    }

    pub fn total_frames(&self) -> u64 {
        self.entries
            .last()
            .map_or(0, |e| e.start_frame + u64::from(e.frames))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_add_up_and_no_boundary_drifts_more_than_half_a_frame() {
        // Awkward durations: each alone would round differently from the running sum.
        let durations: Vec<f64> = (0..40)
            .map(|i| 5.0 + f64::from(i) * 0.3777 + 0.0166)
            .collect();
        let timeline = Timeline::from_durations(&durations);
        let total: f64 = durations.iter().sum();
        assert_eq!(timeline.total_frames(), (total * 30.0).round() as u64);
        assert_eq!(
            timeline
                .entries
                .iter()
                .map(|e| u64::from(e.frames))
                .sum::<u64>(),
            timeline.total_frames()
        );

        let mut cum = 0.0;
        for (entry, d) in timeline.entries.iter().zip(&durations) {
            assert!((entry.start_frame as f64 / 30.0 - cum).abs() <= 0.5 / 30.0 + 1e-9);
            assert!((entry.audio_start_s - cum).abs() < 1e-9);
            assert_eq!(entry.audio_duration_s, *d);
            cum += d;
            let end = (entry.start_frame + u64::from(entry.frames)) as f64 / 30.0;
            assert!((end - cum).abs() <= 0.5 / 30.0 + 1e-9);
        }
    }

    #[test]
    fn consecutive_entries_touch() {
        let timeline = Timeline::from_durations(&[1.01, 2.02, 3.03]);
        for pair in timeline.entries.windows(2) {
            assert_eq!(
                pair[0].start_frame + u64::from(pair[0].frames),
                pair[1].start_frame
            );
        }
        assert_eq!(Timeline::from_durations(&[]).total_frames(), 0);
    }
}
