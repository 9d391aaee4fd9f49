//! Alerts from real failures against the fake cloud: an invalid key raises one P0 alert however
//! often it is refused, and the webhook (a local receiver in the test) gets it once; six Stability
//! failures in a row raise the P1 "consecutive failures" alert and a success resolves it; a
//! webhook that is down is retried a bounded number of times, logged with ALERT_WEBHOOK_FAILED,
//! and never becomes an alert of its own; the daily summary lists what happened.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use common::{Options, TestApp, cloud_app, spawn_app};
use ytmaker_fake_cloud::{Api, Fault};
use ytmaker_monitor::{Monitor, MonitorConfig, MonitorContext};
use ytmaker_store::{AlertState, Delivery, now_ms};

const INVALID_KEY: &str = "invalid-key-for-the-monitor-test-9f3c";
const STABILITY_KEY: &str = "sk-api-test-stability-77aa";

/// A Slack-compatible webhook receiver: records every body; answers 503 while `down`.
#[derive(Clone, Default)]
struct Receiver {
    bodies: Arc<Mutex<Vec<Value>>>,
    down: bool,
}

async fn receive(State(r): State<Receiver>, Json(body): Json<Value>) -> StatusCode {
    r.bodies.lock().unwrap().push(body);
    if r.down {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    }
}

impl Receiver {
    async fn start(down: bool) -> (Receiver, String) {
        let receiver = Receiver {
            bodies: Arc::default(),
            down,
        };
        let app = axum::Router::new()
            .route(
                "/hooks/T000/s3cr3t-path-token",
                axum::routing::post(receive),
            )
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (
            receiver,
            format!("http://{addr}/hooks/T000/s3cr3t-path-token"),
        )
    }

    fn texts(&self) -> Vec<String> {
        self.bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// The monitor as the server's loop runs it, against the app's database, posting to `webhook`.
fn monitor_for(app: &TestApp, webhook: &str) -> Monitor {
    Monitor::new(MonitorContext {
        store: app.store.clone(),
        data: app.data.clone(),
        tools: Ok(app.tools.clone()),
        quotas: None,
        config: MonitorConfig {
            interval_seconds: 0,
            webhook_url: Some(webhook.to_owned()),
            // Percentages of this machine's real disk must not open alerts in these tests.
            disk_critical_percent: 0.0,
            disk_low_percent: 0.0,
        },
        retry_delay_scale: ytmaker_providers::retry::DelayScale(0.0),
    })
    .unwrap()
}

async fn test_key(app: &TestApp, provider: &str) -> reqwest::StatusCode {
    app.post(&format!("/api/v1/keys/{provider}/test"), &json!({}))
        .await
        .status()
}

/// A project whose images come from Stability AI (everything else local), run to its end.
async fn run_stability_project(app: &TestApp) -> Value {
    let id = app
        .create_started(json!({ "providers": { "images": "stability" } }))
        .await;
    app.wait_for(&id, Duration::from_secs(240), |p| {
        p["status"] == "FAILED" || p["status"] == "COMPLETED"
    })
    .await
}

async fn alerts(app: &TestApp, state: &str) -> Vec<Value> {
    app.json(&format!("/api/v1/alerts?state={state}")).await["alerts"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn an_invalid_key_raises_one_p0_alert_and_one_webhook_post() {
    let (receiver, hook) = Receiver::start(false).await;
    let (_cloud, app) = cloud_app().await;
    assert_eq!(app.put_key("stability", INVALID_KEY).await.status(), 200);
    // Refused through the key test, then by two projects' image calls.
    for _ in 0..3 {
        assert_eq!(test_key(&app, "stability").await, 401);
    }
    for _ in 0..2 {
        let p = run_stability_project(&app).await;
        assert_eq!(p["status"], "FAILED", "{p}");
        assert_eq!(
            p["error_info"]["error_code"], "STABILITY_INVALID_API_KEY",
            "{p}"
        );
    }
    let monitor = monitor_for(&app, &hook);
    let first = monitor.evaluate_once(now_ms()).await.unwrap();
    assert_eq!(first.opened.len(), 1, "{:?}", first.opened);
    // Evaluated again (the loop's next tick): nothing new, nothing posted again.
    let second = monitor.evaluate_once(now_ms()).await.unwrap();
    assert!(second.opened.is_empty() && second.resolved.is_empty());

    let open = alerts(&app, "open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    let alert = &open[0];
    assert_eq!(alert["rule"], "provider_key_invalid");
    assert_eq!(alert["priority"], "P0");
    assert_eq!(alert["subject"], "stability");
    assert_eq!(alert["state"], "open");
    assert_eq!(alert["details"]["code"], "STABILITY_INVALID_API_KEY");
    assert!(alert["occurrences"].as_u64().unwrap() >= 2, "{alert}");
    assert!(alert["resolved_at"].is_null());
    assert!(
        !open
            .iter()
            .any(|a| a["rule"] == "provider_consecutive_failures"),
        "the key is the cause; the failures in a row are not a second alert"
    );

    let posts = receiver.texts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(
        posts[0].contains("[P0]")
            && posts[0].contains("provider_key_invalid")
            && posts[0].contains("stability"),
        "{}",
        posts[0]
    );
    let everything = serde_json::to_string(&*receiver.bodies.lock().unwrap()).unwrap();
    assert!(!everything.contains(INVALID_KEY));
    let stored = app
        .store
        .alert(alert["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap();
    assert_eq!(stored.open_delivery, Some(Delivery::Delivered));
    assert_eq!(stored.delivery_attempts, 1);

    // A restarted monitor (another process) does not post it again.
    monitor_for(&app, &hook)
        .evaluate_once(now_ms())
        .await
        .unwrap();
    assert_eq!(receiver.texts().len(), 1);

    // An open P0 makes the service unhealthy, and the monitoring page says so.
    let health = app.get("/api/v1/system/health").await;
    assert_eq!(health.status(), 503);
    let health: Value = health.json().await.unwrap();
    assert_eq!(health["status"], "unhealthy");
    assert_eq!(health["checks"]["alerts"]["status"], "failed");
    assert_eq!(health["checks"]["database"]["status"], "ok");
    let overview = app.json("/api/v1/monitoring").await;
    assert_eq!(overview["health"], "unhealthy");
    assert_eq!(overview["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(overview["apis"].as_array().unwrap().len(), 6);
    assert!(overview["disk"]["total_bytes"].as_u64().unwrap() > 0);
    assert!(overview["queue"]["queued"].is_i64());

    // Metrics: raised per rule, open per priority (the recorder is process-wide, so other tests
    // of this binary may add to the counts; presence is what this test can prove).
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("ytmaker_alerts_raised_total{rule=\"provider_key_invalid\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ytmaker_alerts_open{priority=\"P0\"}"),
        "{metrics}"
    );

    let bad = app.get("/api/v1/alerts?state=maybe").await;
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn six_stability_failures_in_a_row_raise_p1_and_a_success_resolves_it() {
    let (receiver, hook) = Receiver::start(false).await;
    let (cloud, app) = cloud_app().await;
    assert_eq!(app.put_key("stability", STABILITY_KEY).await.status(), 200);
    cloud.add_fault(Fault::error(Api::Stability, None, 500, None));
    while cloud
        .calls()
        .iter()
        .filter(|c| c.api == Api::Stability)
        .count()
        < 6
    {
        assert_eq!(test_key(&app, "stability").await, 500);
    }
    let monitor = monitor_for(&app, &hook);
    let opened = monitor.evaluate_once(now_ms()).await.unwrap().opened;
    assert_eq!(opened.len(), 1, "{opened:?}");
    assert_eq!(opened[0].rule, "provider_consecutive_failures");
    assert_eq!(opened[0].priority, "P1");
    assert_eq!(opened[0].subject, "stability");
    assert_eq!(opened[0].details["code"], "STABILITY_SERVER_ERROR");
    assert_eq!(receiver.texts().len(), 1);
    assert!(receiver.texts()[0].starts_with("[P1] provider_consecutive_failures"));
    // An open P1 degrades the service without making it unhealthy.
    let health: Value = app.json("/api/v1/system/health").await;
    assert_eq!(health["checks"]["alerts"]["status"], "degraded");

    // The provider recovers: one successful call resolves it, and the webhook hears it once.
    cloud.clear_faults();
    assert_eq!(test_key(&app, "stability").await, 200);
    let resolved = monitor.evaluate_once(now_ms()).await.unwrap().resolved;
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].state, AlertState::Resolved);
    monitor.evaluate_once(now_ms()).await.unwrap();
    let posts = receiver.texts();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[1].starts_with("[resolved] provider_consecutive_failures"));
    assert!(alerts(&app, "open").await.is_empty());
    let all = alerts(&app, "resolved").await;
    assert_eq!(all.len(), 1);
    assert!(all[0]["resolved_at"].is_string());

    // The summary on demand counts exactly these calls.
    let made = cloud
        .calls()
        .iter()
        .filter(|c| c.api == Api::Stability)
        .count() as u64;
    let summary = app.json("/api/v1/monitoring/summary").await;
    let stability = summary["apis"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["api"] == "stability")
        .unwrap()
        .clone();
    assert_eq!(stability["calls"], made, "{summary}");
    assert_eq!(stability["errors"], made - 1, "{summary}");
    assert!(stability["p99_ms"].is_u64());
    assert_eq!(summary["top_codes"][0]["code"], "STABILITY_SERVER_ERROR");
    assert_eq!(summary["top_codes"][0]["count"], made - 1);
    let text = summary["text"].as_str().unwrap();
    assert!(
        text.contains("STABILITY_SERVER_ERROR") && text.contains("(UTC)"),
        "{text}"
    );
    assert!(summary["date"].as_str().unwrap().len() == 10);
    let wrong = app.get("/api/v1/monitoring/summary?date=yesterday").await;
    assert_eq!(wrong.status(), 422);
}

#[tokio::test]
async fn a_webhook_that_is_down_is_given_up_logged_and_never_alerts_about_itself() {
    let logs = tempfile::tempdir().unwrap();
    ytmaker_telemetry::init(&ytmaker_telemetry::LogOptions {
        dir: logs.path().to_owned(),
        stdout: false,
        filter: "info".into(),
    })
    .unwrap();
    let (receiver, hook) = Receiver::start(true).await;
    let (_cloud, app) = cloud_app().await;
    assert_eq!(app.put_key("stability", INVALID_KEY).await.status(), 200);
    let p = run_stability_project(&app).await;
    assert_eq!(
        p["error_info"]["error_code"], "STABILITY_INVALID_API_KEY",
        "{p}"
    );

    let monitor = monitor_for(&app, &hook);
    let opened = monitor.evaluate_once(now_ms()).await.unwrap().opened;
    assert_eq!(opened.len(), 1);
    let policy = ytmaker_core::ErrorCode::ALERT_WEBHOOK_FAILED.spec().retry;
    let attempts = policy.max_retries as usize + 1;
    assert_eq!(receiver.texts().len(), attempts, "bounded by the catalogue");
    let stored = app.store.alert(opened[0].id).await.unwrap();
    assert_eq!(stored.open_delivery, Some(Delivery::Failed));
    assert_eq!(stored.delivery_attempts, attempts as u64);
    assert!(stored.delivery_error.unwrap().contains("503"));

    // The next evaluations neither post again nor raise anything about the webhook.
    for _ in 0..2 {
        let again = monitor.evaluate_once(now_ms()).await.unwrap();
        assert!(again.opened.is_empty(), "{:?}", again.opened);
    }
    assert_eq!(receiver.texts().len(), attempts);
    let all = alerts(&app, "all").await;
    assert_eq!(all.len(), 1, "{all:?}");

    let lines = ytmaker_telemetry::read_lines(
        logs.path(),
        &ytmaker_telemetry::LogFilter {
            error_code: Some("ALERT_WEBHOOK_FAILED".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let given_up: Vec<&String> = lines.iter().filter(|l| l.contains("given up")).collect();
    assert_eq!(given_up.len(), 1, "{lines:?}");
    assert!(
        given_up[0].contains("\"level\":\"error\""),
        "{}",
        given_up[0]
    );
    let everything = ytmaker_telemetry::read_lines(logs.path(), &Default::default())
        .unwrap()
        .join("\n");
    assert!(everything.contains("127.0.0.1"), "the host is named");
    assert!(
        !everything.contains("s3cr3t-path-token"),
        "the URL's path never is"
    );
    assert_eq!(
        lines.len(),
        attempts,
        "one warning per retry and the final error"
    );
}

#[tokio::test]
async fn yesterdays_summary_is_posted_once_as_a_p2_notice() {
    let (receiver, hook) = Receiver::start(false).await;
    let app = spawn_app(Options::default()).await;
    let now = now_ms();
    let yesterday_noon = (now / 86_400_000 - 1) * 86_400_000 + 12 * 3_600_000;
    for (code, status) in [
        (Some("DID_SERVER_ERROR"), Some(500)),
        (Some("DID_SERVER_ERROR"), Some(500)),
        (None, Some(200)),
    ] {
        app.store
            .record_provider_call(&ytmaker_store::ProviderCall {
                at_ms: yesterday_noon,
                api: "did".into(),
                endpoint: "talks.create".into(),
                status,
                error_code: code.map(str::to_owned),
                duration_ms: 1_200,
                quota_units: 0,
                project_id: None,
                trace_id: None,
            })
            .await
            .unwrap();
    }
    let monitor = monitor_for(&app, &hook);
    monitor.evaluate_once(now).await.unwrap();
    monitor.evaluate_once(now + 1_000).await.unwrap();
    // Another process (or a restart) does not post it again.
    monitor_for(&app, &hook)
        .evaluate_once(now + 2_000)
        .await
        .unwrap();
    let posts = receiver.texts();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let day = ytmaker_monitor::summary::yesterday(now).to_string();
    assert!(
        posts[0].starts_with(&format!("[P2] ytmaker daily summary for {day} (UTC)")),
        "{}",
        posts[0]
    );
    assert!(posts[0].contains("DID_SERVER_ERROR"), "{}", posts[0]);
    assert!(posts[0].contains("3 calls,  33.3 % ok"), "{}", posts[0]);
    // Nothing about yesterday is an alert.
    assert!(alerts(&app, "all").await.is_empty());
}

#[tokio::test]
async fn a_database_outage_is_posted_once_although_it_cannot_be_stored() {
    let (receiver, hook) = Receiver::start(false).await;
    let admin_url = std::env::var("YTMAKER_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("ytmaker_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("PostgreSQL must be running (scripts/ensure-services.sh)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let base = admin_url.rsplit_once('/').unwrap().0;
    let store = ytmaker_store::Store::open(&format!("{base}/{name}"))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let monitor = Monitor::new(MonitorContext {
        store,
        data: ytmaker_store::DataDir::new(dir.path()),
        tools: ytmaker_render::Toolchain::locate(),
        quotas: None,
        config: MonitorConfig {
            interval_seconds: 0,
            webhook_url: Some(hook),
            // Percentages of this machine's real disk must not open alerts in these tests.
            disk_critical_percent: 0.0,
            disk_low_percent: 0.0,
        },
        retry_delay_scale: ytmaker_providers::retry::DelayScale(0.0),
    })
    .unwrap();
    monitor.tick(now_ms()).await.unwrap();
    assert!(receiver.texts().is_empty());

    // The database goes away under the running monitor.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    for _ in 0..3 {
        let err = monitor.tick(now_ms()).await.unwrap_err();
        assert_eq!(err.code, ytmaker_core::ErrorCode::DATABASE_ERROR);
    }
    let posts = receiver.texts();
    assert_eq!(posts.len(), 1, "once per outage, not per tick: {posts:?}");
    assert!(
        posts[0].starts_with("[P0] database_down (database)"),
        "{}",
        posts[0]
    );
}
