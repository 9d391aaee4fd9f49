//! Quotas through the service: `GET /api/v1/quotas` counts today's YouTube units from the call
//! records, and a start whose estimate exceeds what is left is refused with `QUOTA_INSUFFICIENT`
//! before anything is queued or called.

mod common;

use serde_json::{Value, json};

use common::{Options, article, spawn_app};
use ytmaker_core::quota::QuotaLimits;
use ytmaker_fake_cloud::FakeCloud;
use ytmaker_store::{ProviderCall, now_ms};

fn youtube_call(units: u64) -> ProviderCall {
    ProviderCall {
        at_ms: now_ms(),
        api: "youtube".into(),
        endpoint: "channels.list".into(),
        status: Some(200),
        error_code: None,
        duration_ms: 80,
        quota_units: units,
        project_id: None,
        trace_id: None,
    }
}

#[tokio::test]
async fn a_start_needing_more_youtube_units_than_remain_is_refused_before_anything_runs() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let app = spawn_app(Options {
        cloud_url: Some(cloud.url()),
        quotas: Some(QuotaLimits {
            youtube_units_per_day: 1_000,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await;
    // 980 units were used today; publishing needs thumbnails.set (50 units).
    app.store
        .record_provider_call(&youtube_call(980))
        .await
        .unwrap();
    let quotas = app.json("/api/v1/quotas").await;
    let youtube = quotas["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["provider"] == "youtube")
        .unwrap()
        .clone();
    assert_eq!(
        (&youtube["used"], &youtube["limit"], &youtube["remaining"]),
        (&json!(980), &json!(1000), &json!(20)),
        "{youtube}"
    );
    assert_eq!(youtube["source"], "local");

    let created = app
        .post(
            "/api/v1/projects",
            &json!({
                "content": article(),
                "configuration": { "providers": { "publish": "youtube" } },
            }),
        )
        .await;
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_str().unwrap();

    let refused = app
        .post(&format!("/api/v1/projects/{id}/start"), &json!({}))
        .await;
    assert_eq!(refused.status(), 429);
    let body: Value = refused.json().await.unwrap();
    let error = &body["error"];
    assert_eq!(error["code"], "QUOTA_INSUFFICIENT", "{body}");
    assert_eq!(error["is_retryable"], false);
    assert_eq!(error["details"]["provider"], "youtube");
    assert_eq!(error["details"]["needed"], 50);
    assert_eq!(error["details"]["remaining"], 20);
    assert_eq!(error["details"]["resets_at"], youtube["resets_at"]);
    assert!(!error["solutions"].as_array().unwrap().is_empty());

    let project = app.json(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(project["status"], "INITIALIZED");
    assert!(project["job"].is_null(), "nothing was queued: {project}");
    assert!(cloud.calls().is_empty(), "no provider was called");

    // A local project needs no quota and starts.
    let local = app
        .post(
            "/api/v1/projects",
            &json!({ "content": article(), "start": true }),
        )
        .await;
    assert_eq!(local.status(), 201, "{}", local.text().await.unwrap());
}

#[tokio::test]
async fn a_project_within_the_limits_is_queued() {
    let app = spawn_app(Options {
        quotas: Some(QuotaLimits {
            youtube_units_per_day: 1_000,
            ..Default::default()
        }),
        ..Default::default()
    })
    .await;
    app.store
        .record_provider_call(&youtube_call(900))
        .await
        .unwrap();
    let created: Value = app
        .post(
            "/api/v1/projects",
            &json!({
                "content": article(),
                "configuration": { "providers": { "publish": "youtube" } },
            }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let started = app
        .post(&format!("/api/v1/projects/{id}/start"), &json!({}))
        .await;
    assert_eq!(started.status(), 202, "{}", started.text().await.unwrap());
}
