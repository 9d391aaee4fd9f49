//! The resume rule: a run starts at the earliest stage that has work to do, computed from the
//! project's assets and their fingerprints — never from where the last run stopped.
//!
//! A run that failed at upload after the user replaced segment 3's image must render again, or
//! the old video would be published; a changed image setting on a FAILED project must make the
//! images again, or the change would never take effect. [`first_stage_with_work`] is the one
//! function every start, resume, retry and continuation goes through.
//!
//! The render plan (which lines play, their frames and subtitle cues) is computed here too, so
//! the render stage and this rule can never disagree about a clip's fingerprint.

use std::collections::HashMap;

use ytmaker_core::asset::{AssetKey, AssetKind};
use ytmaker_core::config::{FPS, ProjectConfig};
use ytmaker_core::script::{LineId, Script};
use ytmaker_core::{ErrorCode, ProjectStatus, Stage, YtError, YtResult};
use ytmaker_render::{Cue, Timeline, cues_for_line};
use ytmaker_store::{Asset, Project, ProjectDir, Store};

use crate::checkpoint::asset_path;
use crate::fingerprints::{Fingerprints, ScriptSource};

/// The narration lines of the video: intro and outro only when the presenter is on.
pub(crate) fn spoken_lines<'s>(script: &'s Script, cfg: &ProjectConfig) -> Vec<(LineId, &'s str)> {
    script
        .lines()
        .into_iter()
        .filter(|(line, _)| cfg.presenter.enabled || matches!(line, LineId::Segment(_)))
        .collect()
}

/// What a line's clip shows: the presenter for the intro and outro, the segment's image
/// otherwise.
pub(crate) fn clip_source(line: LineId) -> AssetKey {
    match line {
        LineId::Intro => AssetKey::single(AssetKind::AvatarIntro),
        LineId::Outro => AssetKey::single(AssetKind::AvatarOutro),
        LineId::Segment(i) => AssetKey::indexed(AssetKind::Image, i),
    }
}

/// The video's timing: one entry per spoken line, in playing order.
pub(crate) struct RenderPlan {
    pub timeline: Timeline,
    /// Each clip's cues, relative to its first frame.
    pub clip_cues: Vec<Vec<Cue>>,
    /// Every cue on the video's clock (the SRT).
    pub all_cues: Vec<Cue>,
    pub total_s: f64,
}

impl RenderPlan {
    /// `lines` are the spoken lines' texts with their measured narration lengths.
    pub fn new(lines: &[(&str, f64)], cfg: &ProjectConfig) -> RenderPlan {
        let durations: Vec<f64> = lines.iter().map(|(_, d)| *d).collect();
        let timeline = Timeline::from_durations(&durations);
        let total_s = timeline.total_frames() as f64 / FPS as f64;
        let mut all_cues = Vec::new();
        let mut clip_cues = Vec::new();
        for ((text, _), entry) in lines.iter().zip(&timeline.entries) {
            let start = entry.start_frame as f64 / FPS as f64;
            let end = start + entry.frames as f64 / FPS as f64;
            let cues = cues_for_line(text, start, end, cfg.subtitles.max_line_chars);
            clip_cues.push(
                cues.iter()
                    .map(|c| Cue {
                        start_s: c.start_s - start,
                        end_s: c.end_s - start,
                        text: c.text.clone(),
                    })
                    .collect(),
            );
            all_cues.extend(cues);
        }
        RenderPlan {
            timeline,
            clip_cues,
            all_cues,
            total_s,
        }
    }
}

/// The measured length of a completed narration line, or why it has none.
pub(crate) fn narration_seconds(asset: &Asset) -> YtResult<f64> {
    asset.metadata["duration_s"]
        .as_f64()
        .filter(|d| *d > 0.0)
        .ok_or_else(|| {
            YtError::new(
                ErrorCode::MEDIA_INVALID,
                "narration line has no measured duration",
            )
            .detail("segment_index", asset.key.index)
        })
}

/// The project's assets as they are now, answering "is this one still good?".
struct Snapshot<'a> {
    dir: &'a ProjectDir,
    assets: HashMap<AssetKey, Asset>,
}

impl Snapshot<'_> {
    /// The asset if it is completed, made from `inputs`, and its file is on disk.
    fn valid(&self, key: AssetKey, inputs: &str) -> Option<&Asset> {
        self.present(key)
            .filter(|a| a.metadata["inputs"].as_str() == Some(inputs))
    }

    /// The asset if it is completed and its file is on disk, whatever it was made from.
    fn present(&self, key: AssetKey) -> Option<&Asset> {
        self.assets
            .get(&key)
            .filter(|a| a.is_completed() && asset_path(self.dir, a).is_some_and(|p| p.is_file()))
    }

    /// A segment image the user supplied: kept as it is until they edit or regenerate it.
    fn user_upload(&self, key: AssetKey) -> Option<&Asset> {
        self.present(key)
            .filter(|a| a.metadata["source"] == crate::edits::USER_UPLOAD)
    }
}

/// The earliest stage of `project` with an asset that is missing, not completed, or made from
/// inputs other than the ones it would be made from now; `Upload` when every asset is good (the
/// publish stage has no asset and runs on every continuation until the project is COMPLETED).
pub async fn first_stage_with_work(
    store: &Store,
    dir: &ProjectDir,
    project: &Project,
) -> YtResult<Stage> {
    if project.status.is_terminal() {
        return Err(YtError::new(
            ErrorCode::INVALID_STATE_TRANSITION,
            format!("a project in {} cannot be run", project.status),
        )
        .detail("from", project.status.as_str()));
    }
    if project.status == ProjectStatus::Initialized {
        return Ok(Stage::Script);
    }
    let snapshot = Snapshot {
        dir,
        assets: store
            .assets(project.id)
            .await?
            .into_iter()
            .map(|a| (a.key, a))
            .collect(),
    };
    let cfg = &project.configuration;
    let fp = Fingerprints::new(cfg)?;
    let script_ok = snapshot
        .valid(
            AssetKey::single(AssetKind::Script),
            &fp.script(&ScriptSource::of(project)),
        )
        .is_some();
    let Some(script) = project.script.as_ref().filter(|_| script_ok) else {
        return Ok(Stage::Script);
    };

    // Assets: every narration line, every image, the presenter's clips.
    let mut lines = Vec::new();
    for (line, text) in spoken_lines(script, cfg) {
        let key = AssetKey::indexed(AssetKind::Audio, script.line_index(line));
        let Some(audio) = snapshot.valid(key, &fp.narration(text)) else {
            return Ok(Stage::Assets);
        };
        lines.push((line, text, audio));
    }
    for segment in &script.segments {
        let key = AssetKey::indexed(AssetKind::Image, segment.index);
        if snapshot.user_upload(key).is_none() && snapshot.valid(key, &fp.image(segment)).is_none()
        {
            return Ok(Stage::Assets);
        }
    }
    for (line, _, audio) in &lines {
        let kind = match line {
            LineId::Intro => AssetKind::AvatarIntro,
            LineId::Outro => AssetKind::AvatarOutro,
            LineId::Segment(_) => continue,
        };
        if snapshot
            .valid(AssetKey::single(kind), &fp.presenter(audio.hash()?))
            .is_none()
        {
            return Ok(Stage::Assets);
        }
    }

    // Render: every clip, the subtitles, the assembled video.
    let mut timed = Vec::new();
    for (_, text, audio) in &lines {
        match narration_seconds(audio) {
            Ok(seconds) => timed.push((*text, seconds)),
            // A line that cannot be timed is made again by the assets stage.
            Err(_) => return Ok(Stage::Assets),
        }
    }
    let plan = RenderPlan::new(&timed, cfg);
    let mut clip_hashes = Vec::new();
    for (position, (((line, _, _), entry), cues)) in lines
        .iter()
        .zip(&plan.timeline.entries)
        .zip(&plan.clip_cues)
        .enumerate()
    {
        let Some(source) = snapshot.present(clip_source(*line)) else {
            return Ok(Stage::Assets);
        };
        let key = AssetKey::indexed(AssetKind::SegmentClip, position as u32);
        let Some(clip) = snapshot.valid(key, &fp.clip(source.hash()?, entry.frames, cues)?) else {
            return Ok(Stage::Render);
        };
        clip_hashes.push(clip.hash()?.to_owned());
    }
    let audio_hashes = lines
        .iter()
        .map(|(_, _, a)| a.hash().map(str::to_owned))
        .collect::<YtResult<Vec<_>>>()?;
    let subtitles_ok = snapshot
        .valid(
            AssetKey::single(AssetKind::Subtitles),
            &fp.subtitles(&plan.all_cues)?,
        )
        .is_some();
    let final_ok = snapshot
        .valid(
            AssetKey::single(AssetKind::FinalVideo),
            &fp.final_video(&clip_hashes, &audio_hashes),
        )
        .is_some();
    if !subtitles_ok || !final_ok {
        return Ok(Stage::Render);
    }

    // Thumbnail.
    let background = AssetKey::indexed(AssetKind::Image, cfg.thumbnail.background_segment);
    let Some(image) = snapshot.present(background) else {
        // A background segment that does not exist is the thumbnail stage's error to report.
        return Ok(Stage::Thumbnail);
    };
    if snapshot
        .valid(
            AssetKey::single(AssetKind::Thumbnail),
            &fp.thumbnail(image.hash()?, &script.title),
        )
        .is_none()
    {
        return Ok(Stage::Thumbnail);
    }
    Ok(Stage::Upload)
}
