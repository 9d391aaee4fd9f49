//! The whole service path: a project created over HTTP with the offline providers, followed over
//! the WebSocket to `complete`, its video downloaded (whole and by range) and checked with
//! ffprobe. A second socket opened mid-run, and a third that reconnects with `after_seq`, end in
//! exactly the same state as the one that watched from the start.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use common::{Options, article, spawn_app};
use ytmaker_pipeline::WorkerConfig;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str) -> Socket {
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket");
    socket
}

async fn next_message(socket: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(300), socket.next())
            .await
            .expect("a message within 300 s")
            .expect("socket open")
            .expect("valid frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// A client's state: the snapshot, then every message applied in order.
#[derive(Debug, Default, PartialEq)]
struct ClientState {
    status: Value,
    percent: f64,
    stages: serde_json::Map<String, Value>,
    result: Value,
    last_seq: i64,
}

impl ClientState {
    fn apply(&mut self, m: &Value) {
        if let Some(seq) = m["seq"].as_i64() {
            self.last_seq = self.last_seq.max(seq);
        }
        match m["type"].as_str().unwrap() {
            "snapshot" => {
                let s = &m["state"];
                self.status = s["status"].clone();
                self.percent = s["percent"].as_f64().unwrap();
                self.stages = s["stages"].as_object().unwrap().clone();
                if !s["result"].is_null() {
                    self.result = json!({ "location": s["result"]["location"] });
                }
            }
            "progress" => {
                self.status = m["status"].clone();
                self.percent = m["percent"].as_f64().unwrap();
            }
            "stage" => {
                self.stages
                    .insert(m["stage"].as_str().unwrap().into(), m["state"].clone());
            }
            "complete" => self.result = json!({ "location": m["result"]["location"] }),
            _ => {}
        }
    }
}

async fn follow_to_complete(mut socket: Socket, state: &mut ClientState, seen: &mut Vec<Value>) {
    loop {
        let m = next_message(&mut socket).await;
        state.apply(&m);
        seen.push(m.clone());
        assert_ne!(m["type"], "error", "run failed: {m}");
        if m["type"] == "complete" {
            return;
        }
    }
}

#[tokio::test]
async fn a_project_made_over_http_is_followed_to_complete_and_downloaded() {
    let app = spawn_app(Options {
        workers: Some(WorkerConfig {
            workers: 1,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await;
    let created = app
        .client
        .post(app.url("/api/v1/projects"))
        .header("x-trace-id", "wstrace000000000000000001")
        .json(&json!({ "content": article(), "name": "Tide pools", "start": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let ws = app.ws_url(&format!("/api/v1/projects/{id}/progress"));

    let mut first = connect(&ws).await;
    let snapshot = next_message(&mut first).await;
    assert_eq!(snapshot["type"], "snapshot");
    let mut a = ClientState::default();
    a.apply(&snapshot);
    let mut a_seen = vec![snapshot];
    // Watch until the render stage starts, then open the second socket mid-run.
    loop {
        let m = next_message(&mut first).await;
        a.apply(&m);
        a_seen.push(m.clone());
        assert_ne!(m["type"], "error", "run failed: {m}");
        if m["type"] == "stage" && m["stage"] == "render" && m["state"] == "started" {
            break;
        }
    }
    let mid_seq = a.last_seq;
    let second = connect(&ws).await;
    let mut b = ClientState::default();
    let mut b_seen = Vec::new();
    let (_, _) = tokio::join!(
        follow_to_complete(first, &mut a, &mut a_seen),
        follow_to_complete(second, &mut b, &mut b_seen),
    );
    assert_eq!(b_seen[0]["type"], "snapshot");
    assert!(
        b_seen[0]["seq"].as_i64().unwrap() >= mid_seq,
        "second socket joined mid-run"
    );
    assert!(b_seen[0]["state"]["percent"].as_f64().unwrap() >= 50.0);
    assert_eq!(a, b, "both sockets end in the same state");
    assert_eq!(a.status, "COMPLETED");
    assert_eq!(a.percent, 100.0);
    assert_eq!(a.stages.len(), 5);
    assert!(a.stages.values().all(|s| s == "finished"));
    // Every kind of message the run produces was seen, each with the run's trace id.
    for kind in ["snapshot", "progress", "stage", "log", "complete"] {
        assert!(
            a_seen.iter().any(|m| m["type"] == kind),
            "no {kind} message"
        );
    }
    assert!(
        a_seen
            .iter()
            .skip(1)
            .all(|m| m["trace_id"] == "wstrace000000000000000001")
    );
    // Progress never goes backwards for a watcher.
    let percents: Vec<f64> = a_seen
        .iter()
        .filter(|m| m["type"] == "progress")
        .map(|m| m["percent"].as_f64().unwrap())
        .collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "{percents:?}");
    // Sub-progress is real: the render stage reports seconds rendered of the total.
    assert!(
        a_seen
            .iter()
            .any(|m| m["type"] == "progress" && m["sub_progress"]["unit"] == "s")
    );

    // A client that reconnects saying what it saw gets the snapshot and the missed events.
    let mut third = connect(&format!("{ws}?after_seq={mid_seq}")).await;
    let snap = next_message(&mut third).await;
    let mut c = ClientState::default();
    c.apply(&snap);
    assert_eq!(snap["state"]["status"], "COMPLETED");
    let missed = (snap["seq"].as_i64().unwrap() - mid_seq) as usize;
    let mut replayed = 0;
    while replayed < missed {
        let m = tokio::time::timeout(Duration::from_secs(5), next_message(&mut third)).await;
        let Ok(m) = m else { break };
        assert_eq!(m["replay"], true);
        assert!(m["seq"].as_i64().unwrap() > mid_seq);
        replayed += 1;
        if m["seq"] == snap["seq"] {
            break;
        }
    }
    assert!(replayed > 0, "missed events were replayed");
    assert_eq!(c.status, a.status);
    assert_eq!(c.stages, a.stages);

    // The result and its files.
    let result = app.json(&format!("/api/v1/projects/{id}/result")).await;
    let video = app.get(result["video_url"].as_str().unwrap()).await;
    assert_eq!(video.status(), 200);
    assert_eq!(video.headers()["content-type"], "video/mp4");
    assert_eq!(video.headers()["accept-ranges"], "bytes");
    let video_last_modified = video
        .headers()
        .get("last-modified")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = video.bytes().await.unwrap();
    assert_eq!(bytes.len() as u64, result["video_bytes"].as_u64().unwrap());
    let part = app
        .client
        .get(app.url(result["video_url"].as_str().unwrap()))
        .header("range", "bytes=100-1099")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-1099/{}", bytes.len())
    );
    assert_eq!(part.bytes().await.unwrap(), bytes.slice(100..1100));
    // A Range that is not one well-formed byte range is ignored (RFC 9110 §14.2): the whole file,
    // where tower-http's ServeFile alone would answer 416.
    for ignored in ["bytes=5-1", "bytes=0-1,5-6", "items=0-1"] {
        let whole = app
            .client
            .get(app.url(result["video_url"].as_str().unwrap()))
            .header("range", ignored)
            .send()
            .await
            .unwrap();
        assert_eq!(whole.status(), 200, "{ignored}");
        assert_eq!(whole.bytes().await.unwrap().len(), bytes.len(), "{ignored}");
    }
    // ServeFile's conditional requests: unchanged since it was sent, nothing is sent again.
    let last_modified = video_last_modified.expect("Last-Modified");
    let unchanged = app
        .client
        .get(app.url(result["video_url"].as_str().unwrap()))
        .header("if-modified-since", last_modified)
        .send()
        .await
        .unwrap();
    assert_eq!(unchanged.status(), 304);
    let downloaded = app.data.root().join("downloaded.mp4");
    std::fs::write(&downloaded, &bytes).unwrap();
    let info = ytmaker_render::probe(&app.tools, &downloaded)
        .await
        .expect("valid media");
    let v = info.video.expect("video stream");
    assert_eq!((v.codec.as_str(), v.width, v.height), ("h264", 1920, 1080));
    assert!((v.fps - 30.0).abs() < 0.01);
    assert_eq!(info.audio.expect("audio").codec, "aac");
    assert!(info.duration_s > 20.0, "{}", info.duration_s);
    let thumb = app.get(result["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let srt = app
        .get(result["subtitles_url"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(srt.contains("-->"));

    // The events endpoint folds to the same state; the job is closed.
    let events = app.json(&format!("/api/v1/projects/{id}/events")).await;
    assert_eq!(events["view"]["status"], "COMPLETED");
    let project = app.json(&format!("/api/v1/projects/{id}")).await;
    assert!(project["job"].is_null());
    assert_eq!(project["trace_id"], "wstrace000000000000000001");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("ytmaker_jobs_total{outcome=\"done\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ytmaker_stage_duration_seconds_bucket{stage=\"render\""),
        "{metrics}"
    );
    app.server.unwrap().stop().await.unwrap();
}

#[tokio::test]
async fn pause_stops_a_running_project_and_resume_finishes_it() {
    let app = spawn_app(Options {
        workers: Some(WorkerConfig {
            workers: 1,
            lease: Duration::from_secs(3),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await;
    let id = app.start_and_wait_for("ASSETS_GENERATING").await;
    let paused = app
        .post(&format!("/api/v1/projects/{id}/pause"), &json!({}))
        .await;
    assert_eq!(paused.status(), 202);
    let p = app
        .wait_for(&id, Duration::from_secs(60), |p| p["status"] == "PAUSED")
        .await;
    assert!(p["job"].is_null(), "the job is closed once paused: {p}");
    let assets_at_pause = app.json(&format!("/api/v1/projects/{id}/assets")).await;
    // Pause lets the steps in flight finish: nothing is left half-made.
    assert!(
        assets_at_pause["assets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "COMPLETED"),
        "{assets_at_pause}"
    );
    assert!(assets_at_pause["completed"].as_u64().unwrap() > 0);

    let resumed = app
        .post(&format!("/api/v1/projects/{id}/resume"), &json!({}))
        .await;
    assert_eq!(resumed.status(), 202);
    app.wait_for(&id, Duration::from_secs(300), |p| {
        p["status"] == "COMPLETED" || p["status"] == "FAILED"
    })
    .await;
    let after = app.json(&format!("/api/v1/projects/{id}/assets")).await;
    let attempts = |v: &Value, key: &Value| {
        v["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| &a["key"] == key)
            .map(|a| a["attempts"].clone())
    };
    for a in assets_at_pause["assets"].as_array().unwrap() {
        if a["status"] == "COMPLETED" {
            assert_eq!(
                attempts(&after, &a["key"]),
                Some(a["attempts"].clone()),
                "an asset completed before the pause was made again: {a}"
            );
        }
    }
    let project = app.json(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(project["status"], "COMPLETED", "{project}");
    // Nothing was made twice: in-flight assets finished before the pause, the rest after.
    for a in after["assets"].as_array().unwrap() {
        assert_eq!(a["attempts"], 1, "{a}");
    }
    // Cancel of a finished project is refused.
    let r = app
        .post(&format!("/api/v1/projects/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn cancel_stops_a_running_project_and_keeps_what_was_made() {
    let app = spawn_app(Options {
        workers: Some(WorkerConfig {
            workers: 1,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await;
    let id = app.start_and_wait_for("ASSETS_GENERATING").await;
    let r = app
        .post(&format!("/api/v1/projects/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(r.status(), 202);
    let p = app
        .wait_for(&id, Duration::from_secs(30), |p| p["status"] == "CANCELLED")
        .await;
    assert!(p["job"].is_null());
    // The script that was made is still there and downloadable.
    let script = app
        .get(&format!("/api/v1/projects/{id}/files/script"))
        .await;
    assert_eq!(script.status(), 200);
    // A cancelled project cannot be resumed or cancelled again.
    for action in ["resume", "cancel", "start"] {
        let r = app
            .post(&format!("/api/v1/projects/{id}/{action}"), &json!({}))
            .await;
        assert_eq!(r.status(), 409, "{action}");
    }
    // Deleting it with its files removes the folder.
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/projects/{id}?delete_files=true")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(!app.data.project(id.parse().unwrap()).root().exists());
    let r = app.get(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(r.status(), 404);
}
