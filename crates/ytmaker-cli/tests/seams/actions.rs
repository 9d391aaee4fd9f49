//! The actions of a sequence, how a seed turns into a sequence, and how each action is applied to
//! the real system while the model records what the system accepted.
//!
//! The model does not predict timing (when a run reaches a stage is up to the machine); it records
//! what the system *accepted* — a start that was queued, an edit or a configuration change that
//! was answered 2xx, a kill — and the invariants are checked against that record.

use std::collections::BTreeSet;
use std::fmt;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;
use ytmaker_fake_cloud::{Api, Fault, FaultAction};

use crate::seams::rng::Rng;
use crate::seams::world::{KEYS, World};

/// What a `WaitFor` waits for (each bounded; the sequence goes on either way).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Until {
    /// The project reached this status (or stopped running without reaching it).
    Status(&'static str),
    /// Nothing runs the project: no running status, no live job, no CLI run alive.
    Idle,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigChange {
    ImageSeed(u32),
    StylePreset(&'static str),
    NegativePrompt(u32),
    SpeakingRate(u32),
    SubtitleSize(u32),
    KenBurnsZoom(u32),
    ThumbnailTitleSize(u32),
    ThumbnailBackground(u32),
}

/// Faults the sequence can inject, each a fixed recipe of the fake cloud's fault book.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// Two 429s with Retry-After: the retries absorb them.
    StabilityRateLimit,
    /// The content filter refuses one image: not retryable, the project fails in assets.
    StabilityContentPolicy,
    /// Stability answers slowly (widens the window of a kill in the middle of the images).
    StabilitySlow,
    GeminiUnavailable,
    TtsServerError,
    /// D-ID is out of credits: not retryable.
    DidNoCredits,
    DidServerError,
    /// D-ID creates (and charges) the talk, but the answer is lost on the way back.
    DidReplyLost,
    YoutubeInsertServerError,
    /// The connection drops half-way through an upload chunk.
    YoutubeChunkDrop,
    /// videos.insert refused (403): the project fails at upload, before anything was uploaded.
    YoutubeForbidden,
    /// thumbnails.set refused (400): the project fails at upload after the video was uploaded.
    YoutubeThumbnailRefused,
}

impl FaultKind {
    pub fn fault(self) -> Fault {
        match self {
            FaultKind::StabilityRateLimit => {
                Fault::error(Api::Stability, Some("generate"), 429, Some("rate"))
                    .retry_after(0)
                    .times(2)
            }
            FaultKind::StabilityContentPolicy => Fault::error(
                Api::Stability,
                Some("generate"),
                403,
                Some("content_moderation"),
            )
            .times(1),
            FaultKind::StabilitySlow => Fault::new(
                Api::Stability,
                Some("generate"),
                FaultAction::Latency { ms: 1500 },
            )
            .times(6),
            FaultKind::GeminiUnavailable => {
                Fault::error(Api::Gemini, Some("generateContent"), 503, None).times(1)
            }
            FaultKind::TtsServerError => {
                Fault::error(Api::GoogleTts, Some("synthesize"), 500, None).times(2)
            }
            FaultKind::DidNoCredits => {
                Fault::error(Api::Did, Some("talks.create"), 402, None).times(1)
            }
            FaultKind::DidServerError => {
                Fault::error(Api::Did, Some("talks.create"), 500, None).times(1)
            }
            FaultKind::DidReplyLost => {
                Fault::new(Api::Did, Some("talks.create"), FaultAction::DropReply).times(1)
            }
            FaultKind::YoutubeInsertServerError => {
                Fault::error(Api::Youtube, Some("videos.insert"), 503, None).times(1)
            }
            FaultKind::YoutubeChunkDrop => {
                Fault::new(Api::Youtube, Some("upload.chunk"), FaultAction::Drop).times(1)
            }
            FaultKind::YoutubeForbidden => {
                Fault::error(Api::Youtube, Some("videos.insert"), 403, None).times(1)
            }
            FaultKind::YoutubeThumbnailRefused => {
                Fault::error(Api::Youtube, Some("thumbnails.set"), 400, None).times(1)
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Start(usize),
    Pause(usize),
    Resume(usize),
    Retry(usize),
    /// What a user presses to go on: retry when FAILED, resume otherwise (start when new).
    Continue(usize),
    Cancel(usize),
    /// `ytmaker projects resume <id>` in the background: a second runner, next to the server.
    CliResume(usize),
    CliRetry(usize),
    /// `ytmaker projects retry` when FAILED, else `projects resume`.
    CliContinue(usize),
    /// SIGKILL of `ytmaker serve`, then a new server on the same data.
    KillServer,
    /// SIGKILL of the newest CLI runner still alive.
    KillCli,
    /// A new image description for a segment; `n` makes the text unique.
    EditDescription(usize, u32, u32),
    UploadImage(usize, u32, u32),
    RegenerateImage(usize, u32),
    ChangeConfig(usize, ConfigChange),
    /// A new prompt text (`n` makes it unique).
    ChangePrompt(usize, u32),
    /// Another Gemini model for the script.
    ChangeModel(usize, &'static str),
    /// A logo uploaded (`POST /api/v1/uploads/logo`, unique per `n`) and set on the project.
    SetLogo(usize, u32),
    NoPresenter(usize),
    RemoveKey(&'static str),
    PutKey(&'static str),
    InjectFault(FaultKind),
    ClearFaults,
    WaitFor(usize, Until),
    Sleep(u64),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::WaitFor(p, Until::Status(s)) => write!(f, "WaitFor(p{p}, {s})"),
            Action::WaitFor(p, Until::Idle) => write!(f, "WaitFor(p{p}, idle)"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One case: its seed, how many projects, and the actions.
#[derive(Clone, Debug)]
pub struct Case {
    pub seed: u64,
    pub projects: usize,
    pub actions: Vec<Action>,
}

const STYLE_PRESETS: [&str; 17] = [
    "3d-model",
    "analog-film",
    "anime",
    "cinematic",
    "comic-book",
    "digital-art",
    "enhance",
    "fantasy-art",
    "isometric",
    "line-art",
    "low-poly",
    "modeling-compound",
    "neon-punk",
    "origami",
    "photographic",
    "pixel-art",
    "tile-texture",
];

#[derive(Clone, Copy)]
enum Kind {
    Start,
    Pause,
    Resume,
    Retry,
    Continue,
    Cancel,
    CliResume,
    CliRetry,
    CliContinue,
    KillServer,
    KillCli,
    Edit,
    Upload,
    Regenerate,
    Config,
    Prompt,
    Model,
    Logo,
    NoPresenter,
    RemoveKey,
    PutKey,
    Fault,
    ClearFaults,
    Wait,
    Sleep,
    /// A key removed just before the project is continued (put back later or by `finish`).
    KeyGap,
    /// A CLI runner and the server asked to run the same project one right after the other.
    TwoRunners,
}

const WEIGHTS: [(u32, Kind); 27] = [
    (1, Kind::Start),
    (10, Kind::Pause),
    (3, Kind::Resume),
    (3, Kind::Retry),
    (8, Kind::Continue),
    (1, Kind::Cancel),
    (2, Kind::CliResume),
    (1, Kind::CliRetry),
    (4, Kind::CliContinue),
    (5, Kind::KillServer),
    (3, Kind::KillCli),
    (7, Kind::Edit),
    (4, Kind::Upload),
    (3, Kind::Regenerate),
    (7, Kind::Config),
    (3, Kind::Prompt),
    (2, Kind::Model),
    (2, Kind::Logo),
    (1, Kind::NoPresenter),
    (3, Kind::RemoveKey),
    (2, Kind::PutKey),
    (8, Kind::Fault),
    (1, Kind::ClearFaults),
    (8, Kind::Wait),
    (4, Kind::Sleep),
    (3, Kind::KeyGap),
    (4, Kind::TwoRunners),
];

const FAULTS: [FaultKind; 12] = [
    FaultKind::StabilityRateLimit,
    FaultKind::StabilityContentPolicy,
    FaultKind::StabilitySlow,
    FaultKind::GeminiUnavailable,
    FaultKind::TtsServerError,
    FaultKind::DidNoCredits,
    FaultKind::DidServerError,
    FaultKind::DidReplyLost,
    FaultKind::YoutubeInsertServerError,
    FaultKind::YoutubeChunkDrop,
    FaultKind::YoutubeForbidden,
    FaultKind::YoutubeThumbnailRefused,
];

/// Gemini models the fake cloud knows (the projects start on the default one).
const MODELS: [&str; 4] = [
    "gemini-2.5-pro",
    "gemini-2.5-flash-lite",
    "gemini-2.0-flash",
    "gemini-2.0-flash-lite",
];

const WAIT_STATUSES: [&str; 5] = [
    "SCRIPT_GENERATING",
    "ASSETS_GENERATING",
    "RENDERING",
    "THUMBNAIL_GENERATING",
    "UPLOADING",
];

/// Faults after which the project fails (not retryable): the usual way to an edit.
const FAILING: [FaultKind; 4] = [
    FaultKind::StabilityContentPolicy,
    FaultKind::DidNoCredits,
    FaultKind::YoutubeForbidden,
    FaultKind::YoutubeThumbnailRefused,
];

/// The sequence a seed stands for: a start of every project (usually first, sometimes later, so
/// that a start can meet a removed key or a fault), then `steps` random actions. An
/// edit or a configuration change is accepted only while nothing runs the project, so most of
/// them are led in by a pause or a failing fault and a wait until the project is idle.
pub fn generate(seed: u64, steps: usize) -> Case {
    let mut rng = Rng::new(seed);
    let projects = if rng.percent(30) { 2 } else { 1 };
    let late: Vec<bool> = (0..projects).map(|_| rng.percent(25)).collect();
    let mut actions: Vec<Action> = (0..projects)
        .filter(|p| !late[*p])
        .map(Action::Start)
        .collect();
    let end = projects + steps;
    while actions.len() < end {
        let n = actions.len() as u32;
        let p = rng.below(projects as u64) as usize;
        let seg = rng.below(2) as u32;
        let kind = rng.weighted(&WEIGHTS);
        if matches!(
            kind,
            Kind::Edit
                | Kind::Upload
                | Kind::Regenerate
                | Kind::Config
                | Kind::Prompt
                | Kind::NoPresenter
        ) {
            match rng.below(10) {
                0..=4 => {
                    actions.push(Action::Pause(p));
                    actions.push(Action::WaitFor(p, Until::Idle));
                }
                5..=7 => {
                    actions.push(Action::InjectFault(rng.pick(&FAILING)));
                    actions.push(Action::WaitFor(p, Until::Idle));
                }
                _ => {}
            }
        }
        let action = match kind {
            Kind::Start => Action::Start(p),
            Kind::Pause => Action::Pause(p),
            Kind::Resume => Action::Resume(p),
            Kind::Retry => Action::Retry(p),
            Kind::Continue => Action::Continue(p),
            Kind::Cancel => Action::Cancel(p),
            Kind::CliResume => Action::CliResume(p),
            Kind::CliRetry => Action::CliRetry(p),
            Kind::CliContinue => Action::CliContinue(p),
            Kind::KillServer => Action::KillServer,
            Kind::KillCli => Action::KillCli,
            Kind::Edit => Action::EditDescription(p, seg, n),
            Kind::Upload => Action::UploadImage(p, seg, n),
            Kind::Regenerate => Action::RegenerateImage(p, seg),
            Kind::Config => Action::ChangeConfig(
                p,
                match rng.below(8) {
                    0 => ConfigChange::ImageSeed(1000 + n),
                    1 => ConfigChange::StylePreset(STYLE_PRESETS[n as usize % STYLE_PRESETS.len()]),
                    2 => ConfigChange::NegativePrompt(n),
                    // Unique values per step, so that no change ever reverts an earlier one.
                    3 => ConfigChange::SpeakingRate(150 + n % 50),
                    4 => ConfigChange::SubtitleSize(30 + n % 60),
                    5 => ConfigChange::KenBurnsZoom(101 + n % 45),
                    6 => ConfigChange::ThumbnailBackground(seg),
                    _ => ConfigChange::ThumbnailTitleSize(40 + n % 80),
                },
            ),
            Kind::Prompt => Action::ChangePrompt(p, n),
            Kind::Model => Action::ChangeModel(p, rng.pick(&MODELS)),
            Kind::Logo => Action::SetLogo(p, n),
            Kind::NoPresenter => Action::NoPresenter(p),
            Kind::RemoveKey => Action::RemoveKey(rng.pick(&KEYS.map(|(k, _)| k))),
            Kind::PutKey => Action::PutKey(rng.pick(&KEYS.map(|(k, _)| k))),
            Kind::Fault => Action::InjectFault(if rng.percent(40) {
                rng.pick(&FAILING)
            } else {
                rng.pick(&FAULTS)
            }),
            Kind::ClearFaults => Action::ClearFaults,
            Kind::Wait => {
                if rng.percent(35) {
                    Action::WaitFor(p, Until::Idle)
                } else {
                    Action::WaitFor(p, Until::Status(rng.pick(&WAIT_STATUSES)))
                }
            }
            Kind::Sleep => Action::Sleep(200 + rng.below(1800)),
            Kind::KeyGap => {
                actions.push(Action::RemoveKey(rng.pick(&[
                    "stability",
                    "google_tts",
                    "did",
                ])));
                Action::Continue(p)
            }
            Kind::TwoRunners => {
                if rng.percent(50) {
                    actions.push(Action::CliContinue(p));
                    Action::Continue(p)
                } else {
                    actions.push(Action::Continue(p));
                    Action::CliContinue(p)
                }
            }
        };
        actions.push(action);
    }
    actions.truncate(end - late.iter().filter(|l| **l).count());
    for (p, _) in late.iter().enumerate().filter(|(_, l)| **l) {
        let at = 1 + rng.below(actions.len() as u64) as usize;
        actions.insert(at.min(actions.len()), Action::Start(p));
    }
    Case {
        seed,
        projects,
        actions,
    }
}

/// A change the system accepted; the outputs of a COMPLETED project must reflect it.
#[derive(Clone, Debug)]
pub enum Changed {
    Description {
        seg: u32,
        text: String,
    },
    /// The content hash the system recorded for the uploaded image.
    Upload {
        seg: u32,
        hash: Option<String>,
    },
    Regenerate {
        seg: u32,
    },
    Images,
    Narration,
    Subtitles,
    KenBurns,
    Thumbnail,
    Script,
    Logo,
    NoPresenter,
}

#[derive(Clone, Debug)]
pub struct Change {
    pub step: usize,
    pub what: Changed,
    /// The project's last event when the change was accepted: what reflects it comes after.
    pub seq: i64,
    pub label: String,
}

pub struct Proj {
    pub id: Uuid,
    pub tag: String,
    pub changes: Vec<Change>,
    pub start_accepted: bool,
    pub regenerates: u32,
    pub narration_changes: u32,
    pub script_changes: u32,
}

/// What a kill interrupted, for the paid calls an interrupted request may excuse.
#[derive(Clone, Debug, Default)]
pub struct KillNote {
    pub step: usize,
    pub what: String,
    /// Requests the killed runner may have had in flight, per API (unknown outcome).
    pub gemini: u32,
    pub images: u32,
    pub audio: u32,
}

pub struct Model {
    pub projects: Vec<Proj>,
    pub kills: Vec<KillNote>,
    pub log: Vec<String>,
    pub removed_keys: BTreeSet<&'static str>,
    pub faults_injected: Vec<FaultKind>,
}

/// Sentences of the articles: each gets a prefix naming the project and the sentence, so that
/// every segment's image prompt (built from its first clause) is unique to its project.
const SENTENCES: [&str; 6] = [
    "the tide pools are small worlds left behind when the sea pulls back twice a day",
    "anemones close into soft green buttons to keep from drying out in the sun",
    "hermit crabs shuffle between borrowed shells and trade up when they find a larger one",
    "sea stars grip the stone with hundreds of tiny tube feet and wait for the water",
    "the sun warms the shallow pools until they are far hotter than the open sea",
    "some creatures hide under seaweed while others seal themselves inside their shells",
];

pub fn article(tag: &str) -> String {
    SENTENCES
        .iter()
        .enumerate()
        .map(|(i, s)| format!("At {tag} station {}, {s}.", i + 1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The configuration every project starts from: the five cloud providers, a fast voice (the
/// fake narrator's audio halves in length at rate 2.0, and the video with it) and x264
/// ultrafast.
pub fn base_config() -> Value {
    json!({
        "providers": {
            "script": "gemini",
            "narration": "google_tts",
            "images": "stability",
            "avatar": "did",
            "publish": "youtube"
        },
        "narration": { "speaking_rate": 2.0 },
        "render": { "x264_preset": "ultrafast" }
    })
}

pub async fn create_projects(world: &World, case: &Case) -> Result<Model, String> {
    let mut projects = Vec::new();
    for p in 0..case.projects {
        let tag = format!("Q{:04x}{}", case.seed & 0xFFFF, (b'a' + p as u8) as char);
        let created = world
            .api(
                "POST",
                "/api/v1/projects",
                Some(json!({
                    "name": format!("seams {tag}"),
                    "content": article(&tag),
                    "configuration": base_config(),
                    "start": false,
                })),
            )
            .await;
        let id = created.body["id"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or_else(|| format!("create project: {} {}", created.short(), created.body))?;
        projects.push(Proj {
            id,
            tag,
            changes: Vec::new(),
            start_accepted: false,
            regenerates: 0,
            narration_changes: 0,
            script_changes: 0,
        });
    }
    Ok(Model {
        projects,
        kills: Vec::new(),
        log: Vec::new(),
        removed_keys: BTreeSet::new(),
        faults_injected: Vec::new(),
    })
}

pub fn is_running_status(s: &str) -> bool {
    ytmaker_core::ProjectStatus::parse(s).is_some_and(|s| s.is_running())
}

/// Whether anything runs project `p`: a running status, a live job, or a CLI run alive.
pub async fn busy(world: &mut World, model: &Model, p: usize) -> bool {
    let id = model.projects[p].id;
    let cli = world
        .live_clis()
        .iter()
        .any(|i| world.clis[*i].project == p);
    if cli {
        return true;
    }
    let status = world
        .db_project(id)
        .await
        .map(|d| d.status)
        .unwrap_or_default();
    let job = world
        .db_jobs(id)
        .await
        .unwrap_or_default()
        .iter()
        .any(|j| j.state == "queued" || j.state == "running");
    is_running_status(&status) || job
}

/// What a kill may have cut off in flight for project `p` (see [`KillNote`]).
async fn note_in_flight(world: &World, model: &Model, p: usize, note: &mut KillNote) {
    let id = model.projects[p].id;
    let Ok(project) = world.db_project(id).await else {
        return;
    };
    match project.status.as_str() {
        "SCRIPT_GENERATING" => note.gemini += 1,
        "ASSETS_GENERATING" => {
            let assets = world.db_assets(id).await.unwrap_or_default();
            let segments = project
                .script
                .as_ref()
                .map_or(0, |s| s["segments"].as_array().map_or(0, Vec::len));
            let done = |kind: &str| {
                assets
                    .iter()
                    .filter(|a| a.kind == kind && a.status == "COMPLETED")
                    .count()
            };
            note.images += segments.saturating_sub(done("image")) as u32;
            note.audio += (segments + 2).saturating_sub(done("audio")) as u32;
        }
        _ => {}
    }
}

async fn post_action(world: &World, model: &Model, p: usize, action: &str) -> String {
    let id = model.projects[p].id;
    world
        .api("POST", &format!("/api/v1/projects/{id}/{action}"), None)
        .await
        .short()
}

/// Applies one action; returns a line for the sequence's log.
pub async fn apply(world: &mut World, model: &mut Model, step: usize, action: &Action) -> String {
    let result = match action {
        Action::Start(p) => {
            let id = model.projects[*p].id;
            let a = world
                .api("POST", &format!("/api/v1/projects/{id}/start"), None)
                .await;
            if a.ok() {
                model.projects[*p].start_accepted = true;
            }
            a.short()
        }
        Action::Pause(p) => post_action(world, model, *p, "pause").await,
        Action::Resume(p) => post_action(world, model, *p, "resume").await,
        Action::Retry(p) => post_action(world, model, *p, "retry").await,
        Action::Continue(p) => {
            let id = model.projects[*p].id;
            let status = world
                .db_project(id)
                .await
                .map(|d| d.status)
                .unwrap_or_default();
            let verb = match status.as_str() {
                "FAILED" => "retry",
                "INITIALIZED" => "start",
                _ => "resume",
            };
            let a = world
                .api("POST", &format!("/api/v1/projects/{id}/{verb}"), None)
                .await;
            if a.ok() && verb == "start" {
                model.projects[*p].start_accepted = true;
            }
            format!("{verb}: {}", a.short())
        }
        Action::Cancel(p) => post_action(world, model, *p, "cancel").await,
        Action::CliResume(p) | Action::CliRetry(p) | Action::CliContinue(p) => {
            let status = world
                .db_project(model.projects[*p].id)
                .await
                .map(|d| d.status)
                .unwrap_or_default();
            let verb = match action {
                Action::CliResume(_) => "resume",
                Action::CliRetry(_) => "retry",
                _ if status == "FAILED" => "retry",
                _ => "resume",
            };
            let id = model.projects[*p].id.to_string();
            match world.spawn_cli(&["projects", verb, &id], *p) {
                Ok(()) => {
                    // Long enough for the process to open the database and take (or be refused)
                    // the project before the next action.
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    format!("spawned `projects {verb}`")
                }
                Err(e) => format!("not spawned: {e}"),
            }
        }
        Action::KillServer => {
            let mut note = KillNote {
                step,
                what: "server".into(),
                ..Default::default()
            };
            let killed = world.kill_server();
            for p in 0..model.projects.len() {
                let id = model.projects[p].id;
                let held = world
                    .db_jobs(id)
                    .await
                    .unwrap_or_default()
                    .iter()
                    .any(|j| j.state == "running");
                if held {
                    note_in_flight(world, model, p, &mut note).await;
                }
            }
            model.kills.push(note);
            match world.start_server().await {
                Ok(()) => format!("killed={killed}, restarted"),
                Err(e) => format!("killed={killed}, RESTART FAILED: {e}"),
            }
        }
        Action::KillCli => match world.kill_cli() {
            Some(p) => {
                let mut note = KillNote {
                    step,
                    what: format!("cli of p{p}"),
                    ..Default::default()
                };
                note_in_flight(world, model, p, &mut note).await;
                model.kills.push(note);
                format!("killed the CLI run of p{p}")
            }
            None => "no CLI run alive".into(),
        },
        Action::EditDescription(p, seg, n) => {
            let id = model.projects[*p].id;
            let text =
                format!("A lighthouse keeper's logbook, study number {n}, seen from the water");
            let before = world.max_seq(id).await;
            let a = world
                .api(
                    "PUT",
                    &format!("/api/v1/projects/{id}/segments/{seg}/image"),
                    Some(json!({ "image_description": text })),
                )
                .await;
            if a.ok() {
                let seq = world.max_seq(id).await.max(before);
                model.projects[*p].changes.push(Change {
                    step,
                    what: Changed::Description { seg: *seg, text },
                    seq,
                    label: action.to_string(),
                });
            }
            a.short()
        }
        Action::UploadImage(p, seg, n) => {
            let id = model.projects[*p].id;
            match world.png(u64::from(*n) + 1) {
                Ok(png) => {
                    let before = world.max_seq(id).await;
                    let a = world
                        .put_bytes(
                            &format!("/api/v1/projects/{id}/segments/{seg}/image/file"),
                            "image/png",
                            png,
                        )
                        .await;
                    if a.ok() {
                        let seq = world.max_seq(id).await.max(before);
                        let hash = world.db_assets(id).await.ok().and_then(|assets| {
                            assets
                                .into_iter()
                                .find(|x| x.kind == "image" && x.index == i64::from(*seg))
                                .and_then(|x| x.content_hash)
                        });
                        model.projects[*p].changes.push(Change {
                            step,
                            what: Changed::Upload { seg: *seg, hash },
                            seq,
                            label: action.to_string(),
                        });
                    }
                    a.short()
                }
                Err(e) => format!("no image: {e}"),
            }
        }
        Action::RegenerateImage(p, seg) => {
            let id = model.projects[*p].id;
            let before = world.max_seq(id).await;
            let a = world
                .api(
                    "POST",
                    &format!("/api/v1/projects/{id}/segments/{seg}/image/regenerate"),
                    None,
                )
                .await;
            if a.ok() {
                let seq = world.max_seq(id).await.max(before);
                model.projects[*p].regenerates += 1;
                model.projects[*p].changes.push(Change {
                    step,
                    what: Changed::Regenerate { seg: *seg },
                    seq,
                    label: action.to_string(),
                });
            }
            a.short()
        }
        Action::ChangeConfig(p, change) => {
            let id = model.projects[*p].id;
            let (body, what) = match change {
                ConfigChange::ImageSeed(v) => (json!({ "images": { "seed": v } }), Changed::Images),
                ConfigChange::StylePreset(v) => {
                    (json!({ "images": { "style_preset": v } }), Changed::Images)
                }
                ConfigChange::NegativePrompt(v) => (
                    json!({ "images": { "negative_prompt": format!("blurry, text, variant {v}") } }),
                    Changed::Images,
                ),
                ConfigChange::SpeakingRate(v) => (
                    json!({ "narration": { "speaking_rate": f64::from(*v) / 100.0 } }),
                    Changed::Narration,
                ),
                ConfigChange::SubtitleSize(v) => (
                    json!({ "subtitles": { "font_size": v } }),
                    Changed::Subtitles,
                ),
                ConfigChange::KenBurnsZoom(v) => (
                    json!({ "ken_burns": { "zoom": f64::from(*v) / 100.0 } }),
                    Changed::KenBurns,
                ),
                ConfigChange::ThumbnailTitleSize(v) => (
                    json!({ "thumbnail": { "title_font_size": v } }),
                    Changed::Thumbnail,
                ),
                ConfigChange::ThumbnailBackground(v) => (
                    json!({ "thumbnail": { "background_segment": v } }),
                    Changed::Thumbnail,
                ),
            };
            let before_config = world
                .db_project(id)
                .await
                .map(|d| d.configuration)
                .unwrap_or(Value::Null);
            let before = world.max_seq(id).await;
            let a = world
                .api(
                    "PUT",
                    &format!("/api/v1/projects/{id}/configuration"),
                    Some(body),
                )
                .await;
            let after_config = world
                .db_project(id)
                .await
                .map(|d| d.configuration)
                .unwrap_or(Value::Null);
            // A change that changed nothing (the same value again) asks nothing of the outputs.
            if a.ok() && after_config != before_config {
                let proj = &mut model.projects[*p];
                if matches!(what, Changed::Narration) {
                    proj.narration_changes += 1;
                }
                proj.changes.push(Change {
                    step,
                    what,
                    seq: before,
                    label: action.to_string(),
                });
            }
            a.short()
        }
        Action::ChangePrompt(p, n) => {
            let id = model.projects[*p].id;
            let before = world.max_seq(id).await;
            let text = format!(
                "You write narrated video scripts (house style {n}). Keep every sentence of the \
                 article in order.\nArticle:\n{{article}}"
            );
            let a = world
                .api(
                    "PUT",
                    &format!("/api/v1/projects/{id}/prompt"),
                    Some(json!({ "prompt_content": text })),
                )
                .await;
            if a.ok() {
                model.projects[*p].script_changes += 1;
                model.projects[*p].changes.push(Change {
                    step,
                    what: Changed::Script,
                    seq: before,
                    label: action.to_string(),
                });
            }
            a.short()
        }
        Action::ChangeModel(p, m) => {
            let id = model.projects[*p].id;
            let before_model = world.db_project(id).await.ok().and_then(|d| d.llm_model);
            let before = world.max_seq(id).await;
            let a = world
                .api(
                    "PUT",
                    &format!("/api/v1/projects/{id}/prompt"),
                    Some(json!({ "llm_model": m })),
                )
                .await;
            if a.ok() && before_model.as_deref() != Some(*m) {
                model.projects[*p].script_changes += 1;
                model.projects[*p].changes.push(Change {
                    step,
                    what: Changed::Script,
                    seq: before,
                    label: action.to_string(),
                });
            }
            a.short()
        }
        Action::SetLogo(p, n) => {
            let id = model.projects[*p].id;
            match world.logo_png(u64::from(*n) + 1) {
                Ok(png) => {
                    let up = world
                        .post_bytes("/api/v1/uploads/logo", "image/png", png)
                        .await;
                    match up.body["id"].as_str() {
                        Some(logo) if up.ok() => {
                            let before = world.max_seq(id).await;
                            let a = world
                                .api(
                                    "PUT",
                                    &format!("/api/v1/projects/{id}/configuration"),
                                    Some(json!({ "logo": { "upload": logo } })),
                                )
                                .await;
                            if a.ok() {
                                model.projects[*p].changes.push(Change {
                                    step,
                                    what: Changed::Logo,
                                    seq: before,
                                    label: action.to_string(),
                                });
                            }
                            format!("logo {}; {}", up.short(), a.short())
                        }
                        _ => format!("logo upload: {}", up.short()),
                    }
                }
                Err(e) => format!("no logo: {e}"),
            }
        }
        Action::NoPresenter(p) => {
            let id = model.projects[*p].id;
            let before = world.max_seq(id).await;
            let a = world
                .api(
                    "POST",
                    &format!("/api/v1/projects/{id}/continue-without-presenter"),
                    None,
                )
                .await;
            if a.ok() {
                let seq = world.max_seq(id).await.max(before);
                model.projects[*p].changes.push(Change {
                    step,
                    what: Changed::NoPresenter,
                    seq,
                    label: action.to_string(),
                });
            }
            a.short()
        }
        Action::RemoveKey(provider) => {
            let a = world
                .api("DELETE", &format!("/api/v1/keys/{provider}"), None)
                .await;
            if a.ok() {
                model.removed_keys.insert(provider);
            }
            a.short()
        }
        Action::PutKey(provider) => {
            let value = KEYS
                .iter()
                .find(|(k, _)| k == provider)
                .map_or("", |(_, v)| *v);
            let a = world
                .api(
                    "PUT",
                    &format!("/api/v1/keys/{provider}"),
                    Some(json!({ "value": value })),
                )
                .await;
            if a.ok() {
                model.removed_keys.remove(provider);
            }
            a.short()
        }
        Action::InjectFault(kind) => {
            world.cloud.add_fault(kind.fault());
            model.faults_injected.push(*kind);
            "injected".into()
        }
        Action::ClearFaults => {
            world.cloud.clear_faults();
            "cleared".into()
        }
        Action::WaitFor(p, until) => {
            let started = Instant::now();
            let limit = Duration::from_secs(match until {
                Until::Idle => 120,
                Until::Status(_) => 60,
            });
            let id = model.projects[*p].id;
            loop {
                let status = world
                    .db_project(id)
                    .await
                    .map(|d| d.status)
                    .unwrap_or_default();
                let done = match until {
                    Until::Status(s) => status == *s || !busy(world, model, *p).await,
                    Until::Idle => !busy(world, model, *p).await,
                };
                if done {
                    break format!("{status} after {:.1} s", started.elapsed().as_secs_f64());
                }
                if started.elapsed() > limit {
                    break format!("still {status} after {} s", limit.as_secs());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Action::Sleep(ms) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            "slept".into()
        }
    };
    let line = format!("  step {step:>2}: {action} -> {result}");
    model.log.push(line.clone());
    line
}

/// Parses a sequence as the test prints it (`Start(0); Pause(0); WaitFor(p0, idle); …`), so a
/// minimal sequence can be replayed as written (`YTMAKER_SEAMS_SEQUENCE`), whatever the
/// generator of the day makes of a seed.
pub fn parse_sequence(text: &str) -> Result<Case, String> {
    let mut actions = Vec::new();
    for raw in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let cleaned: String = raw
            .chars()
            .map(|c| {
                if matches!(c, '(' | ')' | ',' | '"') {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        let t: Vec<&str> = cleaned.split_whitespace().collect();
        let bad = || format!("cannot read the action {raw:?}");
        let num = |i: usize| -> Result<u64, String> {
            t.get(i)
                .map(|s| s.trim_start_matches('p'))
                .and_then(|s| s.parse().ok())
                .ok_or_else(bad)
        };
        let p = || num(1).map(|n| n as usize);
        let name = |list: &[&'static str], i: usize| -> Result<&'static str, String> {
            let want = t.get(i).ok_or_else(bad)?;
            list.iter().copied().find(|x| x == want).ok_or_else(bad)
        };
        let action = match *t.first().ok_or_else(bad)? {
            "Start" => Action::Start(p()?),
            "Pause" => Action::Pause(p()?),
            "Resume" => Action::Resume(p()?),
            "Retry" => Action::Retry(p()?),
            "Continue" => Action::Continue(p()?),
            "Cancel" => Action::Cancel(p()?),
            "CliResume" => Action::CliResume(p()?),
            "CliRetry" => Action::CliRetry(p()?),
            "CliContinue" => Action::CliContinue(p()?),
            "KillServer" => Action::KillServer,
            "KillCli" => Action::KillCli,
            "EditDescription" => Action::EditDescription(p()?, num(2)? as u32, num(3)? as u32),
            "UploadImage" => Action::UploadImage(p()?, num(2)? as u32, num(3)? as u32),
            "RegenerateImage" => Action::RegenerateImage(p()?, num(2)? as u32),
            "ChangeConfig" => Action::ChangeConfig(
                p()?,
                match *t.get(2).ok_or_else(bad)? {
                    "ImageSeed" => ConfigChange::ImageSeed(num(3)? as u32),
                    "StylePreset" => ConfigChange::StylePreset(name(&STYLE_PRESETS, 3)?),
                    "NegativePrompt" => ConfigChange::NegativePrompt(num(3)? as u32),
                    "SpeakingRate" => ConfigChange::SpeakingRate(num(3)? as u32),
                    "SubtitleSize" => ConfigChange::SubtitleSize(num(3)? as u32),
                    "KenBurnsZoom" => ConfigChange::KenBurnsZoom(num(3)? as u32),
                    "ThumbnailTitleSize" => ConfigChange::ThumbnailTitleSize(num(3)? as u32),
                    "ThumbnailBackground" => ConfigChange::ThumbnailBackground(num(3)? as u32),
                    _ => return Err(bad()),
                },
            ),
            "ChangePrompt" => Action::ChangePrompt(p()?, num(2)? as u32),
            "ChangeModel" => Action::ChangeModel(p()?, name(&MODELS, 2)?),
            "SetLogo" => Action::SetLogo(p()?, num(2)? as u32),
            "NoPresenter" => Action::NoPresenter(p()?),
            "RemoveKey" => Action::RemoveKey(name(&KEYS.map(|(k, _)| k), 1)?),
            "PutKey" => Action::PutKey(name(&KEYS.map(|(k, _)| k), 1)?),
            "InjectFault" => {
                let want = t.get(1).ok_or_else(bad)?;
                Action::InjectFault(
                    FAULTS
                        .iter()
                        .copied()
                        .find(|f| format!("{f:?}") == *want)
                        .ok_or_else(bad)?,
                )
            }
            "ClearFaults" => Action::ClearFaults,
            "WaitFor" => Action::WaitFor(
                p()?,
                match *t.get(2).ok_or_else(bad)? {
                    "idle" => Until::Idle,
                    _ => Until::Status(name(&WAIT_STATUSES, 2)?),
                },
            ),
            "Sleep" => Action::Sleep(num(1)?),
            _ => return Err(bad()),
        };
        actions.push(action);
    }
    let projects = actions
        .iter()
        .filter_map(|a| match a {
            Action::Start(p)
            | Action::Pause(p)
            | Action::Resume(p)
            | Action::Retry(p)
            | Action::Continue(p)
            | Action::Cancel(p)
            | Action::CliResume(p)
            | Action::CliRetry(p)
            | Action::CliContinue(p)
            | Action::EditDescription(p, _, _)
            | Action::UploadImage(p, _, _)
            | Action::RegenerateImage(p, _)
            | Action::ChangeConfig(p, _)
            | Action::ChangePrompt(p, _)
            | Action::ChangeModel(p, _)
            | Action::SetLogo(p, _)
            | Action::NoPresenter(p)
            | Action::WaitFor(p, _) => Some(*p + 1),
            _ => None,
        })
        .max()
        .unwrap_or(1);
    Ok(Case {
        seed: 0,
        projects,
        actions,
    })
}
