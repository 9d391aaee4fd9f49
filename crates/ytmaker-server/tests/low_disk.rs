//! A simulated full disk (the render floor raised above what any disk has, through
//! `YTMAKER_MIN_FREE_BYTES`) raises the P0 `disk_critical` alert, makes the service unhealthy,
//! and a started project fails with DISK_SPACE_INSUFFICIENT before any stage runs: no asset, no
//! provider call. Its own test binary, because the floor is process-wide.

mod common;

use std::time::Duration;

use serde_json::{Value, json};

use common::{Options, spawn_app};
use ytmaker_fake_cloud::FakeCloud;
use ytmaker_monitor::{Monitor, MonitorConfig, MonitorContext};
use ytmaker_pipeline::{MIN_FREE_BYTES_ENV, WorkerConfig};
use ytmaker_store::now_ms;

#[tokio::test]
async fn a_full_disk_raises_disk_critical_and_refuses_a_start_before_any_work() {
    // SAFETY: the only test of this binary; set before anything reads the environment.
    unsafe { std::env::set_var(MIN_FREE_BYTES_ENV, (u64::MAX / 2).to_string()) };
    let cloud = FakeCloud::start_local().await.unwrap();
    let app = spawn_app(Options {
        workers: Some(WorkerConfig {
            workers: 1,
            ..Default::default()
        }),
        cloud_url: Some(cloud.url()),
        ..Default::default()
    })
    .await;
    let stored = app
        .client
        .put(app.url("/api/v1/keys/stability"))
        .json(&json!({ "value": "sk-api-test-stability-77aa" }))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);

    let monitor = Monitor::new(MonitorContext {
        store: app.store.clone(),
        data: app.data.clone(),
        tools: Ok(app.tools.clone()),
        quotas: None,
        config: MonitorConfig {
            interval_seconds: 0,
            ..Default::default()
        },
        retry_delay_scale: ytmaker_providers::retry::DelayScale(0.0),
    })
    .unwrap();
    let evaluation = monitor.evaluate_once(now_ms()).await.unwrap();
    let rules: Vec<&str> = evaluation.opened.iter().map(|a| a.rule.as_str()).collect();
    assert_eq!(rules, ["disk_critical"], "disk_low is implied, not doubled");
    let alert = &evaluation.opened[0];
    assert_eq!(alert.priority, "P0");
    assert_eq!(alert.subject, "disk");
    assert_eq!(alert.details["code"], "DISK_SPACE_INSUFFICIENT");
    assert_eq!(alert.details["render_refused"], true);

    let health = app.get("/api/v1/system/health").await;
    assert_eq!(health.status(), 503);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["checks"]["disk"]["status"], "failed");
    assert_eq!(health["checks"]["alerts"]["status"], "failed");

    let id = app
        .create_started(json!({ "providers": { "images": "stability" } }))
        .await;
    let failed = app
        .wait_for(&id, Duration::from_secs(60), |p| p["status"] == "FAILED")
        .await;
    assert_eq!(
        failed["error_info"]["error_code"], "DISK_SPACE_INSUFFICIENT",
        "{failed}"
    );
    assert_eq!(failed["error_info"]["stage"], "script");
    let project_id = id.parse().unwrap();
    assert!(app.store.assets(project_id).await.unwrap().is_empty());
    assert!(cloud.calls().is_empty(), "{:?}", cloud.calls());
    let events = app.store.events_since(project_id, 0).await.unwrap();
    assert!(
        !events.iter().any(|e| e.kind == "stage"),
        "no stage started: {events:?}"
    );

    // Evaluated again, the same alert is still the only one (bumped, not duplicated).
    let again = monitor.evaluate_once(now_ms()).await.unwrap();
    assert!(again.opened.is_empty());
    assert_eq!(again.open.len(), 1);
    assert!(again.open[0].occurrences >= 2);
}
