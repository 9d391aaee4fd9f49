//! The system under test, for one sequence: a fresh data directory, the fake cloud in this
//! process, a real `ytmaker serve` process (killed with SIGKILL and started again on the same
//! data when the sequence says so) and real `ytmaker projects resume|retry` processes sharing the
//! same SQLite database. Everything is read back through the REST API, the WebSocket and the
//! database itself.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::Row;
use tempfile::TempDir;
use uuid::Uuid;
use ytmaker_fake_cloud::FakeCloud;

pub const BIN: &str = env!("CARGO_BIN_EXE_ytmaker");

/// The binary every process of this test runs: a hard link (or copy) of [`BIN`] taken once, so
/// that a rebuild of the shared target directory during a long run cannot mix two versions of
/// `ytmaker` in one sequence.
static PINNED: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Pins the binary into `dir` (which must outlive the test's processes).
pub fn pin_binary(dir: &std::path::Path) -> Result<(), String> {
    let pinned = dir.join("ytmaker");
    std::fs::hard_link(BIN, &pinned)
        .or_else(|_| std::fs::copy(BIN, &pinned).map(|_| ()))
        .map_err(|e| format!("pin {BIN}: {e}"))?;
    PINNED
        .set(pinned)
        .map_err(|_| "the binary was pinned twice".to_owned())
}

fn binary() -> PathBuf {
    PINNED.get().cloned().unwrap_or_else(|| PathBuf::from(BIN))
}

/// The four keyed cloud providers, as the keys API names them, and the values stored for them.
pub const KEYS: [(&str, &str); 4] = [
    ("gemini", "AIza-seams-gemini-0001"),
    ("google_tts", "AIza-seams-tts-0002"),
    ("stability", "sk-seams-stability-0003"),
    ("did", "c2VhbXMtZGlkOjAwMDQ="),
];

pub const YOUTUBE_CLIENT_ID: &str = "seams-model.apps.googleusercontent.com";

pub struct Server {
    child: Child,
    pub base: String,
    /// `host:port`, for the WebSocket.
    pub addr: String,
}

pub struct CliRun {
    pub child: Child,
    pub label: String,
    pub project: usize,
    pub out: PathBuf,
    pub exit: Option<Option<i32>>,
    pub killed: bool,
}

pub struct World {
    pub tmp: TempDir,
    pub data: PathBuf,
    pub cloud: FakeCloud,
    pub server: Option<Server>,
    pub clis: Vec<CliRun>,
    pub http: reqwest::Client,
    pub lease_ms: u64,
    spawned: usize,
}

/// An answer of the REST API: status and JSON body (Null when it had none).
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn code(&self) -> String {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub fn short(&self) -> String {
        if self.ok() {
            format!("{}", self.status)
        } else if self.status == 0 {
            format!("transport error: {}", self.body)
        } else {
            format!("{} {}", self.status, self.code())
        }
    }
}

impl World {
    pub async fn new(lease_ms: u64) -> Result<World, String> {
        let tmp = tempfile::Builder::new()
            .prefix("ytmaker-seams-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let data = tmp.path().join("data");
        std::fs::create_dir_all(&data).map_err(|e| format!("data dir: {e}"))?;
        let cloud = FakeCloud::start_local()
            .await
            .map_err(|e| format!("fake cloud: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| format!("http client: {e}"))?;
        let mut world = World {
            tmp,
            data,
            cloud,
            server: None,
            clis: Vec::new(),
            http,
            lease_ms,
            spawned: 0,
        };
        world.start_server().await?;
        Ok(world)
    }

    /// `ytmaker <args>` with a clean `YTMAKER_*` environment over this world's data and cloud.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary());
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("YTMAKER_") {
                cmd.env_remove(&key);
            }
        }
        cmd.env("YTMAKER_DATA_DIR", &self.data)
            .env("YTMAKER_LANG", "en")
            .env("NO_COLOR", "1")
            .env("YTMAKER_CLOUD_BASE_URL", self.cloud.url())
            // The catalogue's retry delays shrink; the number of attempts does not.
            .env("YTMAKER_RETRY_DELAY_SCALE", "0.01")
            .env("YTMAKER_JOB_LEASE_MS", self.lease_ms.to_string())
            .env("YTMAKER_JOB_POLL_MS", "100")
            .env("YTMAKER_RENDER__X264_PRESET", "ultrafast")
            .args(args)
            .stdin(Stdio::null());
        cmd
    }

    pub async fn start_server(&mut self) -> Result<(), String> {
        self.spawned += 1;
        let log = self
            .tmp
            .path()
            .join(format!("serve-{}.stderr", self.spawned));
        let stderr = std::fs::File::create(&log).map_err(|e| format!("{e}"))?;
        let mut child = self
            .command(&["serve", "--port", "0", "--workers", "2"])
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("spawn ytmaker serve: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let first = lines.next().and_then(Result::ok).unwrap_or_default();
            let _ = tx.send(first);
            for _ in lines {} // keep the pipe drained
        });
        let started = Instant::now();
        let line = loop {
            match rx.try_recv() {
                Ok(line) => break line,
                Err(std::sync::mpsc::TryRecvError::Empty) => {
                    if started.elapsed() > Duration::from_secs(60) {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err("ytmaker serve printed no address within 60 s".into());
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(_) => {
                    let _ = child.wait();
                    let err = std::fs::read_to_string(&log).unwrap_or_default();
                    return Err(format!(
                        "ytmaker serve ended at start: {}",
                        tail(&err, 2000)
                    ));
                }
            }
        };
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line of ytmaker serve: {line:?}"))?
            .to_owned();
        let addr = base.trim_start_matches("http://").to_owned();
        self.server = Some(Server { child, base, addr });
        Ok(())
    }

    /// SIGKILL (std's `kill` on Unix): no shutdown, no hand-back of jobs.
    pub fn kill_server(&mut self) -> bool {
        match self.server.take() {
            Some(mut s) => {
                let _ = s.child.kill();
                let _ = s.child.wait();
                true
            }
            None => false,
        }
    }

    pub fn server_alive(&mut self) -> bool {
        match &mut self.server {
            Some(s) => matches!(s.child.try_wait(), Ok(None)),
            None => false,
        }
    }

    pub fn base(&self) -> String {
        self.server
            .as_ref()
            .map(|s| s.base.clone())
            .unwrap_or_else(|| "http://127.0.0.1:9".into())
    }

    /// Starts `ytmaker <args>` in the background (a second runner).
    pub fn spawn_cli(&mut self, args: &[&str], project: usize) -> Result<(), String> {
        self.spawned += 1;
        let out = self.tmp.path().join(format!("cli-{}.out", self.spawned));
        let file = std::fs::File::create(&out).map_err(|e| format!("{e}"))?;
        let file2 = file.try_clone().map_err(|e| format!("{e}"))?;
        let child = self
            .command(args)
            .stdout(file)
            .stderr(file2)
            .spawn()
            .map_err(|e| format!("spawn ytmaker {}: {e}", args.join(" ")))?;
        self.clis.push(CliRun {
            child,
            label: args.join(" "),
            project,
            out,
            exit: None,
            killed: false,
        });
        Ok(())
    }

    /// Notes which CLI runs have ended.
    pub fn reap(&mut self) {
        for c in &mut self.clis {
            if c.exit.is_none()
                && let Ok(Some(status)) = c.child.try_wait()
            {
                c.exit = Some(status.code());
            }
        }
    }

    pub fn live_clis(&mut self) -> Vec<usize> {
        self.reap();
        (0..self.clis.len())
            .filter(|i| self.clis[*i].exit.is_none())
            .collect()
    }

    /// SIGKILL of the most recently started CLI run still alive; its project index.
    pub fn kill_cli(&mut self) -> Option<usize> {
        let live = self.live_clis();
        let i = *live.last()?;
        let c = &mut self.clis[i];
        let _ = c.child.kill();
        let _ = c.child.wait();
        c.exit = Some(None);
        c.killed = true;
        Some(c.project)
    }

    pub fn cli_output(&self, i: usize) -> String {
        std::fs::read_to_string(&self.clis[i].out).unwrap_or_default()
    }

    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> Answer {
        let url = format!("{}{path}", self.base());
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
        let mut req = self.http.request(m, &url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                Answer {
                    status,
                    body: serde_json::from_str(&text).unwrap_or(Value::Null),
                }
            }
            Err(e) => Answer {
                status: 0,
                body: json!(e.to_string()),
            },
        }
    }

    pub async fn put_bytes(&self, path: &str, content_type: &str, bytes: Vec<u8>) -> Answer {
        self.send_bytes(reqwest::Method::PUT, path, content_type, bytes)
            .await
    }

    pub async fn post_bytes(&self, path: &str, content_type: &str, bytes: Vec<u8>) -> Answer {
        self.send_bytes(reqwest::Method::POST, path, content_type, bytes)
            .await
    }

    async fn send_bytes(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Answer {
        let url = format!("{}{path}", self.base());
        match self
            .http
            .request(method, &url)
            .header("content-type", content_type)
            .body(bytes)
            .send()
            .await
        {
            Ok(r) => {
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                Answer {
                    status,
                    body: serde_json::from_str(&text).unwrap_or(Value::Null),
                }
            }
            Err(e) => Answer {
                status: 0,
                body: json!(e.to_string()),
            },
        }
    }

    /// Stores the four keys and links the fake YouTube channel through the server's own login.
    pub async fn set_up_accounts(&self) -> Result<(), String> {
        for (provider, key) in KEYS {
            let a = self
                .api(
                    "PUT",
                    &format!("/api/v1/keys/{provider}"),
                    Some(json!({ "value": key })),
                )
                .await;
            if !a.ok() {
                return Err(format!("PUT key {provider}: {}", a.short()));
            }
        }
        let started = self
            .api(
                "POST",
                "/api/v1/youtube/login",
                Some(json!({ "client_id": YOUTUBE_CLIENT_ID })),
            )
            .await;
        let url = started.body["authorize_url"]
            .as_str()
            .ok_or_else(|| format!("youtube login: {}", started.short()))?;
        let page = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("consent page: {e}"))?;
        if !page.status().is_success() {
            return Err(format!("youtube consent answered {}", page.status()));
        }
        Ok(())
    }

    pub async fn db(&self) -> Result<sqlx::AnyConnection, String> {
        sqlx::any::install_default_drivers();
        let url = format!(
            "sqlite://{}?mode=rw",
            self.data.join("ytmaker.db").display()
        );
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
            .await
            .map_err(|e| format!("open the database: {e}"))?;
        sqlx::query("PRAGMA busy_timeout = 10000")
            .execute(&mut conn)
            .await
            .map_err(|e| format!("busy_timeout: {e}"))?;
        Ok(conn)
    }

    pub async fn db_project(&self, id: Uuid) -> Result<DbProject, String> {
        let mut c = self.db().await?;
        let row = sqlx::query(
            "SELECT status, error_info, script, configuration, youtube_video_id, llm_model \
             FROM projects WHERE id = $1",
        )
        .bind(id.to_string())
        .fetch_one(&mut c)
        .await
        .map_err(|e| format!("read project {id}: {e}"))?;
        let text =
            |c: &str| -> Option<String> { row.try_get::<Option<String>, _>(c).ok().flatten() };
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str::<Value>(&s).ok());
        Ok(DbProject {
            status: text("status").unwrap_or_default(),
            error_info: parse(text("error_info")),
            script: parse(text("script")),
            configuration: parse(text("configuration")).unwrap_or(Value::Null),
            youtube_video_id: text("youtube_video_id"),
            llm_model: text("llm_model"),
        })
    }

    pub async fn db_assets(&self, id: Uuid) -> Result<Vec<DbAsset>, String> {
        let mut c = self.db().await?;
        let rows = sqlx::query(
            "SELECT kind, segment_index, status, content_hash, metadata, updated_at \
             FROM assets WHERE project_id = $1 ORDER BY kind, segment_index",
        )
        .bind(id.to_string())
        .fetch_all(&mut c)
        .await
        .map_err(|e| format!("read assets of {id}: {e}"))?;
        Ok(rows
            .iter()
            .map(|r| {
                let metadata: Option<String> = r.try_get("metadata").ok().flatten();
                DbAsset {
                    kind: r.try_get("kind").unwrap_or_default(),
                    index: r.try_get::<i64, _>("segment_index").unwrap_or(-1),
                    status: r.try_get("status").unwrap_or_default(),
                    content_hash: r.try_get("content_hash").ok().flatten(),
                    metadata: metadata
                        .and_then(|m| serde_json::from_str(&m).ok())
                        .unwrap_or(Value::Null),
                }
            })
            .collect())
    }

    pub async fn db_events(&self, id: Uuid) -> Result<Vec<DbEvent>, String> {
        let mut c = self.db().await?;
        let rows = sqlx::query(
            "SELECT seq, kind, payload, trace_id FROM project_events WHERE project_id = $1 ORDER BY seq",
        )
        .bind(id.to_string())
        .fetch_all(&mut c)
        .await
        .map_err(|e| format!("read events of {id}: {e}"))?;
        Ok(rows
            .iter()
            .map(|r| {
                let payload: String = r.try_get("payload").unwrap_or_default();
                DbEvent {
                    seq: r.try_get("seq").unwrap_or(0),
                    kind: r.try_get("kind").unwrap_or_default(),
                    payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
                    trace_id: r.try_get("trace_id").ok().flatten(),
                }
            })
            .collect())
    }

    pub async fn max_seq(&self, id: Uuid) -> i64 {
        match self.db_events(id).await {
            Ok(e) => e.last().map_or(0, |e| e.seq),
            Err(_) => 0,
        }
    }

    /// Every job of a project, oldest first.
    pub async fn db_jobs(&self, id: Uuid) -> Result<Vec<DbJob>, String> {
        let mut c = self.db().await?;
        let rows = sqlx::query(
            "SELECT state, lease_owner, lease_expires_ms, last_error, attempts FROM jobs \
             WHERE project_id = $1 ORDER BY enqueued_ms",
        )
        .bind(id.to_string())
        .fetch_all(&mut c)
        .await
        .map_err(|e| format!("read jobs of {id}: {e}"))?;
        Ok(rows
            .iter()
            .map(|r| DbJob {
                state: r.try_get("state").unwrap_or_default(),
                lease_owner: r.try_get("lease_owner").ok().flatten(),
                lease_expires_ms: r.try_get("lease_expires_ms").ok().flatten(),
                last_error: r.try_get("last_error").ok().flatten(),
            })
            .collect())
    }

    pub async fn live_jobs(&self) -> Result<i64, String> {
        let mut c = self.db().await?;
        let row =
            sqlx::query("SELECT COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(&mut c)
                .await
                .map_err(|e| format!("count jobs: {e}"))?;
        Ok(row.try_get::<i64, _>("n").unwrap_or(0))
    }

    /// The progress WebSocket's snapshot of a project.
    pub async fn ws_snapshot(&self, id: Uuid) -> Result<Value, String> {
        let addr = self
            .server
            .as_ref()
            .map(|s| s.addr.clone())
            .ok_or("no server")?;
        crate::seams::ws::first_message(&addr, &format!("/api/v1/projects/{id}/progress")).await
    }

    /// A PNG of 640×360 in one colour (`ffmpeg`), unique per `n`.
    pub fn png(&self, n: u64) -> Result<Vec<u8>, String> {
        self.ffmpeg_png(&format!("upload-{n}.png"), n, "640x360", "")
    }

    /// A half-transparent 200×100 PNG logo, unique per `n`.
    pub fn logo_png(&self, n: u64) -> Result<Vec<u8>, String> {
        self.ffmpeg_png(&format!("logo-{n}.png"), n, "200x100", "@0.6,format=rgba")
    }

    fn ffmpeg_png(&self, name: &str, n: u64, size: &str, extra: &str) -> Result<Vec<u8>, String> {
        let path = self.tmp.path().join(name);
        let colour = format!("0x{:06x}", (n.wrapping_mul(2_654_435_761)) & 0xFF_FFFF);
        let (alpha, filter) = match extra.split_once(',') {
            Some((a, f)) => (a, format!(",{f}")),
            None => (extra, String::new()),
        };
        let out = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("color=c={colour}{alpha}:s={size}{filter}"))
            .args(["-frames:v", "1"])
            .arg(&path)
            .output()
            .map_err(|e| format!("ffmpeg: {e}"))?;
        if !out.status.success() {
            return Err(format!("ffmpeg: {}", String::from_utf8_lossy(&out.stderr)));
        }
        std::fs::read(&path).map_err(|e| format!("read png: {e}"))
    }

    /// The error and warning lines of every process's JSON log (the data directory's `logs`),
    /// the last `n` of them, for a failure report.
    pub fn log_problems(&self, n: usize) -> String {
        let mut lines = Vec::new();
        let Ok(dir) = std::fs::read_dir(self.data.join("logs")) else {
            return String::new();
        };
        let mut files: Vec<PathBuf> = dir.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            for line in std::fs::read_to_string(&f).unwrap_or_default().lines() {
                if line.contains("\"level\":\"error\"") || line.contains("\"level\":\"warn\"") {
                    lines.push(line.chars().take(400).collect::<String>());
                }
            }
        }
        let from = lines.len().saturating_sub(n);
        lines[from..].join("\n")
    }

    /// Keeps the temporary folder (data, logs, CLI output) after the world is dropped.
    pub fn keep_files(&mut self) -> PathBuf {
        self.tmp.disable_cleanup(true);
        self.tmp.path().to_owned()
    }

    pub fn server_log_tail(&self) -> String {
        let mut out = String::new();
        for n in 1..=self.spawned {
            let p = self.tmp.path().join(format!("serve-{n}.stderr"));
            if let Ok(t) = std::fs::read_to_string(&p)
                && !t.trim().is_empty()
            {
                out.push_str(&format!("--- serve-{n}.stderr\n{}\n", tail(&t, 1500)));
            }
        }
        out
    }
}

impl Drop for World {
    fn drop(&mut self) {
        for c in &mut self.clis {
            if c.exit.is_none() {
                let _ = c.child.kill();
                let _ = c.child.wait();
            }
        }
        if let Some(s) = &mut self.server {
            let _ = s.child.kill();
            let _ = s.child.wait();
        }
    }
}

#[derive(Debug, Clone)]
pub struct DbProject {
    pub status: String,
    pub error_info: Option<Value>,
    pub script: Option<Value>,
    pub configuration: Value,
    pub youtube_video_id: Option<String>,
    pub llm_model: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DbAsset {
    pub kind: String,
    pub index: i64,
    pub status: String,
    pub content_hash: Option<String>,
    pub metadata: Value,
}

#[derive(Debug, Clone)]
pub struct DbEvent {
    pub seq: i64,
    pub kind: String,
    pub payload: Value,
    pub trace_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DbJob {
    pub state: String,
    pub lease_owner: Option<String>,
    pub lease_expires_ms: Option<i64>,
    pub last_error: Option<String>,
}

pub fn tail(s: &str, n: usize) -> &str {
    let mut start = s.len().saturating_sub(n);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
