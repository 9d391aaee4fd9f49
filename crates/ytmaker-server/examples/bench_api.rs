//! API latency with 10,000 projects (SPEC §10: list/get under 50 ms p99; WebSocket progress within
//! 250 ms of the event). Prints percentiles and ratios measured in one run, so a noisy machine
//! shifts all numbers together: list and get against a route that touches no database, and the
//! WebSocket delivery time against its 100 ms poll interval.
//!
//! `cargo run --release -p ytmaker-server --example bench_api [PROJECTS]`

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use ytmaker_core::TraceId;
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::error::Lang;
use ytmaker_render::Toolchain;
use ytmaker_server::ServerConfig;
use ytmaker_store::{DataDir, NewProject, Store};

const SAMPLES: usize = 400;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn time_requests(client: &reqwest::Client, urls: &[String]) -> Vec<f64> {
    let mut ms = Vec::with_capacity(urls.len());
    for url in urls {
        let started = Instant::now();
        let r = client.get(url).send().await.expect("request");
        assert!(r.status().is_success(), "{url}: {}", r.status());
        r.bytes().await.expect("body");
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    ms
}

#[tokio::main]
async fn main() {
    let projects: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("PROJECTS is a number"))
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(&Store::sqlite_url(&dir.path().join("bench.db")))
        .await
        .expect("store");
    let content = "Benchmark article text. ".repeat(40);
    let seeding = Instant::now();
    let mut ids = Vec::with_capacity(projects);
    for n in 0..projects {
        let p = store
            .create_project(&NewProject {
                name: format!("project {n}"),
                content: content.clone(),
                configuration: ProjectConfig::default(),
            })
            .await
            .expect("seed");
        ids.push(p.id);
    }
    eprintln!(
        "seeded {projects} projects in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );
    let server = ytmaker_server::start(ServerConfig {
        bind: "127.0.0.1".parse().expect("ip"),
        port: 0,
        token: None,
        store: store.clone(),
        data: DataDir::new(dir.path()),
        tools: Toolchain::locate().expect("FFmpeg"),
        lang: Lang::En,
        default_config: ProjectConfig::default(),
        workers: None,
        ui_dir: None,
        cloud: ytmaker_pipeline::CloudAccess::from_env(&DataDir::new(dir.path())).expect("cloud"),
        retry_delay_scale: ytmaker_providers::retry::DelayScale::default(),
        monitoring: ytmaker_monitor::MonitorConfig {
            interval_seconds: 0,
            ..Default::default()
        },
        quotas: Default::default(),
    })
    .await
    .expect("server");
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();

    let baseline: Vec<String> = (0..SAMPLES)
        .map(|_| format!("{base}/api/v1/system/errors/NOT_FOUND"))
        .collect();
    let list: Vec<String> = (0..SAMPLES)
        .map(|i| {
            format!(
                "{base}/api/v1/projects?limit=50&offset={}",
                (i * 37) % projects.max(1)
            )
        })
        .collect();
    let get: Vec<String> = (0..SAMPLES)
        .map(|i| format!("{base}/api/v1/projects/{}", ids[(i * 7919) % ids.len()]))
        .collect();
    time_requests(&client, &baseline[..50]).await; // warm-up
    let base_ms = time_requests(&client, &baseline).await;
    let list_ms = time_requests(&client, &list).await;
    let get_ms = time_requests(&client, &get).await;

    // WebSocket: time from an event being stored to the message arriving.
    let target = ids[0];
    let (mut socket, _) = tokio_tungstenite::connect_async(format!(
        "ws://{}/api/v1/projects/{target}/progress",
        server.addr
    ))
    .await
    .expect("websocket");
    socket.next().await.expect("snapshot").expect("frame");
    let trace = TraceId::generate();
    let mut ws_ms = Vec::new();
    for i in 0..60 {
        let line = ytmaker_core::event::ProjectEvent::Log {
            level: ytmaker_core::event::LogLevel::Info,
            message: format!("bench {i}"),
            note: None,
        };
        let started = Instant::now();
        store
            .append_event(target, &line, &trace)
            .await
            .expect("event");
        let msg = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("message within 5 s")
            .expect("open")
            .expect("frame");
        assert!(msg.is_text());
        ws_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        // Land at different points of the poll interval.
        tokio::time::sleep(Duration::from_millis(37)).await;
    }
    ws_ms.sort_by(|a, b| a.total_cmp(b));

    println!("projects in database     {projects}");
    println!("{:<24} {:>8} {:>8}", "ms", "p50", "p99");
    for (name, v) in [
        ("baseline (no database)", &base_ms),
        ("list 50", &list_ms),
        ("get one", &get_ms),
        ("websocket delivery", &ws_ms),
    ] {
        println!(
            "{name:<24} {:>8.2} {:>8.2}",
            percentile(v, 0.5),
            percentile(v, 0.99)
        );
    }
    let b99 = percentile(&base_ms, 0.99);
    println!(
        "list p99 / baseline p99  {:.2}",
        percentile(&list_ms, 0.99) / b99
    );
    println!(
        "get p99 / baseline p99   {:.2}",
        percentile(&get_ms, 0.99) / b99
    );
    println!(
        "list p99 / 50 ms target  {:.2}",
        percentile(&list_ms, 0.99) / 50.0
    );
    println!(
        "get p99 / 50 ms target   {:.2}",
        percentile(&get_ms, 0.99) / 50.0
    );
    println!(
        "ws p99 / 250 ms target   {:.2}",
        percentile(&ws_ms, 0.99) / 250.0
    );
    server.stop().await.expect("stop");
}
