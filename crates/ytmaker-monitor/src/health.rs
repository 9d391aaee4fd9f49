//! The health checks: each one asks the real thing (the database answers, the queue can be read,
//! the disk has room, FFmpeg runs, the font exists, the default providers can work). The health
//! endpoint reports them all; the monitor's rules read the same functions, so a check and an
//! alert never disagree about what "down" means.

use serde_json::{Map, Value, json};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_pipeline::{CloudAccess, DiskSpace, Providers};
use ytmaker_render::Toolchain;
use ytmaker_store::{Alert, DataDir, JobQueue, QueueStats, Store};

/// What the disk check found: the space, and whether a render may start (the floor of
/// `ytmaker_pipeline::check_free_space`).
#[derive(Clone, Debug)]
pub struct DiskReading {
    pub space: DiskSpace,
    /// `DISK_SPACE_INSUFFICIENT` when below the render floor.
    pub render_refused: Option<YtError>,
}

pub async fn database(store: &Store) -> YtResult<()> {
    store.ping().await
}

pub async fn queue(store: &Store) -> YtResult<QueueStats> {
    store.stats().await.map_err(|e| {
        // The queue lives in the database; a failure to read it is the queue being unreachable.
        YtError::new(
            ErrorCode::QUEUE_CONNECTION_FAILED,
            format!("cannot read the job queue: {}", e.message),
        )
        .detail("cause", e.code.as_str())
    })
}

pub fn disk(data: &DataDir) -> YtResult<DiskReading> {
    let space = ytmaker_pipeline::disk_space(data.root())?;
    let render_refused = match ytmaker_pipeline::check_free_space(data.root()) {
        Ok(_) => None,
        Err(e) if e.code == ErrorCode::DISK_SPACE_INSUFFICIENT => Some(e),
        Err(e) => return Err(e),
    };
    Ok(DiskReading {
        space,
        render_refused,
    })
}

pub async fn ffmpeg(tools: &Toolchain) -> YtResult<(String, String)> {
    tools.versions().await
}

/// What the health endpoint needs besides the monitor's inputs.
pub struct HealthInputs<'a> {
    pub store: &'a Store,
    pub data: &'a DataDir,
    pub tools: &'a Toolchain,
    pub default_config: &'a ProjectConfig,
    pub cloud: &'a CloudAccess,
    /// Workers running in this process (0: API only).
    pub workers: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Healthy => "healthy",
            HealthStatus::Degraded => "degraded",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

pub struct HealthReport {
    pub status: HealthStatus,
    pub checks: Map<String, Value>,
}

fn check(status: &str, details: Value) -> Value {
    json!({ "status": status, "details": details })
}

fn failed(err: &YtError) -> Value {
    check(
        "failed",
        json!({ "error_code": err.code, "message": err.message }),
    )
}

/// Runs every check; `open_alerts` decide the `alerts` check (an open P0 fails it, an open P1
/// degrades it).
pub async fn report(h: &HealthInputs<'_>, open_alerts: &[Alert]) -> HealthReport {
    let mut checks = Map::new();
    checks.insert(
        "database".into(),
        match database(h.store).await {
            Ok(()) => check(
                "ok",
                json!({ "backend": format!("{:?}", h.store.backend()) }),
            ),
            Err(e) => failed(&e),
        },
    );
    checks.insert(
        "queue".into(),
        match queue(h.store).await {
            Ok(q) => check(
                "ok",
                json!({ "queued": q.queued, "running": q.running, "oldest_queued_ms": q.oldest_queued_ms }),
            ),
            Err(e) => failed(&e),
        },
    );
    checks.insert(
        "workers".into(),
        if h.workers > 0 {
            check("ok", json!({ "in_process": h.workers }))
        } else {
            // API-only: workers run in other processes; that is a valid set-up, but this
            // process cannot see them.
            check(
                "degraded",
                json!({ "in_process": 0, "note": "API only; workers run elsewhere" }),
            )
        },
    );
    checks.insert(
        "disk".into(),
        match disk(h.data) {
            Ok(DiskReading {
                space,
                render_refused: None,
            }) => check(
                "ok",
                json!({ "free_bytes": space.free_bytes, "total_bytes": space.total_bytes }),
            ),
            Ok(DiskReading {
                space,
                render_refused: Some(e),
            }) => check(
                "failed",
                json!({ "error_code": e.code, "message": e.message, "free_bytes": space.free_bytes }),
            ),
            Err(e) => failed(&e),
        },
    );
    checks.insert(
        "ffmpeg".into(),
        match ffmpeg(h.tools).await {
            Ok((ffmpeg, ffprobe)) => check("ok", json!({ "ffmpeg": ffmpeg, "ffprobe": ffprobe })),
            Err(e) => failed(&e),
        },
    );
    let family = &h.default_config.subtitles.font_family;
    checks.insert(
        "fonts".into(),
        match ytmaker_render::resolve_font(family, false) {
            Ok(face) => check("ok", json!({ "family": family, "file": face.path })),
            Err(e) => failed(&e),
        },
    );
    // The default providers must be able to work: each runs its own check.
    checks.insert(
        "providers".into(),
        match Providers::for_config(h.default_config, None, None, h.tools, h.cloud, h.store) {
            Ok(providers) => match providers.narrator.check().await {
                Ok(narration) => check(
                    "ok",
                    json!({ "defaults": h.default_config.providers, "narration": narration }),
                ),
                Err(e) => failed(&e),
            },
            Err(e) => failed(&e),
        },
    );
    checks.insert("alerts".into(), alerts_check(open_alerts));
    let any = |s: &str| checks.values().any(|c| c["status"] == s);
    let status = if any("failed") {
        HealthStatus::Unhealthy
    } else if any("degraded") {
        HealthStatus::Degraded
    } else {
        HealthStatus::Healthy
    };
    HealthReport { status, checks }
}

fn alerts_check(open: &[Alert]) -> Value {
    let listed: Vec<Value> = open
        .iter()
        .map(|a| json!({ "id": a.id, "rule": a.rule, "priority": a.priority, "subject": a.subject, "message": a.message }))
        .collect();
    let status = if open.iter().any(|a| a.priority == "P0") {
        "failed"
    } else if open.iter().any(|a| a.priority == "P1") {
        "degraded"
    } else {
        "ok"
    };
    check(status, json!({ "open": listed }))
}
