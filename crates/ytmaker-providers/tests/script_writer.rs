//! The rule-based script writer on unseen articles: segment and total lengths, fidelity to the
//! text (nothing invented, order kept), condensation, determinism, metadata limits.

mod common;

use common::{article, write_script, write_script_with};
use ytmaker_core::ErrorCode;
use ytmaker_core::config::{NarrationSettings, ScriptSettings};
use ytmaker_core::script::{Language, Script, WarningKind};
use ytmaker_providers::ScriptRequest;
use ytmaker_providers::local::{KEY_PHRASE_MAX_CJK, KEY_PHRASE_MAX_LATIN, RuleBasedScriptWriter};
use ytmaker_providers::text::{normalise, split_sentences};

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The body sentences of the normalised article, in order.
fn sentences(text: &str) -> Vec<String> {
    normalise(text)
        .body()
        .flat_map(|p| {
            split_sentences(&p.text)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Checks that the narrations, concatenated, are exactly a run of the article's sentences in their
/// original order (all of them unless the script says it was condensed), and returns how many
/// sentences were used.
fn assert_narration_is_the_article(text: &str, script: &Script) -> usize {
    let narrated = squash(
        &script
            .segments
            .iter()
            .map(|s| s.narration.as_str())
            .collect::<String>(),
    );
    let mut rest = narrated.as_str();
    let mut used = 0;
    for sentence in sentences(text) {
        let s = squash(&sentence);
        if let Some(after) = rest.strip_prefix(s.as_str()) {
            rest = after;
            used += 1;
        } else {
            assert!(
                script.condensation.is_some(),
                "sentence left out without condensation: {sentence}"
            );
        }
    }
    assert!(
        rest.is_empty(),
        "narration holds text that is not the article's, in order: {}",
        rest.chars().take(80).collect::<String>()
    );
    used
}

fn assert_lengths_and_warnings(script: &Script) {
    let s = ScriptSettings::default();
    for seg in &script.segments {
        let inside =
            (s.segment_min_seconds..=s.segment_max_seconds).contains(&seg.estimated_seconds);
        let warned = script.warnings.iter().any(|w| {
            w.segment_index == Some(seg.index)
                && matches!(
                    w.kind,
                    WarningKind::SegmentTooShort | WarningKind::SegmentTooLong
                )
                && w.options == ["accept", "split_merge", "regenerate"]
        });
        assert!(
            inside || warned,
            "segment {} at {:.1} s without a warning",
            seg.index,
            seg.estimated_seconds
        );
    }
    let total = script.estimated_total_seconds();
    let short_warning = script
        .warnings
        .iter()
        .any(|w| w.kind == WarningKind::TotalTooShort && w.options == ["accept", "regenerate"]);
    assert!(
        total <= s.target_max_seconds,
        "total {total:.1} s over the maximum"
    );
    assert!(
        total >= s.target_min_seconds || short_warning,
        "total {total:.1} s under the minimum without a warning"
    );
}

fn assert_metadata(script: &Script) {
    script.validate().unwrap();
    assert!(!script.title.trim().is_empty() && script.title.chars().count() <= 100);
    assert!(script.description.contains("ytmaker"));
    assert!(
        !script.tags.is_empty() && script.tags.len() <= 15,
        "{:?}",
        script.tags
    );
    assert!(
        script
            .tags
            .iter()
            .all(|t| !t.is_empty() && t.chars().count() <= 30)
    );
    assert!(script.intro.estimated_seconds > 0.0 && script.outro.estimated_seconds > 0.0);
    let max = match script.language {
        Language::ZhTw => KEY_PHRASE_MAX_CJK,
        Language::En => KEY_PHRASE_MAX_LATIN,
    };
    for seg in &script.segments {
        assert!(
            !seg.key_phrase.is_empty() && seg.key_phrase.chars().count() <= max,
            "key phrase {:?}",
            seg.key_phrase
        );
        assert!(!seg.image_description.is_empty());
        assert!(
            squash(&seg.narration).contains(&squash(&seg.image_description)),
            "the image shows a sentence of its segment"
        );
    }
}

fn check_article(name: &str, language: Language) -> Script {
    let text = article(name);
    let script = write_script(&text);
    assert_eq!(script.language, language);
    assert_lengths_and_warnings(&script);
    assert_narration_is_the_article(&text, &script);
    assert_metadata(&script);
    assert_eq!(
        script,
        write_script(&text),
        "the same text gives the same script"
    );
    script
}

#[test]
fn unseen_chinese_article() {
    let script = check_article("zh-TW-unseen.txt", Language::ZhTw);
    assert!(
        script.segments.len() >= 20,
        "{} segments",
        script.segments.len()
    );
    assert!(script.intro.text.starts_with("歡迎收看"));
}

#[test]
fn unseen_english_article() {
    let script = check_article("en-unseen.txt", Language::En);
    assert!(script.intro.text.starts_with("Welcome."));
    // Abbreviations and decimals stay inside their sentences.
    for seg in &script.segments {
        for bad in ["Dr.", "e.g.", " U.S."] {
            assert!(
                !split_sentences(&seg.narration)
                    .iter()
                    .any(|s| s.ends_with(bad)),
                "a sentence ends at {bad:?}: {}",
                seg.narration
            );
        }
    }
    let all = script
        .segments
        .iter()
        .map(|s| s.narration.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(all.contains("Dr. Ames from the mainland"));
    assert!(all.contains("about 2.08 times the square root"));
    assert!(all.contains("roughly 11.4 nautical miles"));
    assert!(all.contains("In the U.S., lighthouses"));
}

#[test]
fn sample_article() {
    check_article("article-zh-TW.txt", Language::ZhTw);
}

#[test]
fn a_long_article_is_condensed_in_order() {
    let text = article("zh-TW-long.txt");
    let script = write_script(&text);
    assert_lengths_and_warnings(&script);
    let c = script.condensation.as_ref().expect("condensation recorded");
    assert!(c.kept_sentences < c.original_sentences && c.kept_chars < c.original_chars);
    assert!(c.original_chars > 8000, "{c:?}");
    assert!((c.kept_ratio - c.kept_chars as f64 / c.original_chars as f64).abs() < 1e-9);
    let used = assert_narration_is_the_article(&text, &script);
    assert_eq!(used, c.kept_sentences);
    assert!(
        script.estimated_total_seconds() >= 400.0,
        "a long article fills most of the allowed time"
    );
    assert!(script.description.contains("節錄"));
    assert_eq!(script, write_script(&text));
}

#[test]
fn a_short_article_is_warned_about_not_padded() {
    let text = "颱風是熱帶氣旋的一種。它帶來豐沛的雨水，補充水庫與地下水，卻也可能造成嚴重的災害。";
    let script = write_script(text);
    assert_lengths_and_warnings(&script);
    assert_eq!(assert_narration_is_the_article(text, &script), 2);
    assert!(
        script
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::TotalTooShort)
    );
}

#[test]
fn a_lone_short_segment_gets_a_warning_with_options() {
    // Two sentences of about three seconds: one segment under the minimum, nothing to merge with.
    let script = write_script("颱風來了。請小心。");
    let w = script
        .warnings
        .iter()
        .find(|w| w.kind == WarningKind::SegmentTooShort)
        .expect("warning");
    assert_eq!(w.segment_index, Some(0));
    assert_eq!(w.options, ["accept", "split_merge", "regenerate"]);
}

#[test]
fn a_very_long_sentence_is_split_at_its_commas() {
    let clause = "颱風帶來強風與豪雨，";
    let sentence = format!("{}最後終於離開了。", clause.repeat(20));
    let script = write_script(&sentence);
    assert!(script.segments.len() >= 2);
    for seg in &script.segments {
        assert!(
            seg.estimated_seconds <= 20.0,
            "{:.1} s",
            seg.estimated_seconds
        );
    }
    assert_eq!(
        squash(
            &script
                .segments
                .iter()
                .map(|s| s.narration.as_str())
                .collect::<String>()
        ),
        squash(&sentence)
    );
}

#[test]
fn a_faster_voice_makes_fewer_longer_segments_of_the_same_text() {
    let text = article("zh-TW-unseen.txt");
    let fast = NarrationSettings {
        speaking_rate: 1.5,
        ..NarrationSettings::default()
    };
    let quick = write_script_with(&text, &ScriptSettings::default(), &fast);
    let normal = write_script(&text);
    assert!(quick.segments.len() < normal.segments.len());
    assert!(
        quick.condensation.is_none(),
        "at 1.5× the whole article fits"
    );
    assert_narration_is_the_article(&text, &quick);
}

#[test]
fn empty_text_has_no_content() {
    for text in ["", "   \n\t  ", "<p> </p>\n\n---\n", "```\ncode\n```"] {
        let settings = ScriptSettings::default();
        let narration = NarrationSettings::default();
        let err = RuleBasedScriptWriter::new()
            .write(&ScriptRequest {
                text,
                settings: &settings,
                narration: &narration,
                name_hint: None,
                prompt: None,
            })
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::SCRIPT_NO_CONTENT, "{text:?}");
    }
}

#[test]
fn a_title_like_project_name_is_used_when_the_article_has_no_heading() {
    let settings = ScriptSettings::default();
    let narration = NarrationSettings::default();
    let text = article("zh-TW-unseen.txt");
    let script = RuleBasedScriptWriter::new()
        .write(&ScriptRequest {
            text: &text,
            settings: &settings,
            narration: &narration,
            name_hint: Some("認識颱風"),
            prompt: None,
        })
        .unwrap();
    assert_eq!(script.title, "認識颱風");
    let script = RuleBasedScriptWriter::new()
        .write(&ScriptRequest {
            text: &text,
            settings: &settings,
            narration: &narration,
            name_hint: Some("zh-TW-unseen.txt"),
            prompt: None,
        })
        .unwrap();
    assert_ne!(script.title, "zh-TW-unseen.txt");
}
