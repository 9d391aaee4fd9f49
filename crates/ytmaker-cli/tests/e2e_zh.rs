//! Acceptance: an unseen Traditional Chinese article becomes a finished video with the default
//! target length, offline, through the real binary, ffmpeg and espeak-ng.

mod common;

use common::{Generated, fixture, generate_and_check};
use serde_json::Value;
use ytmaker_core::asset::AssetKind;
use ytmaker_core::script::{Language, Script, WarningKind};

const SEG_MIN: f64 = 5.0;
const SEG_MAX: f64 = 20.0;

fn segment_warned(script: &Script, index: u32) -> bool {
    script.warnings.iter().any(|w| {
        w.segment_index == Some(index)
            && matches!(
                w.kind,
                WarningKind::SegmentTooShort | WarningKind::SegmentTooLong
            )
            && !w.options.is_empty()
    })
}

/// The script's segments keep the 5–20 s rule, estimated and measured, or say where they do not.
pub fn check_segment_lengths(g: &Generated) {
    let script = g.project.script.as_ref().unwrap();
    let logs = g.env.log_lines();
    for seg in &script.segments {
        let est = seg.estimated_seconds;
        assert!(
            (SEG_MIN..=SEG_MAX).contains(&est) || segment_warned(script, seg.index),
            "segment {} is estimated at {est:.2} s and no warning says so",
            seg.index
        );
        // Measured after TTS: narration line index = segment index + 1.
        let audio = g
            .assets
            .iter()
            .find(|a| a.key.kind == AssetKind::Audio && a.key.index == Some(seg.index + 1))
            .unwrap_or_else(|| panic!("no narration for segment {}", seg.index));
        let measured = audio.metadata["duration_s"].as_f64().expect("duration_s");
        if !(SEG_MIN..=SEG_MAX).contains(&measured) {
            let logged = logs.iter().any(|l| {
                l["level"] == "warn" && l["segment_index"].as_u64() == Some(u64::from(seg.index))
            });
            assert!(
                segment_warned(script, seg.index) || logged,
                "segment {} measures {measured:.2} s (estimated {est:.2} s) and no warning says so",
                seg.index
            );
        }
    }
    // The whole video: 180–600 s by default, or a warning on the script.
    let total_warned = script.warnings.iter().any(|w| {
        matches!(
            w.kind,
            WarningKind::TotalTooShort | WarningKind::TotalTooLong
        )
    });
    assert!(
        (180.0..=600.0).contains(&g.narration_s) || total_warned,
        "narration lasts {:.1} s, outside 180–600 s, without a warning",
        g.narration_s
    );
}

#[test]
fn an_unseen_zh_tw_article_becomes_a_finished_video() {
    let g = generate_and_check(&fixture("zh-TW-unseen.txt"));
    let script = g.project.script.as_ref().unwrap();
    assert_eq!(script.language, Language::ZhTw);
    assert!(
        script.segments.len() >= 9,
        "{} segments for a ~2,300-character article",
        script.segments.len()
    );
    check_segment_lengths(&g);

    // Logs: every line is JSON (log_lines panics otherwise) and belongs to this run.
    let lines = g.env.log_lines();
    assert!(lines.len() >= 20, "only {} log lines", lines.len());
    for l in &lines {
        assert_eq!(
            l["trace_id"],
            g.trace.as_str(),
            "a line of this run without its trace id: {l}"
        );
        assert!(
            l["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')),
            "timestamp not RFC 3339 UTC: {l}"
        );
        assert!(l["level"].is_string() && l["message"].is_string(), "{l}");
        if let Some(p) = l.get("project_id") {
            assert_eq!(p, &Value::from(g.project.id.to_string()), "{l}");
        }
    }
    let ffmpeg: Vec<&Value> = lines.iter().filter(|l| l["tool"] == "ffmpeg").collect();
    assert!(!ffmpeg.is_empty(), "no ffmpeg log line");
    assert!(
        ffmpeg.iter().all(|l| l["duration_ms"].is_u64()),
        "an ffmpeg line without duration_ms: {ffmpeg:?}"
    );
    assert!(
        ffmpeg.iter().any(|l| l["purpose"] == "assemble"),
        "the final assembly is not logged"
    );
    for stage in ["script", "assets", "render", "thumbnail", "upload"] {
        assert!(
            lines.iter().any(|l| l["stage"] == stage),
            "no log line of stage {stage}"
        );
    }

    // `ytmaker logs --trace` prints exactly this run's lines.
    let logs = g.env.run(&["logs", "--trace", &g.trace]);
    logs.assert_ok();
    let printed: Vec<Value> = logs
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        printed.len() >= 10,
        "only {} lines for trace {}",
        printed.len(),
        g.trace
    );
    assert!(printed.iter().all(|l| l["trace_id"] == g.trace.as_str()));
    assert_eq!(
        printed.len(),
        lines.len(),
        "`logs --trace` should print every line of the run"
    );
    let other = g
        .env
        .run(&["logs", "--trace", "0123456789abcdef0123456789abcdef"]);
    other.assert_ok();
    assert_eq!(
        other.stdout.trim(),
        "",
        "lines of another trace were printed"
    );
}
