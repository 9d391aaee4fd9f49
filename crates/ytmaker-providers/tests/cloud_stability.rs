//! The Stability AI illustrator against the fake cloud, over real HTTP: the request it sends, the
//! image it keeps, and the code, retry policy and number of calls for every failure it can meet.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tempfile::TempDir;
use ytmaker_core::config::ImageSettings;
use ytmaker_core::script::{Language, Segment};
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};
use ytmaker_fake_cloud::{Api, FakeCloud, Fault, FaultAction};
use ytmaker_providers::cloud::http::{CallRecord, CallRecorder};
use ytmaker_providers::cloud::stability::{StabilityIllustrator, test_key};
use ytmaker_providers::cloud::{CloudContext, Endpoints, Timeouts};
use ytmaker_providers::retry::{self, DelayScale};
use ytmaker_providers::{Illustrator, ImageAsset, ImageRequest};

const KEY: &str = "sk-test-SECRET-0042";
const INVALID_KEY: &str = "invalid-sk-test-SECRET-0042";
const GENERATE: &str = "generate";

struct Env {
    cloud: FakeCloud,
    ctx: CloudContext,
    out: TempDir,
}

async fn env_with(timeouts: Timeouts) -> Env {
    let cloud = FakeCloud::start_local().await.expect("fake cloud starts");
    let ctx = CloudContext::new(Endpoints::all_at(&cloud.url()), timeouts).expect("http client");
    Env {
        cloud,
        ctx,
        out: tempfile::tempdir().expect("temp dir"),
    }
}

async fn env() -> Env {
    env_with(Timeouts::default()).await
}

fn settings() -> ImageSettings {
    ImageSettings {
        style_preset: Some("cinematic".into()),
        style_modifiers: "soft evening light, watercolor".into(),
        negative_prompt: "text, watermark".into(),
        seed: 42,
        ..ImageSettings::default()
    }
}

fn segment(image_prompt: Option<&str>) -> Segment {
    Segment {
        index: 3,
        narration: "夜晚的台北街頭燈火通明。".into(),
        image_description: "台北街頭的夜景，霓虹燈與人潮".into(),
        image_prompt: image_prompt.map(str::to_owned),
        key_phrase: "台北夜景".into(),
        estimated_seconds: 8.0,
        description_edited: false,
    }
}

async fn illustrate(
    illustrator: &StabilityIllustrator,
    segment: &Segment,
    out: &Path,
) -> YtResult<ImageAsset> {
    illustrator
        .illustrate(&ImageRequest {
            segment,
            language: Language::ZhTw,
            out_dir: out,
            file_stem: "segment-003",
        })
        .await
}

/// Runs one image through the retry loop, as the pipeline does; returns the result and the
/// number of attempts made.
async fn illustrate_with_retries(
    env: &Env,
    key: &str,
    settings: ImageSettings,
) -> (Result<ImageAsset, YtError>, u32) {
    let illustrator = StabilityIllustrator::new(&env.ctx, Secret::new(key), settings);
    let segment = segment(Some("Taipei street at night, neon signs and crowds"));
    let attempts = AtomicU32::new(0);
    let result = retry::run(
        DelayScale(0.0),
        |_| {
            attempts.fetch_add(1, Ordering::SeqCst);
            illustrate(&illustrator, &segment, env.out.path())
        },
        |_, _| async { Ok(()) },
    )
    .await;
    match result {
        Ok(asset) => (Ok(asset), attempts.load(Ordering::SeqCst)),
        Err((err, made)) => {
            assert_eq!(made, attempts.load(Ordering::SeqCst));
            (Err(err), made)
        }
    }
}

/// Width and height of a picture as ffprobe reads it.
fn ffprobe_size(path: &Path) -> (u32, u32) {
    let out = std::process::Command::new(&common::tools().ffprobe)
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    assert!(out.status.success(), "ffprobe reads {}", path.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = text.trim().split(',').collect();
    assert_eq!(fields[0], "png", "ffprobe sees a PNG: {text}");
    (fields[1].parse().unwrap(), fields[2].parse().unwrap())
}

#[tokio::test]
async fn an_image_is_generated_from_the_english_prompt_with_the_project_style() {
    let env = env().await;
    let illustrator = StabilityIllustrator::new(&env.ctx, Secret::new(KEY), settings());
    let segment = segment(Some("Taipei street at night, neon signs and crowds"));

    let asset = illustrate(&illustrator, &segment, env.out.path())
        .await
        .expect("image generated");

    assert_eq!(asset.path, env.out.path().join("segment-003.png"));
    assert_eq!((asset.width, asset.height), (1536, 864));
    assert_eq!(ffprobe_size(&asset.path), (1536, 864));
    let names: Vec<_> = std::fs::read_dir(env.out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["segment-003.png"], "no temporary file left behind");

    let sent = env.cloud.state().stability.requests();
    assert_eq!(sent.len(), 1);
    let sent = &sent[0];
    assert_eq!(
        sent.prompt.as_deref(),
        Some("Taipei street at night, neon signs and crowds, soft evening light, watercolor")
    );
    assert_eq!(sent.negative_prompt.as_deref(), Some("text, watermark"));
    assert_eq!(sent.aspect_ratio.as_deref(), Some("16:9"));
    assert_eq!(sent.seed.as_deref(), Some("42"));
    assert_eq!(sent.style_preset.as_deref(), Some("cinematic"));
    assert_eq!(sent.output_format.as_deref(), Some("png"));
    assert_eq!(sent.accept.as_deref(), Some("image/*"));
    assert_eq!(env.cloud.count(Api::Stability, GENERATE), 1);
}

#[tokio::test]
async fn without_an_english_prompt_the_description_is_sent_and_unset_options_are_left_out() {
    let env = env().await;
    let plain = ImageSettings {
        seed: 0,
        ..ImageSettings::default()
    };
    let illustrator = StabilityIllustrator::new(&env.ctx, Secret::new(KEY), plain);

    illustrate(&illustrator, &segment(None), env.out.path())
        .await
        .expect("image generated");

    let sent = &env.cloud.state().stability.requests()[0];
    assert_eq!(sent.prompt.as_deref(), Some("台北街頭的夜景，霓虹燈與人潮"));
    assert_eq!(sent.negative_prompt, None);
    assert_eq!(sent.style_preset, None);
    assert_eq!(sent.seed.as_deref(), Some("0"), "0 asks for a random seed");
}

#[tokio::test]
async fn an_empty_description_is_refused_without_a_call() {
    let env = env().await;
    let illustrator = StabilityIllustrator::new(&env.ctx, Secret::new(KEY), settings());
    let mut empty = segment(Some("  "));
    empty.image_description = " ".into();

    let err = illustrate(&illustrator, &empty, env.out.path())
        .await
        .unwrap_err();

    assert_eq!(err.code, ErrorCode::STABILITY_INVALID_PROMPT);
    assert_eq!(env.cloud.count(Api::Stability, GENERATE), 0);
}

struct Row {
    name: &'static str,
    key: &'static str,
    settings: fn() -> ImageSettings,
    fault: Option<Fault>,
    code: ErrorCode,
}

fn error(status: u16, reason: Option<&str>) -> Option<Fault> {
    Some(Fault::error(Api::Stability, Some(GENERATE), status, reason))
}

fn action(action: FaultAction) -> Option<Fault> {
    Some(Fault::new(Api::Stability, Some(GENERATE), action))
}

fn rows() -> Vec<Row> {
    use ErrorCode::*;
    let row = |name, fault, code| Row {
        name,
        key: KEY,
        settings,
        fault,
        code,
    };
    vec![
        Row {
            key: INVALID_KEY,
            ..row("invalid key", None, STABILITY_INVALID_API_KEY)
        },
        Row {
            key: "",
            ..row("missing key", None, STABILITY_INVALID_API_KEY)
        },
        Row {
            settings: || ImageSettings {
                style_preset: Some("vaporwave".into()),
                ..settings()
            },
            ..row(
                "a parameter the API refuses",
                None,
                STABILITY_INVALID_PROMPT,
            )
        },
        row(
            "400 bad request",
            error(400, None),
            STABILITY_INVALID_PROMPT,
        ),
        row(
            "413 payload too large",
            error(413, None),
            STABILITY_INVALID_PROMPT,
        ),
        row(
            "422 invalid language",
            error(422, Some("invalid_language")),
            STABILITY_INVALID_PROMPT,
        ),
        row(
            "402 no credits",
            error(402, Some("credits")),
            STABILITY_QUOTA_EXCEEDED,
        ),
        row(
            "403 content moderation",
            error(403, Some("content_moderation")),
            STABILITY_CONTENT_POLICY,
        ),
        row(
            "200 content filtered",
            error(200, Some("content_filtered")),
            STABILITY_CONTENT_POLICY,
        ),
        row(
            "429 rate limit",
            error(429, Some("rate")),
            STABILITY_RATE_LIMIT,
        ),
        row(
            "500 internal error",
            error(500, None),
            STABILITY_SERVER_ERROR,
        ),
        row(
            "503 HTML page from the load balancer",
            action(FaultAction::Html { status: 503 }),
            STABILITY_SERVER_ERROR,
        ),
        row(
            "dropped connection",
            action(FaultAction::Drop),
            STABILITY_NETWORK_ERROR,
        ),
        row(
            "200 with malformed JSON instead of an image",
            action(FaultAction::MalformedJson),
            STABILITY_INVALID_RESPONSE,
        ),
        row(
            "200 with an HTML page",
            action(FaultAction::Html { status: 200 }),
            STABILITY_INVALID_RESPONSE,
        ),
        row(
            "403 HTML page from a proxy",
            action(FaultAction::Html { status: 403 }),
            STABILITY_INVALID_RESPONSE,
        ),
    ]
}

/// Attempts the catalogue allows for a fault that never goes away.
fn attempts_for(code: ErrorCode) -> u32 {
    let policy = code.spec().retry;
    if policy.is_retryable() {
        policy.max_retries + 1
    } else {
        1
    }
}

fn assert_no_key_in(err: &YtError, key: &str, row: &str) {
    let shown = format!(
        "{} {}",
        err.message,
        serde_json::to_string(&err.details).unwrap()
    );
    assert!(!shown.contains(key), "{row}: the key leaked into {shown}");
    assert!(
        !shown.contains("SECRET-0042"),
        "{row}: part of the key leaked into {shown}"
    );
}

fn check_failure(
    row: &str,
    outcome: (Result<ImageAsset, YtError>, u32),
    calls: usize,
    code: ErrorCode,
    key: &str,
) {
    let (result, attempts) = outcome;
    let err = result.expect_err(row);
    assert_eq!(err.code, code, "{row}: {err} {:?}", err.details);
    assert_eq!(
        err.is_retryable(),
        code.spec().retry.is_retryable(),
        "{row}"
    );
    assert_eq!(attempts, attempts_for(code), "{row}: attempts");
    assert_eq!(
        calls,
        attempts_for(code) as usize,
        "{row}: calls the fake cloud saw"
    );
    if !key.is_empty() {
        assert_no_key_in(&err, key, row);
    }
}

#[tokio::test]
async fn every_failure_has_its_code_and_retry_policy() {
    let mut seen = Vec::new();
    for row in rows() {
        let env = env().await;
        if let Some(fault) = row.fault.clone() {
            env.cloud.add_fault(fault);
        }
        let outcome = illustrate_with_retries(&env, row.key, (row.settings)()).await;
        let calls = env.cloud.count(Api::Stability, GENERATE);
        check_failure(row.name, outcome, calls, row.code, row.key);
        let leftovers = std::fs::read_dir(env.out.path()).unwrap().count();
        assert_eq!(leftovers, 0, "{}: a failure writes no file", row.name);
        seen.push(row.code);
    }
    // A hang needs a short client timeout, so it has its own test below; together they cover
    // every code of the family.
    seen.push(ErrorCode::STABILITY_TIMEOUT);
    for code in ErrorCode::ALL
        .iter()
        .filter(|c| c.as_str().starts_with("STABILITY_"))
    {
        assert!(seen.contains(code), "no row for {code}");
    }
}

#[tokio::test]
async fn a_hang_is_a_timeout_retried_once() {
    let env = env_with(Timeouts {
        request: Duration::from_millis(300),
        ..Timeouts::default()
    })
    .await;
    env.cloud.add_fault(action(FaultAction::Hang).unwrap());

    let outcome = illustrate_with_retries(&env, KEY, settings()).await;

    let calls = env.cloud.count(Api::Stability, GENERATE);
    check_failure("hang", outcome, calls, ErrorCode::STABILITY_TIMEOUT, KEY);
}

#[tokio::test]
async fn retry_after_reaches_the_error_details() {
    let env = env().await;
    env.cloud
        .add_fault(error(429, Some("rate")).unwrap().retry_after(7).times(1));
    let illustrator = StabilityIllustrator::new(&env.ctx, Secret::new(KEY), settings());

    let err = illustrate(&illustrator, &segment(None), env.out.path())
        .await
        .unwrap_err();

    assert_eq!(err.code, ErrorCode::STABILITY_RATE_LIMIT);
    assert_eq!(err.details["retry_after_ms"], 7000);
    assert_eq!(err.details["http_status"], 429);
    assert_eq!(err.details["stability_error"], "rate_limit_exceeded");

    // Without the header, the documented 60 s lock-out of an over-limit key is the hint.
    env.cloud
        .add_fault(error(429, Some("rate")).unwrap().times(1));
    let err = illustrate(&illustrator, &segment(None), env.out.path())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::STABILITY_RATE_LIMIT);
    assert_eq!(err.details["retry_after_ms"], 60_000);
}

#[tokio::test]
async fn a_burst_of_rate_limits_is_retried_until_the_image_comes() {
    let env = env().await;
    env.cloud
        .add_fault(error(429, Some("rate")).unwrap().retry_after(1).times(2));

    let (result, attempts) = illustrate_with_retries(&env, KEY, settings()).await;

    let asset = result.expect("the third attempt succeeds");
    assert_eq!(attempts, 3);
    assert_eq!(env.cloud.count(Api::Stability, GENERATE), 3);
    assert_eq!((asset.width, asset.height), (1536, 864));
    assert!(asset.path.exists());
}

#[tokio::test]
async fn test_key_reports_the_balance_and_refuses_a_wrong_key() {
    let env = env().await;

    let said = test_key(&env.ctx, &Secret::new(KEY))
        .await
        .expect("key works");
    assert_eq!(said, "key works; 10000 credits");

    let err = test_key(&env.ctx, &Secret::new(INVALID_KEY))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::STABILITY_INVALID_API_KEY);
    assert_no_key_in(&err, INVALID_KEY, "test_key");
    assert_eq!(env.cloud.count(Api::Stability, "balance"), 2);
}

/// Keeps every record the client reports.
#[derive(Debug, Default)]
struct Collect(std::sync::Mutex<Vec<CallRecord>>);

impl CallRecorder for Collect {
    fn record(&self, call: CallRecord) {
        self.0.lock().unwrap().push(call);
    }
}

#[tokio::test]
async fn every_call_is_recorded_with_the_code_the_client_mapped_it_to() {
    let mut env = env_with(Timeouts {
        request: Duration::from_millis(300),
        ..Timeouts::default()
    })
    .await;
    let records = std::sync::Arc::new(Collect::default());
    env.ctx = env.ctx.clone().with_recorder(records.clone());
    env.cloud
        .add_fault(Fault::error(Api::Stability, Some(GENERATE), 500, None).times(1));
    env.cloud
        .add_fault(Fault::new(Api::Stability, Some(GENERATE), FaultAction::Hang).times(1));
    let illustrator = StabilityIllustrator::new(&env.ctx, Secret::new(KEY), settings());
    let segment = segment(Some("Taipei street at night"));
    let server_error = illustrate(&illustrator, &segment, env.out.path()).await;
    assert_eq!(
        server_error.unwrap_err().code,
        ErrorCode::STABILITY_SERVER_ERROR
    );
    let hang = illustrate(&illustrator, &segment, env.out.path()).await;
    assert_eq!(hang.unwrap_err().code, ErrorCode::STABILITY_TIMEOUT);
    // The answered call gets the usual timeout: the fake paints a real image, which can take
    // longer than 300 ms on a busy machine.
    let patient = CloudContext {
        timeouts: Timeouts::default(),
        ..env.ctx.clone()
    };
    illustrate(
        &StabilityIllustrator::new(&patient, Secret::new(KEY), settings()),
        &segment,
        env.out.path(),
    )
    .await
    .unwrap();

    let seen = records.0.lock().unwrap().clone();
    let summary: Vec<_> = seen
        .iter()
        .map(|r| (r.api, r.endpoint, r.status, r.error_code, r.quota_units))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "stability",
                GENERATE,
                Some(500),
                Some(ErrorCode::STABILITY_SERVER_ERROR),
                0
            ),
            (
                "stability",
                GENERATE,
                None,
                Some(ErrorCode::STABILITY_TIMEOUT),
                0
            ),
            ("stability", GENERATE, Some(200), None, 0),
        ]
    );
    assert!(seen.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
    assert!(seen[1].duration >= Duration::from_millis(300));
}
