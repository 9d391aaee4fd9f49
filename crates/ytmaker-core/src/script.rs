//! The script: what the narrator says and what each image shows (SPEC §2 stage 1).

use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, YtError, YtResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "en")]
    En,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Script {
    pub language: Language,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    /// Spoken by the presenter before the first segment.
    pub intro: NarrationLine,
    pub segments: Vec<Segment>,
    /// Spoken by the presenter after the last segment.
    pub outro: NarrationLine,
    /// Set when the article was longer than the target length and sentences were left out.
    pub condensation: Option<Condensation>,
    pub warnings: Vec<ScriptWarning>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NarrationLine {
    pub text: String,
    pub estimated_seconds: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    /// 0-based position in `segments`.
    pub index: u32,
    pub narration: String,
    /// What the image should show (a prompt for an image model, or the title card's subject).
    pub image_description: String,
    /// The image description as an English prompt for an image model, when the script writer
    /// made one (Gemini does; the local writer does not, and the title card needs none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_prompt: Option<String>,
    /// A short phrase summing up the segment, drawn on the local title card.
    pub key_phrase: String,
    pub estimated_seconds: f64,
    /// The user wrote this segment's image description (and prompt). A rewrite of the script (a
    /// new prompt, model or speaking rate) keeps them for the segment at the same index, as it
    /// keeps an uploaded image: an accepted edit is never dropped by a later change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub description_edited: bool,
}

/// How much of the article was kept (extractive: whole sentences in their original order).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Condensation {
    pub original_chars: usize,
    pub kept_chars: usize,
    pub original_sentences: usize,
    pub kept_sentences: usize,
    /// kept_chars / original_chars.
    pub kept_ratio: f64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    SegmentTooShort,
    SegmentTooLong,
    TotalTooShort,
    TotalTooLong,
}

/// A rule the script could not keep, reported to the user with their options; never fixed silently.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScriptWarning {
    pub kind: WarningKind,
    pub segment_index: Option<u32>,
    pub seconds: f64,
    pub message: String,
    /// What the user may do: `accept`, `split_merge`, `regenerate`.
    pub options: Vec<String>,
}

/// One spoken line of the video, in playing order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LineId {
    Intro,
    Segment(u32),
    Outro,
}

impl Script {
    /// Every narration line in playing order: intro, segments, outro.
    pub fn lines(&self) -> Vec<(LineId, &str)> {
        let mut lines = Vec::with_capacity(self.segments.len() + 2);
        lines.push((LineId::Intro, self.intro.text.as_str()));
        lines.extend(
            self.segments
                .iter()
                .map(|s| (LineId::Segment(s.index), s.narration.as_str())),
        );
        lines.push((LineId::Outro, self.outro.text.as_str()));
        lines
    }

    /// Asset index of a narration line: 0 intro, 1..=N segments, N+1 outro.
    pub fn line_index(&self, line: LineId) -> u32 {
        match line {
            LineId::Intro => 0,
            LineId::Segment(i) => i + 1,
            LineId::Outro => self.segments.len() as u32 + 1,
        }
    }

    pub fn estimated_total_seconds(&self) -> f64 {
        self.intro.estimated_seconds
            + self
                .segments
                .iter()
                .map(|s| s.estimated_seconds)
                .sum::<f64>()
            + self.outro.estimated_seconds
    }

    /// Structural checks every script must pass, whoever wrote it.
    pub fn validate(&self) -> YtResult<()> {
        let bad = |field: &str, rule: &str| {
            Err(YtError::invalid_field(
                ErrorCode::VALIDATION_ERROR,
                field,
                rule,
                serde_json::Value::Null,
            ))
        };
        if self.segments.is_empty() {
            return bad("script.segments", "at least one segment");
        }
        if self.title.trim().is_empty() || self.title.chars().count() > 100 {
            return bad("script.title", "1–100 characters");
        }
        for (i, s) in self.segments.iter().enumerate() {
            if s.index as usize != i {
                return bad("script.segments.index", "indexes are 0..N in order");
            }
            if s.narration.trim().is_empty() {
                return bad(&format!("script.segments[{i}].narration"), "not empty");
            }
        }
        if self.intro.text.trim().is_empty() || self.outro.text.trim().is_empty() {
            return bad("script.intro/outro", "not empty");
        }
        Ok(())
    }
}
