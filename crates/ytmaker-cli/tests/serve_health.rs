//! Health reports real checks: with the narration engine missing, `ytmaker serve` answers
//! `unhealthy` (503) and names the catalogued code of the failed check.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::TestEnv;

#[tokio::test]
async fn a_missing_narration_engine_makes_the_server_unhealthy() {
    let env = TestEnv::new();
    let mut cmd = env.command(&["serve", "--port", "0", "--workers", "1"]);
    cmd.env("YTMAKER_ESPEAK", "/nonexistent/espeak-ng")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawn serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("address line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .expect("address")
        .to_owned();
    let r = reqwest::get(format!("{base}/api/v1/system/health"))
        .await
        .expect("health");
    assert_eq!(r.status(), 503);
    let health: serde_json::Value = r.json().await.expect("json");
    child.kill().expect("stop");
    child.wait().expect("reaped");
    assert_eq!(health["status"], "unhealthy", "{health}");
    let providers = &health["checks"]["providers"];
    assert_eq!(providers["status"], "failed");
    assert_eq!(providers["details"]["error_code"], "TTS_ENGINE_NOT_FOUND");
    // The other checks still report on their own.
    assert_eq!(health["checks"]["database"]["status"], "ok");
    assert_eq!(health["checks"]["ffmpeg"]["status"], "ok");
}
