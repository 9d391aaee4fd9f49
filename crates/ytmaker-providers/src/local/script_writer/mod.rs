//! The offline script writer (SPEC §3 "rule-based splitter"): the article's own sentences, grouped
//! into 5–20 s segments by the speech-rate estimate, condensed extractively when the article is
//! longer than the target, with title, description, tags, intro and outro taken from the text.
//!
//! It never invents content: every segment's narration is a run of the article's sentences (or,
//! for a sentence longer than a segment may be, of its clauses) in their original order. Rules it
//! cannot keep — a segment outside 5–20 s, a video shorter than the target — become warnings on
//! the script with the user's options; nothing is padded or silently changed.

mod key_phrases;
mod planning;

use key_phrases::*;
use planning::*;

use async_trait::async_trait;

use ytmaker_core::config::{NarrationSettings, ScriptSettings};
use ytmaker_core::script::{
    Condensation, Language, NarrationLine, Script, ScriptWarning, Segment, WarningKind,
};
use ytmaker_core::{ErrorCode, YtError, YtResult};

use super::keywords::{Analysis, Keyword, cosine, keywords};
use crate::speech::{estimate_line_seconds, estimate_seconds, line_overhead_seconds};
use crate::text::{self, NormalisedText, hard_split, is_cjk, split_clauses, split_sentences};
use crate::{ScriptRequest, ScriptWriter};

/// Longest key phrase on a title card: CJK characters / Latin characters.
pub const KEY_PHRASE_MAX_CJK: usize = 16;
pub const KEY_PHRASE_MAX_LATIN: usize = 40;
const TITLE_MAX_CHARS: usize = 100;
const TAGS_MAX: usize = 15;
const TAG_MAX_CHARS: usize = 30;
/// YouTube refuses more than 500 characters of tags in all; stay clear of it.
const TAGS_TOTAL_MAX_CHARS: usize = 450;

/// See the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct RuleBasedScriptWriter;

impl RuleBasedScriptWriter {
    pub fn new() -> Self {
        RuleBasedScriptWriter
    }

    /// The script for `req`; pure and deterministic (the same request gives the same script).
    pub fn write(&self, req: &ScriptRequest<'_>) -> YtResult<Script> {
        check_settings(req.settings, req.narration)?;
        let normalised = text::normalise(req.text);
        if !normalised.has_body() {
            return Err(YtError::new(
                ErrorCode::SCRIPT_NO_CONTENT,
                "the text has no sentence to narrate after clean-up",
            )
            .detail("input_chars", req.text.chars().count()));
        }
        let article = Article::new(&normalised, req.narration.speaking_rate);
        let plan = Planner {
            article: &article,
            settings: req.settings,
            rate: req.narration.speaking_rate,
        };
        plan.script(req.name_hint)
    }
}

#[async_trait]
impl ScriptWriter for RuleBasedScriptWriter {
    fn id(&self) -> &'static str {
        "local"
    }

    async fn write_script(&self, req: &ScriptRequest<'_>) -> YtResult<Script> {
        let started = std::time::Instant::now();
        let script = self.write(req)?;
        tracing::info!(
            provider = "local",
            segments = script.segments.len(),
            estimated_seconds = script.estimated_total_seconds(),
            condensed = script.condensation.is_some(),
            warnings = script.warnings.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            "script written"
        );
        Ok(script)
    }
}

/// Refuses segment/target ranges and speaking rates no script can be planned with.
pub(crate) fn check_settings(s: &ScriptSettings, n: &NarrationSettings) -> YtResult<()> {
    let ok = |v: f64| v.is_finite() && v > 0.0;
    if !(ok(s.segment_min_seconds)
        && ok(s.segment_max_seconds)
        && s.segment_min_seconds < s.segment_max_seconds)
    {
        return Err(YtError::invalid_field(
            ErrorCode::CONFIG_INVALID,
            "script.segment_max_seconds",
            "positive and greater than segment_min_seconds",
            s.segment_max_seconds,
        ));
    }
    if !(ok(s.target_min_seconds)
        && ok(s.target_max_seconds)
        && s.target_min_seconds < s.target_max_seconds)
    {
        return Err(YtError::invalid_field(
            ErrorCode::CONFIG_INVALID,
            "script.target_max_seconds",
            "positive and greater than target_min_seconds",
            s.target_max_seconds,
        ));
    }
    if !ok(n.speaking_rate) {
        return Err(YtError::invalid_field(
            ErrorCode::CONFIG_INVALID,
            "narration.speaking_rate",
            "positive",
            n.speaking_rate,
        ));
    }
    Ok(())
}

/// The rules a script's estimated lengths break: each segment outside the segment range and a total
/// outside the target range, with the user's options. Every script writer reports these the same
/// way; none shortens or pads a segment to avoid one.
pub(crate) fn length_warnings(script: &Script, s: &ScriptSettings) -> Vec<ScriptWarning> {
    let mut warnings = Vec::new();
    for seg in &script.segments {
        let secs = seg.estimated_seconds;
        let kind = if secs < s.segment_min_seconds {
            WarningKind::SegmentTooShort
        } else if secs > s.segment_max_seconds {
            WarningKind::SegmentTooLong
        } else {
            continue;
        };
        let rule = format!("{}–{} s", s.segment_min_seconds, s.segment_max_seconds);
        warnings.push(ScriptWarning {
            kind,
            segment_index: Some(seg.index),
            seconds: secs,
            message: format!(
                "segment {} is estimated at {secs:.1} s, outside {rule}",
                seg.index + 1
            ),
            options: options(&["accept", "split_merge", "regenerate"]),
        });
    }
    let total = round2(script.estimated_total_seconds());
    if total < s.target_min_seconds {
        warnings.push(ScriptWarning {
            kind: WarningKind::TotalTooShort,
            segment_index: None,
            seconds: total,
            message: format!(
                "the article gives about {total:.0} s of narration, less than the target minimum of {} s; it is not padded",
                s.target_min_seconds
            ),
            options: options(&["accept", "regenerate"]),
        });
    } else if total > s.target_max_seconds {
        warnings.push(ScriptWarning {
            kind: WarningKind::TotalTooLong,
            segment_index: None,
            seconds: total,
            message: format!(
                "the script is estimated at {total:.0} s, more than the target maximum of {} s",
                s.target_max_seconds
            ),
            options: options(&["accept", "regenerate"]),
        });
    }
    warnings
}

fn options(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The article's language as this writer decides it: from the cleaned text, headings included.
pub(crate) fn article_language(normalised: &NormalisedText) -> Language {
    text::detect_language(&normalised.joined())
}

/// Estimated seconds of one narration line spoken on its own, as scripts record it.
pub(crate) fn line_seconds(text: &str, language: Language, rate: f64) -> f64 {
    round2(estimate_line_seconds(text, language, rate))
}

pub(crate) fn narration_line(text: String, language: Language, rate: f64) -> NarrationLine {
    let estimated_seconds = line_seconds(&text, language, rate);
    NarrationLine {
        text,
        estimated_seconds,
    }
}

fn intro_text(title: &str, language: Language) -> String {
    let title = strip_end_punctuation(title);
    match language {
        Language::ZhTw => format!("歡迎收看。今天要談的是：{title}。"),
        Language::En => format!("Welcome. Today: {title}."),
    }
}

fn outro_text(language: Language) -> String {
    match language {
        Language::ZhTw => "感謝您的收看。如果喜歡這支影片，請按讚並訂閱頻道，我們下次見。".into(),
        Language::En => "Thank you for watching. If you enjoyed this video, please like and subscribe. See you next time.".into(),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => s.to_owned(),
    }
}

/// Case-insensitive containment; a Latin needle must match whole words ("light" is not in
/// "lighting").
fn contains_ci(haystack: &str, needle: &str) -> bool {
    let (hay, needle) = (haystack.to_lowercase(), needle.to_lowercase());
    let word_edges = needle
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    hay.match_indices(&needle).any(|(at, m)| {
        !word_edges
            || (hay[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
                && hay[at + m.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric()))
    })
}

/// A project name that reads as a title, not a file name or an id.
fn title_like(hint: &str) -> bool {
    let len = hint.chars().count();
    let file_like = hint.contains(['/', '\\'])
        || hint.rsplit_once('.').is_some_and(|(_, ext)| {
            (1..=4).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
        });
    (2..=TITLE_MAX_CHARS).contains(&len)
        && !file_like
        && (hint.contains(' ') || hint.chars().any(is_cjk))
}

/// YouTube refuses `<` and `>` in titles, descriptions and tags.
fn clean_metadata(text: &str) -> String {
    text.replace(['<', '>'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn clip_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> Script {
        let settings = ScriptSettings::default();
        let narration = NarrationSettings::default();
        RuleBasedScriptWriter::new()
            .write(&ScriptRequest {
                text,
                settings: &settings,
                narration: &narration,
                name_hint: None,
                prompt: None,
            })
            .unwrap()
    }

    #[test]
    fn a_heading_becomes_the_title_and_is_not_narrated() {
        let script =
            write("# 颱風的科學\n\n颱風是熱帶氣旋的一種。它帶來豐沛的雨水，也可能造成災害。");
        assert_eq!(script.title, "颱風的科學");
        assert!(
            !script
                .segments
                .iter()
                .any(|s| s.narration.contains("颱風的科學"))
        );
        assert!(script.intro.text.contains("颱風的科學"));
    }

    #[test]
    fn a_short_article_is_not_padded_but_warned_about() {
        let script = write("颱風是熱帶氣旋的一種，會帶來強風與豪雨。民眾應該提前做好準備。");
        assert_eq!(script.segments.len(), 1);
        let total = script
            .warnings
            .iter()
            .find(|w| w.kind == WarningKind::TotalTooShort)
            .unwrap();
        assert_eq!(total.options, ["accept", "regenerate"]);
        assert_eq!(
            script.segments[0].narration,
            "颱風是熱帶氣旋的一種，會帶來強風與豪雨。民眾應該提前做好準備。"
        );
    }

    #[test]
    fn key_phrases_fit_the_title_card() {
        let script = write(
            "燈塔是航海安全的重要設施，它在夜晚發出明亮的光芒，指引船隻避開危險的礁石與淺灘，讓水手能夠平安返回港口。\
             早期的燈塔使用木材與煤炭作為燃料，光線昏暗又充滿煙霧，在大雨中幾乎無法被看見。",
        );
        for s in &script.segments {
            assert!(
                s.key_phrase.chars().count() <= KEY_PHRASE_MAX_CJK,
                "{}",
                s.key_phrase
            );
            assert!(!s.key_phrase.is_empty());
        }
    }

    #[test]
    fn title_hints_that_look_like_file_names_are_not_titles() {
        assert!(!title_like("article-zh-TW.txt"));
        assert!(!title_like("a1b2c3"));
        assert!(title_like("台灣的颱風"));
        assert!(title_like("How lighthouses work"));
    }

    #[test]
    fn truncation_cuts_at_a_word_boundary() {
        let t = truncate_phrase(
            "Lighthouses relied on open flames burning in iron baskets",
            Language::En,
        );
        assert!(
            t.chars().count() <= KEY_PHRASE_MAX_LATIN && t.ends_with('…'),
            "{t}"
        );
        assert!(t.starts_with("Lighthouses relied on open flames"), "{t}");
    }
}
