//! Helpers shared by the CLI end-to-end tests. Each test file is its own binary and uses a subset.
//!
//! Every test runs the real `ytmaker` binary against a fresh temporary data directory, with the
//! real ffmpeg, espeak-ng and fonts, and checks what it leaves behind: the files (through ffprobe
//! and by reading them), the SQLite database (through `ytmaker-store`) and the JSON log lines.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;
use uuid::Uuid;
use ytmaker_core::asset::AssetKind;
use ytmaker_store::{Asset, Project, Store};

pub const BIN: &str = env!("CARGO_BIN_EXE_ytmaker");

/// Render settings that keep every test's encode as cheap as x264 allows.
pub const FAST_RENDER: &str = "[render]\nx264_preset = \"ultrafast\"\n";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `crates/ytmaker-providers/tests/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    repo_root()
        .join("crates/ytmaker-providers/tests/fixtures")
        .join(name)
}

pub fn sample_article() -> PathBuf {
    repo_root().join("samples/article-zh-TW.txt")
}

/// One async runtime for every store call a test makes (sqlx pools belong to a runtime).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
    .block_on(f)
}

/// A fresh data directory and the environment every command of one test runs in.
pub struct TestEnv {
    pub tmp: TempDir,
    pub data: PathBuf,
    extra_env: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let tmp = tempfile::Builder::new()
            .prefix("ytmaker-cli-e2e-")
            .tempdir()
            .expect("temp dir");
        let data = tmp.path().join("data");
        TestEnv {
            tmp,
            data,
            extra_env: Vec::new(),
        }
    }

    /// An environment variable set on every command this env runs.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.into(), value.into()));
    }

    /// Writes `text` to a file in the temp dir (outside the data directory) and returns its path.
    pub fn write_file(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.tmp.path().join(name);
        std::fs::write(&path, bytes).expect("write test file");
        path
    }

    /// The `ytmaker` command with a clean `YTMAKER_*` environment: the data dir, English guides.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("YTMAKER_") {
                cmd.env_remove(&key);
            }
        }
        cmd.env("YTMAKER_DATA_DIR", &self.data)
            .env("YTMAKER_LANG", "en")
            .env("NO_COLOR", "1");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd.args(args).stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    pub fn run_with(&self, args: &[&str], envs: &[(&str, &str)]) -> Run {
        let mut cmd = self.command(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        Run::of(cmd, args)
    }

    /// [`TestEnv::run`], but the process is killed (and the test fails) after `limit`.
    pub fn run_limited(&self, args: &[&str], limit: Duration) -> Run {
        let mut cmd = self.command(args);
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let out_reader = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = out.read_to_end(&mut b);
            b
        });
        let err_reader = std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = err.read_to_end(&mut b);
            b
        });
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for ytmaker") {
                break status;
            }
            if started.elapsed() > limit {
                let _ = child.kill();
                let _ = child.wait();
                let stderr =
                    String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
                panic!(
                    "`ytmaker {}` still ran after {limit:?}; killed\n{}",
                    args.join(" "),
                    tail(&stderr, 4000)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let output = Output {
            status,
            stdout: out_reader.join().unwrap_or_default(),
            stderr: err_reader.join().unwrap_or_default(),
        };
        Run::from_output(output, args, started.elapsed().as_secs_f64())
    }

    pub fn db_path(&self) -> PathBuf {
        self.data.join("ytmaker.db")
    }

    pub fn open_store(&self) -> Store {
        let url = Store::sqlite_url(&self.db_path());
        block_on(Store::open(&url))
            .unwrap_or_else(|e| panic!("open the test database {url}: {e} {:?}", e.details))
    }

    pub fn project(&self, id: &str) -> Project {
        let store = self.open_store();
        block_on(store.find_project(id)).unwrap_or_else(|e| panic!("project {id}: {e}"))
    }

    pub fn assets(&self, id: Uuid) -> Vec<Asset> {
        let store = self.open_store();
        block_on(store.assets(id)).expect("list assets")
    }

    /// Every project row (there is one per `generate` in a fresh data dir).
    pub fn all_projects(&self) -> Vec<Project> {
        let store = self.open_store();
        let rows = block_on(store.list_projects(&ytmaker_store::ProjectFilter {
            status: None,
            limit: 1000,
            offset: 0,
            ..Default::default()
        }))
        .expect("list projects");
        rows.iter()
            .map(|r| block_on(store.get_project(r.id)).expect("get project"))
            .collect()
    }

    pub fn project_dir(&self, id: Uuid) -> PathBuf {
        self.data.join("projects").join(id.to_string())
    }

    /// Every file below `<data>/logs`, with its text.
    pub fn log_files(&self) -> Vec<(PathBuf, String)> {
        let dir = self.data.join("logs");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.expect("log dir entry").path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p)
                    .unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
                (p, text)
            })
            .collect()
    }

    /// Every log line, parsed; panics (naming the file and line) on a line that is not JSON.
    pub fn log_lines(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for (path, text) in self.log_files() {
            for (n, line) in text.lines().enumerate() {
                let value: Value = serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!(
                        "{}:{}: not a JSON log line ({e}): {line}",
                        path.display(),
                        n + 1
                    )
                });
                assert!(
                    value.is_object(),
                    "{}:{}: log line is not an object: {line}",
                    path.display(),
                    n + 1
                );
                out.push(value);
            }
        }
        out
    }
}

/// A finished command with its output decoded.
pub struct Run {
    pub args: String,
    pub output: Output,
    pub stdout: String,
    pub stderr: String,
    pub seconds: f64,
}

impl Run {
    pub fn of(mut cmd: Command, args: &[&str]) -> Run {
        let started = Instant::now();
        let output = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
        Run::from_output(output, args, started.elapsed().as_secs_f64())
    }

    pub fn from_output(output: Output, args: &[&str], seconds: f64) -> Run {
        Run {
            args: args.join(" "),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            output,
            seconds,
        }
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// Panics with the whole output unless the command exited 0.
    pub fn assert_ok(&self) -> &Run {
        assert!(
            self.output.status.success(),
            "`ytmaker {}` failed: {}\n{}",
            self.args,
            self.output.status,
            self.describe()
        );
        self
    }

    pub fn describe(&self) -> String {
        format!(
            "--- stdout ---\n{}\n--- stderr ---\n{}",
            tail(&self.stdout, 6000),
            tail(&self.stderr, 6000)
        )
    }

    /// The trace id the command printed on stderr (`trace id <hex>` or `trace id: <hex>`).
    pub fn trace_id(&self) -> String {
        trace_id_in(&self.stderr).unwrap_or_else(|| {
            panic!(
                "no trace id on stderr of `ytmaker {}`\n{}",
                self.args,
                self.describe()
            )
        })
    }

    /// The project id the command printed (`project <uuid>` on stderr or stdout).
    pub fn project_id(&self) -> Option<Uuid> {
        for text in [&self.stderr, &self.stdout] {
            for line in text.lines() {
                let line = line.trim_start();
                if let Some(rest) = line.strip_prefix("project") {
                    let candidate = rest
                        .trim_start_matches([' ', ':'])
                        .split_whitespace()
                        .next()
                        .unwrap_or("");
                    if let Ok(id) = Uuid::parse_str(candidate) {
                        return Some(id);
                    }
                }
            }
        }
        None
    }
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

/// The 32-hex trace id after the first `trace id` in `text`.
pub fn trace_id_in(text: &str) -> Option<String> {
    let at = text.find("trace id")?;
    let rest = text[at + "trace id".len()..].trim_start_matches([':', ' ']);
    let id: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (id.len() >= 16).then_some(id)
}

// ---- ffprobe ----

/// What ffprobe says about a media file (`-show_streams -show_format -of json`).
pub struct Probe {
    pub json: Value,
}

impl Probe {
    pub fn stream(&self, kind: &str) -> &Value {
        let streams = self.json["streams"].as_array().expect("ffprobe streams");
        let found: Vec<&Value> = streams.iter().filter(|s| s["codec_type"] == kind).collect();
        assert_eq!(
            found.len(),
            1,
            "expected exactly one {kind} stream: {}",
            self.json
        );
        found[0]
    }

    pub fn video(&self) -> &Value {
        self.stream("video")
    }

    pub fn audio(&self) -> &Value {
        self.stream("audio")
    }

    pub fn format_duration(&self) -> f64 {
        num(&self.json["format"]["duration"])
    }
}

/// A number that ffprobe may print as a string.
pub fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")),
        other => panic!("not a number: {other}"),
    }
}

pub fn ffprobe(path: &Path) -> Probe {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(
        out.status.success(),
        "ffprobe {} failed: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Probe {
        json: serde_json::from_slice(&out.stdout).expect("ffprobe JSON"),
    }
}

/// The top-level ISO-BMFF boxes of an MP4 file: (type, offset, size).
pub fn mp4_top_level_boxes(path: &Path) -> Vec<(String, u64, u64)> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).expect("open mp4");
    let len = f.metadata().expect("mp4 metadata").len();
    let mut boxes = Vec::new();
    let mut offset = 0u64;
    while offset + 8 <= len {
        f.seek(SeekFrom::Start(offset)).expect("seek");
        let mut header = [0u8; 8];
        f.read_exact(&mut header).expect("box header");
        let mut size = u32::from_be_bytes(header[0..4].try_into().unwrap()) as u64;
        let kind = String::from_utf8_lossy(&header[4..8]).into_owned();
        if size == 1 {
            let mut large = [0u8; 8];
            f.read_exact(&mut large).expect("largesize");
            size = u64::from_be_bytes(large);
        } else if size == 0 {
            size = len - offset;
        }
        assert!(
            size >= 8,
            "{}: box {kind:?} at {offset} has size {size}",
            path.display()
        );
        boxes.push((kind, offset, size));
        offset += size;
    }
    assert_eq!(
        offset,
        len,
        "{}: top-level boxes do not end at the end of the file",
        path.display()
    );
    boxes
}

// ---- SubRip ----

#[derive(Debug, Clone)]
pub struct SrtCue {
    pub index: usize,
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
}

fn srt_time(raw: &str) -> Result<f64, String> {
    let raw = raw.trim();
    let (hms, ms) = raw
        .split_once(',')
        .ok_or_else(|| format!("no milliseconds in {raw:?}"))?;
    let parts: Vec<&str> = hms.split(':').collect();
    if parts.len() != 3 || ms.len() != 3 || parts.iter().any(|p| p.len() != 2) {
        return Err(format!("not HH:MM:SS,mmm: {raw:?}"));
    }
    let n = |s: &str| {
        s.parse::<u64>()
            .map_err(|_| format!("not a number in {raw:?}"))
    };
    let (h, m, s, ms) = (n(parts[0])?, n(parts[1])?, n(parts[2])?, n(ms)?);
    if m >= 60 || s >= 60 {
        return Err(format!("minutes/seconds out of range in {raw:?}"));
    }
    Ok((h * 3600 + m * 60 + s) as f64 + ms as f64 / 1000.0)
}

/// Parses a SubRip file strictly: numbered blocks, a `start --> end` line, at least one text line.
pub fn parse_srt(text: &str) -> Result<Vec<SrtCue>, String> {
    let text = text
        .strip_prefix('\u{feff}')
        .unwrap_or(text)
        .replace("\r\n", "\n");
    let mut cues = Vec::new();
    for (n, block) in text
        .split("\n\n")
        .map(|b| b.trim_matches('\n'))
        .filter(|b| !b.trim().is_empty())
        .enumerate()
    {
        let mut lines = block.lines();
        let index: usize = lines
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| format!("block {}: no cue number: {block:?}", n + 1))?;
        let times = lines
            .next()
            .ok_or_else(|| format!("cue {index}: no time line"))?;
        let (start, end) = times
            .split_once("-->")
            .ok_or_else(|| format!("cue {index}: bad time line {times:?}"))?;
        let body: Vec<&str> = lines.collect();
        if body.iter().all(|l| l.trim().is_empty()) {
            return Err(format!("cue {index}: no text"));
        }
        cues.push(SrtCue {
            index,
            start_s: srt_time(start)?,
            end_s: srt_time(end)?,
            text: body.join("\n"),
        });
    }
    Ok(cues)
}

pub fn strip_ws(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

// ---- checks shared by the rendering tests ----

/// Sum of the measured narration durations (`duration_s` of every audio asset).
pub fn narration_seconds(assets: &[Asset]) -> f64 {
    let audio: Vec<&Asset> = assets
        .iter()
        .filter(|a| a.key.kind == AssetKind::Audio)
        .collect();
    assert!(!audio.is_empty(), "no audio assets");
    audio
        .iter()
        .map(|a| {
            assert!(
                a.is_completed(),
                "audio {:?} is {:?}",
                a.key.index,
                a.status
            );
            a.metadata["duration_s"].as_f64().unwrap_or_else(|| {
                panic!("audio {:?} has no duration_s: {}", a.key.index, a.metadata)
            })
        })
        .sum()
}

/// The published format of `final_video.mp4` (SPEC §2 stage 3) and its durations against the
/// narration. Returns the video stream's duration.
pub fn check_final_video(video: &Path, narration_s: f64) -> f64 {
    assert!(video.is_file(), "{} is missing", video.display());
    let probe = ffprobe(video);
    let v = probe.video();
    let a = probe.audio();
    assert_eq!(v["codec_name"], "h264", "video codec: {v}");
    assert_eq!(v["profile"], "High", "H.264 profile: {v}");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(1920), Some(1080)),
        "frame size: {v}"
    );
    assert_eq!(v["r_frame_rate"], "30/1", "frame rate: {v}");
    assert_eq!(v["pix_fmt"], "yuv420p", "pixel format: {v}");
    assert_eq!(a["codec_name"], "aac", "audio codec: {a}");
    assert_eq!(a["sample_rate"], "48000", "sample rate: {a}");
    let bit_rate = num(&a["bit_rate"]);
    assert!(
        (180_000.0..=200_000.0).contains(&bit_rate),
        "audio bit rate {bit_rate} is not ~192 kb/s"
    );
    let (vd, ad) = (num(&v["duration"]), num(&a["duration"]));
    assert!(
        (vd - ad).abs() <= 0.5,
        "video {vd:.3} s and audio {ad:.3} s differ by more than 0.5 s"
    );
    assert!(
        (vd - narration_s).abs() <= 0.5,
        "video {vd:.3} s vs narration {narration_s:.3} s"
    );
    assert!(
        (ad - narration_s).abs() <= 0.5,
        "audio {ad:.3} s vs narration {narration_s:.3} s"
    );

    let boxes = mp4_top_level_boxes(video);
    let pos = |kind: &str| boxes.iter().position(|(k, _, _)| k == kind);
    let (moov, mdat) = (pos("moov"), pos("mdat"));
    assert!(
        moov.is_some() && mdat.is_some(),
        "moov/mdat missing: {boxes:?}"
    );
    assert!(
        moov < mdat,
        "not +faststart: moov comes after mdat: {boxes:?}"
    );
    vd
}

/// `thumbnail.jpg`: a JPEG, 1280×720, under 2 MB.
pub fn check_thumbnail(path: &Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    assert!(
        bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
        "{} is not a JPEG (starts {:02x?})",
        path.display(),
        &bytes[..bytes.len().min(4)]
    );
    assert!(
        bytes.len() < 2 * 1024 * 1024,
        "thumbnail is {} bytes, over 2 MB",
        bytes.len()
    );
    let probe = ffprobe(path);
    let v = probe.video();
    assert_eq!(v["codec_name"], "mjpeg", "thumbnail codec: {v}");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(1280), Some(720)),
        "thumbnail size: {v}"
    );
}

/// `subtitles.srt`: numbered 1..n, in time order without overlaps, from ~0 to ~the video's end,
/// and holding every narration line (intro, segments, outro as given) in order.
pub fn check_subtitles(path: &Path, video_s: f64, narration_in_order: &[String]) -> Vec<SrtCue> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let cues =
        parse_srt(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    assert!(!cues.is_empty(), "no cues in {}", path.display());
    for (i, cue) in cues.iter().enumerate() {
        assert_eq!(cue.index, i + 1, "cue numbers are not 1..n: {cue:?}");
        assert!(
            cue.end_s > cue.start_s,
            "cue {} ends before it starts: {cue:?}",
            cue.index
        );
        if i > 0 {
            let prev = &cues[i - 1];
            assert!(
                cue.start_s >= prev.end_s,
                "cue {} overlaps cue {}: {prev:?} {cue:?}",
                cue.index,
                prev.index
            );
        }
    }
    assert!(
        cues[0].start_s <= 0.05,
        "first cue starts at {} s",
        cues[0].start_s
    );
    let last_end = cues.last().unwrap().end_s;
    assert!(
        (last_end - video_s).abs() <= 1.0,
        "last cue ends at {last_end} s, video lasts {video_s} s"
    );

    let all: String = cues.iter().map(|c| strip_ws(&c.text)).collect();
    let mut from = 0;
    for (n, line) in narration_in_order.iter().enumerate() {
        let want = strip_ws(line);
        match all[from..].find(&want) {
            Some(at) => from += at + want.len(),
            None => panic!(
                "narration line {n} is not in the subtitles (in order) after offset {from}:\n{want}\n--- subtitles ---\n{all}"
            ),
        }
    }
    cues
}

/// Every narration line of a script in playing order (intro, segments, outro).
pub fn narration_in_order(script: &ytmaker_core::script::Script) -> Vec<String> {
    let mut lines = vec![script.intro.text.clone()];
    lines.extend(script.segments.iter().map(|s| s.narration.clone()));
    lines.push(script.outro.text.clone());
    lines
}

/// A finished `generate` of one article with the default target length and the fast encoder,
/// plus what it left behind.
pub struct Generated {
    pub env: TestEnv,
    pub run: Run,
    pub trace: String,
    pub project: Project,
    pub assets: Vec<Asset>,
    pub dir: PathBuf,
    pub narration_s: f64,
    pub video_s: f64,
}

/// Runs `generate <article> --offline --config <ultrafast>` and checks the parts every language
/// shares: exit 0, COMPLETED, the video's format and durations, the thumbnail and the subtitles.
pub fn generate_and_check(article: &Path) -> Generated {
    let env = TestEnv::new();
    let config = env.write_file("ultrafast.toml", FAST_RENDER);
    let run = env.run(&[
        "generate",
        article.to_str().unwrap(),
        "--offline",
        "--config",
        config.to_str().unwrap(),
    ]);
    run.assert_ok();
    eprintln!("generate {} took {:.1} s", article.display(), run.seconds);
    let trace = run.trace_id();
    assert_eq!(trace.len(), 32, "trace id {trace:?}");
    let id = run
        .project_id()
        .unwrap_or_else(|| panic!("no project id printed\n{}", run.describe()));
    let project = env.project(&id.to_string());
    assert_eq!(project.status, ytmaker_core::ProjectStatus::Completed);
    assert!(
        project.error_info.is_none(),
        "a completed project has no error_info: {:?}",
        project.error_info
    );
    assert_eq!(
        project.trace_id.as_ref().map(|t| t.as_str()),
        Some(trace.as_str())
    );
    let assets = env.assets(id);
    for a in &assets {
        assert!(
            a.is_completed(),
            "{} {:?} is {:?}",
            a.key.kind.as_str(),
            a.key.index,
            a.status
        );
        assert_eq!(
            a.attempts,
            1,
            "{} {:?} took {} attempts in a clean run",
            a.key.kind.as_str(),
            a.key.index,
            a.attempts
        );
    }
    let script = project
        .script
        .clone()
        .expect("script stored on the project");
    let audio = assets
        .iter()
        .filter(|a| a.key.kind == AssetKind::Audio)
        .count();
    assert_eq!(
        audio,
        script.segments.len() + 2,
        "one narration per line (intro, segments, outro)"
    );

    let dir = env.project_dir(id);
    let video = dir.join("output/final_video.mp4");
    assert!(
        run.stdout.contains(&video.display().to_string()),
        "stdout does not name the video\n{}",
        run.describe()
    );
    let narration_s = narration_seconds(&assets);
    let video_s = check_final_video(&video, narration_s);
    check_thumbnail(&dir.join("output/thumbnail.jpg"));
    check_subtitles(
        &dir.join("output/subtitles.srt"),
        video_s,
        &narration_in_order(&script),
    );
    Generated {
        env,
        run,
        trace,
        project,
        assets,
        dir,
        narration_s,
        video_s,
    }
}
