//! `ytmaker alerts` works without a server: it evaluates the rules itself. A simulated full disk
//! opens `disk_critical`; once the disk is fine again the next run resolves it; the summary and
//! the `[monitoring]` section of the settings file are read and checked.

mod common;

use common::TestEnv;
use serde_json::Value;

fn alerts_json(env: &TestEnv, args: &[&str], envs: &[(&str, &str)]) -> Vec<Value> {
    let run = env.run_with(args, envs);
    run.assert_ok();
    let parsed: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}", run.stdout);
    });
    parsed["alerts"].as_array().unwrap().clone()
}

#[test]
fn alerts_are_evaluated_listed_and_resolved_by_the_cli() {
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.data).unwrap();
    std::fs::write(
        env.data.join("config.toml"),
        "[monitoring]\ninterval_seconds = 10\n# the machine's real disk must not open alerts here\ndisk_critical_percent = 0.0\ndisk_low_percent = 0.0\n\n[subtitles]\nfont_size = 48\n",
    )
    .unwrap();

    let full = [("YTMAKER_MIN_FREE_BYTES", "999999999999999999")];
    let open = alerts_json(&env, &["alerts", "--json"], &full);
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["rule"], "disk_critical");
    assert_eq!(open[0]["priority"], "P0");
    assert_eq!(open[0]["state"], "open");
    // Run again: the same alert, not a second one.
    let again = alerts_json(&env, &["alerts", "--json"], &full);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0]["id"], open[0]["id"]);
    let table = env.run_with(&["alerts"], &full);
    table.assert_ok();
    assert!(
        table.stdout.contains("disk_critical") && table.stdout.contains("P0"),
        "{}",
        table.stdout
    );

    // The disk is fine again: resolved, and listed only with --all.
    assert!(alerts_json(&env, &["alerts", "--json"], &[]).is_empty());
    let all = alerts_json(&env, &["alerts", "--all", "--json"], &[]);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["state"], "resolved");
    assert!(all[0]["resolved_at"].is_string());

    let summary = env.run(&["alerts", "summary", "--json"]);
    summary.assert_ok();
    let summary: Value = serde_json::from_str(&summary.stdout).unwrap();
    assert_eq!(summary["apis"].as_array().unwrap().len(), 6);
    assert!(summary["text"].as_str().unwrap().contains("(UTC)"));
    let text = env.run(&["alerts", "summary", "--date", "2026-11-28"]);
    text.assert_ok();
    assert!(
        text.stdout
            .starts_with("ytmaker daily summary for 2026-11-28 (UTC)")
    );

    let bad_date = env.run(&["alerts", "summary", "--date", "28.11.2026"]);
    assert_eq!(bad_date.code(), Some(3));
    assert!(
        bad_date.stderr.contains("VALIDATION_ERROR"),
        "{}",
        bad_date.stderr
    );

    // A webhook that is not http(s) is refused, and its secret part is not echoed.
    std::fs::write(
        env.data.join("config.toml"),
        "[monitoring]\nwebhook_url = \"ftp://hooks.example/T0/s3cr3t\"\n",
    )
    .unwrap();
    let refused = env.run(&["alerts"]);
    assert_eq!(refused.code(), Some(3));
    assert!(
        refused.stderr.contains("CONFIG_INVALID"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("s3cr3t"), "{}", refused.stderr);
}
