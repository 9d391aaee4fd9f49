//! `ytmaker errors`, `ytmaker explain` and `ytmaker doctor` against the real binary.

mod common;

use std::collections::BTreeSet;

use common::TestEnv;
use ytmaker_core::ErrorCode;
use ytmaker_core::error::Lang;

#[test]
fn errors_lists_every_catalogued_code_once() {
    let env = TestEnv::new();
    let run = env.run(&["errors"]);
    run.assert_ok();
    let listed: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| {
            ErrorCode::parse(w).is_some()
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .collect();
    let listed_set: BTreeSet<&str> = listed.iter().copied().collect();
    let all: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        listed.len(),
        listed_set.len(),
        "a code is listed twice:\n{}",
        run.stdout
    );
    let missing: Vec<_> = all.difference(&listed_set).collect();
    assert!(
        missing.is_empty(),
        "`ytmaker errors` leaves out {missing:?}\n{}",
        run.stdout
    );
    assert_eq!(listed_set, all);
    // Each row carries the code's HTTP status and its English title.
    for &code in ErrorCode::ALL {
        let spec = code.spec();
        let row = run
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(code.as_str()))
            .unwrap();
        assert!(
            row.contains(&spec.http_status.to_string()),
            "{code}: no HTTP status in {row:?}"
        );
        assert!(
            row.contains(spec.guide(Lang::En).title),
            "{code}: no title in {row:?}"
        );
    }
}

#[test]
fn explain_prints_the_solutions_of_a_code() {
    let env = TestEnv::new();
    let run = env.run(&["explain", "DID_QUOTA_EXCEEDED"]);
    run.assert_ok();
    let guide = ErrorCode::DID_QUOTA_EXCEEDED.spec().guide(Lang::En);
    assert!(
        run.stdout.contains("DID_QUOTA_EXCEEDED"),
        "{}",
        run.describe()
    );
    assert!(run.stdout.contains(guide.title), "{}", run.describe());
    assert!(guide.solutions.len() >= 3);
    for s in guide.solutions {
        assert!(
            run.stdout.contains(s),
            "solution {s:?} not printed\n{}",
            run.describe()
        );
    }
    assert!(
        run.stdout.contains("402"),
        "HTTP status not printed\n{}",
        run.describe()
    );
    // Lower case is accepted too.
    env.run(&["explain", "did_quota_exceeded"]).assert_ok();
}

#[test]
fn explain_follows_ytmaker_lang() {
    let env = TestEnv::new();
    let run = env.run_with(
        &["explain", "FFMPEG_NOT_FOUND"],
        &[("YTMAKER_LANG", "zh-TW")],
    );
    run.assert_ok();
    let zh = ErrorCode::FFMPEG_NOT_FOUND.spec().guide(Lang::ZhTw);
    assert!(run.stdout.contains(zh.title), "{}", run.describe());
    assert!(
        !run.stdout
            .contains(ErrorCode::FFMPEG_NOT_FOUND.spec().guide(Lang::En).title),
        "{}",
        run.describe()
    );
}

#[test]
fn explain_of_an_unknown_code_exits_3() {
    let env = TestEnv::new();
    let run = env.run(&["explain", "NOPE"]);
    assert_eq!(run.code(), Some(3), "{}", run.describe());
    assert!(run.stderr.contains("NOPE"), "{}", run.describe());
    assert!(!run.stderr.contains("panicked"), "{}", run.describe());
}

#[test]
fn doctor_passes_on_this_machine() {
    let env = TestEnv::new();
    let run = env.run(&["doctor"]);
    assert_eq!(run.code(), Some(0), "{}", run.describe());
    for what in [
        "ffmpeg",
        "ffprobe",
        "font",
        "font (bold)",
        "espeak-ng",
        "disk",
        "database",
    ] {
        let ok = run.stdout.lines().any(|l| {
            l.contains("ok")
                && !l.contains("FAIL")
                && l.split(']')
                    .nth(1)
                    .is_some_and(|rest| rest.trim_start().starts_with(what))
        });
        assert!(ok, "no ok line for {what}\n{}", run.describe());
    }
    assert!(!run.stdout.contains("FAIL"), "{}", run.describe());
    assert!(
        env.db_path().is_file(),
        "doctor should have opened (created) the database"
    );
}

#[test]
fn doctor_fails_when_ffmpeg_is_missing() {
    let env = TestEnv::new();
    let missing = env.tmp.path().join("no-ffmpeg");
    let run = env.run_with(
        &["doctor"],
        &[("YTMAKER_FFMPEG", missing.to_str().unwrap())],
    );
    assert_ne!(
        run.code(),
        Some(0),
        "doctor must not pass without ffmpeg\n{}",
        run.describe()
    );
    let line = run
        .stdout
        .lines()
        .find(|l| l.contains("ffmpeg"))
        .unwrap_or_else(|| panic!("no ffmpeg line\n{}", run.describe()));
    assert!(
        line.contains("FAIL") && line.contains("FFMPEG_NOT_FOUND"),
        "{line}"
    );
}
