//! `ytmaker serve` as a process: three projects run at once over HTTP, the server is killed with
//! SIGKILL in the middle of their assets/render stages and started again on the same data, and
//! every project completes with each asset made exactly once. Their log lines separate cleanly by
//! trace id and project id.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use common::TestEnv;

struct Server {
    child: Child,
    base: String,
}

fn start_server(env: &TestEnv) -> Server {
    let mut cmd = env.command(&["serve", "--port", "0", "--workers", "3"]);
    cmd.env("YTMAKER_JOB_LEASE_MS", "2000")
        .env("YTMAKER_RENDER__X264_PRESET", "ultrafast")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawn ytmaker serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("address line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    Server { child, base }
}

async fn get(client: &reqwest::Client, url: String) -> Value {
    let r = client
        .get(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().await.unwrap()
}

/// Per asset key: (status, attempts).
async fn assets(client: &reqwest::Client, base: &str, id: &str) -> BTreeMap<String, (String, u64)> {
    let v = get(client, format!("{base}/api/v1/projects/{id}/assets")).await;
    v["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["key"].to_string(),
                (
                    a["status"].as_str().unwrap().to_owned(),
                    a["attempts"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_killed_server_resumes_three_projects_without_redoing_completed_assets() {
    let env = TestEnv::new();
    let server = start_server(&env);
    let client = reqwest::Client::new();
    let article = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/short-en.txt"),
    )
    .unwrap();
    let mut projects: Vec<(String, String)> = Vec::new(); // (id, trace)
    for n in 0..3 {
        let trace = format!("restarttrace{n:020}");
        let r = client
            .post(format!("{}/api/v1/projects", server.base))
            .header("x-trace-id", &trace)
            .json(&json!({ "content": article, "name": format!("p{n}"), "start": true }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let v: Value = r.json().await.unwrap();
        projects.push((v["id"].as_str().unwrap().to_owned(), trace));
    }

    // Kill once every project is in its assets or render stage with some assets completed.
    let started = Instant::now();
    let mut before: HashMap<String, BTreeMap<String, (String, u64)>> = HashMap::new();
    loop {
        let mut ready = 0;
        for (id, _) in &projects {
            let p = get(&client, format!("{}/api/v1/projects/{id}", server.base)).await;
            let a = assets(&client, &server.base, id).await;
            let done = a.values().filter(|(s, _)| s == "COMPLETED").count();
            if (p["status"] == "ASSETS_GENERATING" || p["status"] == "RENDERING") && done >= 2 {
                ready += 1;
            }
            assert_ne!(p["status"], "FAILED", "{p}");
            before.insert(id.clone(), a);
        }
        if ready == projects.len() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "projects never got going"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut server = server;
    server.child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    server.child.wait().expect("reaped");

    let restarted = start_server(&env);
    let started = Instant::now();
    for (id, _) in &projects {
        loop {
            let p = get(&client, format!("{}/api/v1/projects/{id}", restarted.base)).await;
            if p["status"] == "COMPLETED" {
                break;
            }
            assert_ne!(p["status"], "FAILED", "{p}");
            assert!(
                started.elapsed() < Duration::from_secs(600),
                "not completed after restart: {p}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    for (id, _) in &projects {
        let after = assets(&client, &restarted.base, id).await;
        for (key, (status, attempts)) in &before[id] {
            if status == "COMPLETED" {
                assert_eq!(
                    after.get(key),
                    Some(&(status.clone(), *attempts)),
                    "asset {key} of {id} completed before the kill was made again"
                );
            }
        }
        assert!(after.values().all(|(s, _)| s == "COMPLETED"));
        // Each asset was completed exactly once over both server lives.
        let events = get(
            &client,
            format!("{}/api/v1/projects/{id}/events", restarted.base),
        )
        .await;
        let mut completions: HashMap<String, u32> = HashMap::new();
        for e in events["events"].as_array().unwrap() {
            if e["kind"] == "asset" && e["payload"]["status"] == "COMPLETED" {
                let key = format!("{}/{}", e["payload"]["kind"], e["payload"]["index"]);
                *completions.entry(key).or_default() += 1;
            }
        }
        assert!(!completions.is_empty());
        assert!(completions.values().all(|n| *n == 1), "{completions:?}");
        // The final video is valid.
        let result = get(
            &client,
            format!("{}/api/v1/projects/{id}/result", restarted.base),
        )
        .await;
        assert!(result["video_bytes"].as_u64().unwrap() > 100_000);
    }

    // Log lines: every line about a project carries that project's trace id, and no line with a
    // project's trace id names another project.
    let traces: HashMap<&str, &str> = projects
        .iter()
        .map(|(id, t)| (t.as_str(), id.as_str()))
        .collect();
    let ids: HashMap<&str, &str> = projects
        .iter()
        .map(|(id, t)| (id.as_str(), t.as_str()))
        .collect();
    let lines = env.log_lines();
    let mut per_project: HashMap<&str, usize> = HashMap::new();
    for line in &lines {
        let project = line["project_id"].as_str();
        let trace = line["trace_id"].as_str();
        if let Some(p) = project.filter(|p| ids.contains_key(p)) {
            assert_eq!(
                trace,
                Some(ids[p]),
                "line about {p} has another trace: {line}"
            );
            *per_project.entry(p).or_default() += 1;
        }
        if let Some(t) = trace.filter(|t| traces.contains_key(t))
            && let Some(p) = project
        {
            assert_eq!(
                p, traces[t],
                "line with trace {t} names another project: {line}"
            );
        }
    }
    for (id, _) in &projects {
        assert!(
            per_project.get(id.as_str()).copied().unwrap_or(0) > 20,
            "few lines for {id}"
        );
    }
    let mut restarted = restarted;
    restarted.child.kill().expect("stop");
    restarted.child.wait().expect("reaped");
}
