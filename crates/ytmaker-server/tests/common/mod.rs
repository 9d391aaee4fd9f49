//! `spawn_app()`: a real server on a random port over a fresh data directory (SQLite by default,
//! a fresh PostgreSQL database with `YTMAKER_TEST_BACKEND=postgres`), with real FFmpeg and the
//! offline providers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::error::Lang;
use ytmaker_monitor::MonitorConfig;
use ytmaker_pipeline::WorkerConfig;
use ytmaker_render::Toolchain;
use ytmaker_server::{RunningServer, ServerConfig};
use ytmaker_store::{DataDir, Store};

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    pub store: Store,
    /// The store's database (SQLite or PostgreSQL), for tests that must change a row the API
    /// offers no way to change (e.g. back-dating a project).
    pub database_url: String,
    pub data: DataDir,
    pub tools: Toolchain,
    pub server: Option<RunningServer>,
    _dir: tempfile::TempDir,
}

#[derive(Default)]
pub struct Options {
    pub workers: Option<WorkerConfig>,
    pub token: Option<String>,
    /// Run on a fresh PostgreSQL database instead of SQLite.
    pub postgres: bool,
    pub ui_dir: Option<PathBuf>,
    /// Point every cloud client at this base URL (a fake cloud).
    pub cloud_url: Option<String>,
    /// The `[monitoring]` settings (default: no evaluation loop).
    pub monitoring: Option<MonitorConfig>,
    /// The `[quotas]` settings (default: YouTube's allocation, no other limit).
    pub quotas: Option<ytmaker_core::quota::QuotaLimits>,
}

pub fn fast_config() -> ProjectConfig {
    let mut c = ProjectConfig::default();
    c.render.x264_preset = "ultrafast".into();
    c
}

async fn open_store(dir: &std::path::Path, postgres: bool) -> (Store, String) {
    if postgres || std::env::var("YTMAKER_TEST_BACKEND").as_deref() == Ok("postgres") {
        let admin_url = std::env::var("YTMAKER_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let name = format!("ytmaker_test_{}", uuid::Uuid::new_v4().simple());
        sqlx_create_db(&admin_url, &name).await;
        let base = admin_url.rsplit_once('/').unwrap().0;
        let url = format!("{base}/{name}");
        return (Store::open(&url).await.unwrap(), url);
    }
    let url = Store::sqlite_url(&dir.join("ytmaker.db"));
    (Store::open(&url).await.unwrap(), url)
}

async fn sqlx_create_db(admin_url: &str, name: &str) {
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(admin_url)
        .await
        .expect("PostgreSQL must be running (scripts/ensure-services.sh)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
}

pub async fn spawn_app(options: Options) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path().join("data"));
    std::fs::create_dir_all(data.root()).unwrap();
    let (store, database_url) = open_store(dir.path(), options.postgres).await;
    let tools = Toolchain::locate().expect("FFmpeg (run scripts/install-system-deps.sh)");
    let server = ytmaker_server::start(ServerConfig {
        bind: "127.0.0.1".parse().unwrap(),
        port: 0,
        token: options.token,
        store: store.clone(),
        data: data.clone(),
        tools: tools.clone(),
        lang: Lang::En,
        default_config: fast_config(),
        workers: options.workers,
        ui_dir: options.ui_dir,
        cloud: match &options.cloud_url {
            Some(url) => ytmaker_pipeline::CloudAccess::new(
                &data,
                ytmaker_providers::cloud::Endpoints::all_at(url),
                ytmaker_providers::cloud::Timeouts::default(),
            )
            .unwrap(),
            None => ytmaker_pipeline::CloudAccess::from_env(&data).unwrap(),
        },
        retry_delay_scale: ytmaker_providers::retry::DelayScale(0.0),
        // Tests evaluate alerts themselves (`Monitor::evaluate_once`) unless they ask for a loop.
        monitoring: options.monitoring.unwrap_or(MonitorConfig {
            interval_seconds: 0,
            ..Default::default()
        }),
        quotas: options.quotas.unwrap_or_default(),
    })
    .await
    .expect("server starts");
    let addr = server.addr;
    TestApp {
        addr,
        base: format!("http://{addr}"),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        store,
        database_url,
        data,
        tools,
        server: Some(server),
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.unwrap()
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    /// Creates a project from the test article with this configuration, started; returns its id.
    pub async fn create_started(&self, configuration: Value) -> String {
        let created = self
            .post(
                "/api/v1/projects",
                &serde_json::json!({ "content": article(), "configuration": configuration, "start": true }),
            )
            .await;
        assert_eq!(created.status(), 201, "create and start");
        let created: Value = created.json().await.unwrap();
        created["id"].as_str().unwrap().to_owned()
    }

    /// Stores a provider key through the API.
    pub async fn put_key(&self, provider: &str, value: &str) -> reqwest::Response {
        self.client
            .put(self.url(&format!("/api/v1/keys/{provider}")))
            .json(&serde_json::json!({ "value": value }))
            .send()
            .await
            .unwrap()
    }

    /// Creates and starts a project with the test article; returns its id once it reaches `status`.
    pub async fn start_and_wait_for(&self, status: &str) -> String {
        let id = self.create_started(serde_json::json!({})).await;
        self.wait_for(&id, Duration::from_secs(120), |p| p["status"] == status)
            .await;
        id
    }

    /// Polls the project until `done` says so (or panics after `limit`).
    pub async fn wait_for(
        &self,
        id: &str,
        limit: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let started = std::time::Instant::now();
        loop {
            let p = self.json(&format!("/api/v1/projects/{id}")).await;
            if done(&p) {
                return p;
            }
            assert!(started.elapsed() < limit, "timed out; last state: {p}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A server with one worker whose cloud clients all talk to a fresh fake cloud.
pub async fn cloud_app() -> (ytmaker_fake_cloud::FakeCloud, TestApp) {
    let cloud = ytmaker_fake_cloud::FakeCloud::start_local().await.unwrap();
    let app = spawn_app(Options {
        workers: Some(WorkerConfig {
            workers: 1,
            ..Default::default()
        }),
        cloud_url: Some(cloud.url()),
        ..Default::default()
    })
    .await;
    (cloud, app)
}

pub fn article() -> String {
    std::fs::read_to_string(fixture("short-en.txt")).unwrap()
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}
