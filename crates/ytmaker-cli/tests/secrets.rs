//! Secrets never reach logs, stdout, stderr or the database (SPEC §7, §8).

mod common;

use std::path::Path;

use common::{Run, TestEnv, sample_article};

const SECRETS: &[(&str, &str)] = &[
    ("YTMAKER_GEMINI_API_KEY", "sk-test-SECRET123-gemini"),
    ("GEMINI_API_KEY", "AIzaSyFAKE-SECRET-gemini-2"),
    ("GOOGLE_API_KEY", "AIzaSyFAKE-SECRET-google"),
    ("YTMAKER_STABILITY_API_KEY", "sk-FAKE-SECRET-stability"),
    ("STABILITY_API_KEY", "sk-FAKE-SECRET-stability-2"),
    ("YTMAKER_DID_API_KEY", "ZmFrZQ-SECRET-did"),
    ("DID_API_KEY", "ZmFrZQ-SECRET-did-2"),
    ("YTMAKER_TTS_API_KEY", "AIzaSyFAKE-SECRET-tts"),
    ("YOUTUBE_CLIENT_SECRET", "GOCSPX-FAKE-SECRET-youtube"),
    (
        "YTMAKER_YOUTUBE_REFRESH_TOKEN",
        "1//FAKE-SECRET-refresh-token",
    ),
];

fn leaks_in(text: &str, secrets: &[&str]) -> Vec<String> {
    secrets
        .iter()
        .filter(|s| text.contains(*s))
        .map(|s| s.to_string())
        .collect()
}

/// Every file below `dir` (logs, database, project files) that contains one of `secrets`.
fn files_leaking(dir: &Path, secrets: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                let text = String::from_utf8_lossy(&bytes);
                for s in leaks_in(&text, secrets) {
                    found.push(format!("{} contains {s}", p.display()));
                }
            }
        }
    }
    found
}

fn assert_no_leak(run: &Run, secrets: &[&str]) {
    let leaks = [
        leaks_in(&run.stdout, secrets),
        leaks_in(&run.stderr, secrets),
    ]
    .concat();
    assert!(
        leaks.is_empty(),
        "`ytmaker {}` printed secrets {leaks:?}\n{}",
        run.args,
        run.describe()
    );
}

#[test]
fn api_keys_in_the_environment_never_reach_output_logs_or_the_database() {
    let mut env = TestEnv::new();
    for (k, v) in SECRETS {
        env.set_env(k, v);
    }
    let secrets: Vec<&str> = SECRETS.iter().map(|(_, v)| *v).collect();
    let short = env.write_file("short.txt", "颱風是熱帶氣旋的一種。".repeat(20));

    // A refused input, and a run that gets through the script stage before failing; both with the
    // JSON log lines on stdout as well.
    let refused = env.run(&[
        "--log-json",
        "generate",
        short.to_str().unwrap(),
        "--offline",
    ]);
    assert_eq!(refused.code(), Some(3), "{}", refused.describe());
    let full_disk = env.run_with(
        &[
            "--log-json",
            "generate",
            sample_article().to_str().unwrap(),
            "--offline",
        ],
        &[("YTMAKER_MIN_FREE_BYTES", "999999999999999")],
    );
    assert_eq!(full_disk.code(), Some(6), "{}", full_disk.describe());
    let doctor = env.run(&["--log-json", "doctor"]);
    let list = env.run(&["projects", "list"]);
    let trace = full_disk.trace_id();
    let logs = env.run(&["logs", "--trace", &trace]);
    for run in [&refused, &full_disk, &doctor, &list, &logs] {
        assert_no_leak(run, &secrets);
    }

    // Logs were written (so there was something to leak into): both failures, with their codes,
    // the disk failure attributed to the script stage it stopped.
    let lines = env.log_lines();
    assert!(lines.len() >= 8, "only {} log lines", lines.len());
    assert!(
        lines.iter().any(|l| l["error_code"] == "INPUT_TOO_SHORT"),
        "the refused input was not logged"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["error_code"] == "DISK_SPACE_INSUFFICIENT"),
        "the disk failure was not logged"
    );
    assert!(
        lines.iter().any(|l| l["stage"] == "script"),
        "no script-stage lines"
    );
    assert!(
        full_disk
            .stdout
            .lines()
            .filter(|l| l.starts_with('{'))
            .count()
            >= 2,
        "--log-json printed no log lines\n{}",
        full_disk.describe()
    );
    // The disk is checked before the first stage, so that run logs its request and its failure.
    assert!(logs.stdout.lines().count() >= 2, "{}", logs.describe());

    let leaks = files_leaking(&env.data, &secrets);
    assert!(leaks.is_empty(), "{leaks:#?}");
}

/// A database URL carries a password; errors and `doctor` show it redacted.
#[test]
fn a_database_password_is_redacted_in_errors() {
    let password = "pw-SECRET-db-987";
    let mut env = TestEnv::new();
    env.set_env(
        "YTMAKER_DATABASE_URL",
        &format!("postgres://ytuser:{password}@127.0.0.1:1/ytmaker"),
    );
    // Each waits out the pool's connect timeout; run them side by side.
    let (generate, doctor) = std::thread::scope(|s| {
        let doctor = s.spawn(|| env.run(&["doctor"]));
        let generate = env.run(&[
            "--log-json",
            "generate",
            sample_article().to_str().unwrap(),
            "--offline",
        ]);
        (generate, doctor.join().expect("doctor thread"))
    });
    assert_eq!(
        generate.code(),
        Some(6),
        "an unreachable database is a storage error\n{}",
        generate.describe()
    );
    assert!(
        generate.stderr.contains("error[DATABASE_ERROR]"),
        "{}",
        generate.describe()
    );
    // The URL is shown so the user knows which database, but without the password.
    assert!(
        generate
            .stderr
            .contains("postgres://ytuser:***@127.0.0.1:1/ytmaker"),
        "{}",
        generate.describe()
    );
    assert_no_leak(&generate, &[password]);

    assert_ne!(
        doctor.code(),
        Some(0),
        "doctor must fail without its database\n{}",
        doctor.describe()
    );
    assert!(
        doctor
            .stdout
            .lines()
            .any(|l| l.contains("FAIL") && l.contains("database")),
        "{}",
        doctor.describe()
    );
    assert_no_leak(&doctor, &[password]);

    let leaks = files_leaking(&env.data, &[password]);
    assert!(leaks.is_empty(), "{leaks:#?}");
}

/// The server's access token, sent right and wrong in headers and query strings, never reaches
/// the logs, the responses or the data directory; a client log posted by the UI does reach the
/// log with its trace id.
#[tokio::test]
async fn the_server_token_never_leaks() {
    use std::io::{BufRead, BufReader};
    const TOKEN: &str = "srv-SECRET-token-7f3a9c";
    const WRONG: &str = "srv-SECRET-wrong-11aa22";
    let env = TestEnv::new();
    let mut cmd = env.command(&["serve", "--port", "0", "--workers", "0", "--log-json"]);
    cmd.env("YTMAKER_SERVER_TOKEN", TOKEN)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn serve");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    loop {
        line.clear();
        stdout.read_line(&mut line).expect("read");
        assert!(!line.is_empty(), "server exited before listening");
        if let Some(addr) = line.trim().strip_prefix("listening on ") {
            line = addr.to_owned();
            break;
        }
    }
    let base = line;
    let client = reqwest::Client::new();
    let mut bodies = String::new();
    for (auth, query) in [
        (Some(TOKEN), ""),
        (Some(WRONG), ""),
        (None, "?access_token=srv-SECRET-wrong-11aa22"),
        (None, "?access_token=srv-SECRET-token-7f3a9c"),
    ] {
        let mut req = client.get(format!("{base}/api/v1/system/stats{query}"));
        if let Some(t) = auth {
            req = req.bearer_auth(t);
        }
        let r = req.send().await.expect("request");
        bodies.push_str(&format!("{:?}", r.headers()));
        bodies.push_str(&r.text().await.expect("body"));
    }
    let logged = client
        .post(format!("{base}/api/v1/system/client-logs"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({
            "level": "error", "message": "the upload dialog failed", "trace_id": "uitrace0000000000000000000000042",
            "error_code": "YOUTUBE_UPLOAD_FAILED", "context": "result page"
        }))
        .send()
        .await
        .expect("client log");
    assert_eq!(logged.status(), 202);
    child.kill().expect("stop server");
    child.wait().expect("reaped");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("stdout");
    let secrets = [TOKEN, WRONG];
    assert!(
        leaks_in(&bodies, &secrets).is_empty(),
        "responses leak: {bodies}"
    );
    assert!(leaks_in(&rest, &secrets).is_empty(), "stdout leaks");
    let leaks = files_leaking(&env.data, &secrets);
    assert!(leaks.is_empty(), "{leaks:?}");
    let lines = env.log_lines();
    let ui = lines
        .iter()
        .find(|l| l["trace_id"] == "uitrace0000000000000000000000042")
        .expect("the client log reached the server log");
    assert_eq!(ui["level"], "error");
    assert_eq!(ui["error_code"], "YOUTUBE_UPLOAD_FAILED");
    assert_eq!(ui["source"], "ui");
    assert!(
        lines.iter().any(|l| l["error_code"] == "UNAUTHORIZED"),
        "refused requests are logged with their code"
    );
}
