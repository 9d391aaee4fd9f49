//! The worker pool picks up work that arrives after it has been idle for a long time, without an
//! in-process wake-up (as when another process queued it) — the failure reported against
//! apalis-sqlite in long-running servers. Run on both backends.

mod common;

use std::time::Duration;

use serde_json::Value;
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::{ErrorCode, TraceId};
use ytmaker_pipeline::WorkerConfig;
use ytmaker_store::{JobQueue, NewProject};

use common::{Options, spawn_app};

async fn idle_worker_picks_up_late_work(postgres: bool) {
    let app = spawn_app(Options {
        workers: Some(WorkerConfig {
            workers: 2,
            poll: Duration::from_millis(200),
            ..Default::default()
        }),
        postgres,
        ..Default::default()
    })
    .await;
    // Idle for many poll intervals first.
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Queued behind the server's back: no wake-up, only polling can find it. Its article is too
    // short, so the run ends at once, FAILED with the input code — enough to prove it ran.
    let project = app
        .store
        .create_project(&NewProject {
            name: "late".into(),
            content: "short".into(),
            configuration: ProjectConfig::default(),
        })
        .await
        .unwrap();
    let trace = TraceId::generate();
    app.store.enqueue(project.id, &trace).await.unwrap();
    let id = project.id.to_string();
    let p: Value = app
        .wait_for(&id, Duration::from_secs(20), |p| p["status"] == "FAILED")
        .await;
    assert_eq!(
        p["error_info"]["error_code"],
        ErrorCode::INPUT_TOO_SHORT.as_str()
    );
    assert_eq!(p["error_info"]["trace_id"], trace.as_str());
    assert!(
        app.store.live_job(project.id).await.unwrap().is_none(),
        "job closed"
    );
    let stats = app.store.stats().await.unwrap();
    assert_eq!((stats.queued, stats.running), (0, 0));
    // Retrying it would fail the same way (the article cannot change), so it is refused.
    let r = app
        .post(
            &format!("/api/v1/projects/{id}/retry"),
            &serde_json::json!({}),
        )
        .await;
    assert_eq!(r.status(), 409);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["details"]["failed_stage"], "input");
    app.server.unwrap().stop().await.unwrap();
}

#[tokio::test]
async fn an_idle_worker_picks_up_late_work_on_sqlite() {
    idle_worker_picks_up_late_work(false).await;
}

#[tokio::test]
async fn an_idle_worker_picks_up_late_work_on_postgres() {
    idle_worker_picks_up_late_work(true).await;
}
