//! Acceptance: an unseen English article becomes a finished video with the default target length.

mod common;

use common::{fixture, generate_and_check};
use ytmaker_core::script::Language;

#[test]
fn an_unseen_english_article_becomes_a_finished_video() {
    let g = generate_and_check(&fixture("en-unseen.txt"));
    let script = g.project.script.as_ref().unwrap();
    assert_eq!(
        script.language,
        Language::En,
        "the script's language follows the article"
    );
    assert!(
        script.segments.len() >= 9,
        "{} segments for a ~750-word article",
        script.segments.len()
    );
    // English narration is spoken at English speed: words, not characters, set the length.
    assert!(
        (120.0..=600.0).contains(&g.narration_s),
        "narration lasts {:.1} s",
        g.narration_s
    );
    // English subtitles keep the spaces between words.
    let srt = std::fs::read_to_string(g.dir.join("output/subtitles.srt")).unwrap();
    let cues = common::parse_srt(&srt).unwrap();
    assert!(
        cues.iter().filter(|c| c.text.contains(' ')).count() * 2 > cues.len(),
        "most English cues should have spaces"
    );
    // Logs: this run's trace id everywhere.
    let lines = g.env.log_lines();
    assert!(lines.iter().all(|l| l["trace_id"] == g.trace.as_str()));
}
