//! The Google Cloud Text-to-Speech narrator against the fake cloud, over real HTTP: the request it
//! sends (voice, language, audio settings, key header), the WAV it keeps (measured with ffprobe),
//! the voice check, and the code, retry policy and number of calls for every failure the API can
//! report.

mod common;

use std::path::Path;
use std::time::Duration;

use common::tools;
use serde_json::{Value, json};
use tempfile::TempDir;
use ytmaker_core::config::{NarrationSettings, VoiceGender};
use ytmaker_core::script::Language;
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};
use ytmaker_fake_cloud::{Api, FakeCloud, Fault, FaultAction};
use ytmaker_providers::cloud::google_tts::{self, GoogleTtsNarrator};
use ytmaker_providers::cloud::{CloudContext, Endpoints, Timeouts};
use ytmaker_providers::retry::{self, DelayScale};
use ytmaker_providers::{NarrationAudio, NarrationRequest, Narrator};

const KEY: &str = "AIzaSyTEST-tts-SECRET-0042";
const INVALID_KEY: &str = "invalid-AIzaSyTEST-tts-SECRET-0042";
const SYNTHESIZE: &str = "synthesize";
const VOICES: &str = "voices.list";
const LINE_ZH: &str = "颱風帶來豐沛的雨水，補充水庫與地下水。";
const LINE_EN: &str = "Typhoons bring heavy rain that refills reservoirs.";

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

fn narrator(env: &Env, key: &str) -> GoogleTtsNarrator {
    GoogleTtsNarrator::new(&env.ctx, Secret::new(key), tools())
}

async fn narrate(
    narrator: &GoogleTtsNarrator,
    text: &str,
    language: Language,
    settings: &NarrationSettings,
    out: &Path,
) -> YtResult<NarrationAudio> {
    narrator
        .narrate(&NarrationRequest {
            text,
            language,
            settings,
            out_dir: out,
            file_stem: "line-004",
        })
        .await
}

/// `narrate` through the one retry loop, as the pipeline runs it.
async fn narrate_with_retries(env: &Env, key: &str) -> Result<NarrationAudio, (YtError, u32)> {
    let narrator = narrator(env, key);
    let settings = NarrationSettings::default();
    retry::run(
        DelayScale(0.0),
        |_| {
            narrate(
                &narrator,
                LINE_ZH,
                Language::ZhTw,
                &settings,
                env.out.path(),
            )
        },
        |_, _| async { Ok(()) },
    )
    .await
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// How long the fake voice speaks `text` (see the fake's documentation).
fn fake_seconds(text: &str, rate: f64) -> f64 {
    let units: f64 = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            if (0x4E00..=0x9FFF).contains(&(c as u32)) {
                0.22
            } else {
                0.06
            }
        })
        .sum();
    (units / rate).max(0.5)
}

#[tokio::test]
async fn a_chinese_line_becomes_a_measured_wav_in_a_taiwanese_voice() {
    let env = env().await;
    let settings = NarrationSettings::default();
    let audio = narrate(
        &narrator(&env, KEY),
        LINE_ZH,
        Language::ZhTw,
        &settings,
        env.out.path(),
    )
    .await
    .expect("narration");

    assert_eq!(audio.path, env.out.path().join("line-004.wav"));
    assert_eq!(
        files_in(env.out.path()),
        ["line-004.wav"],
        "no temporary file left"
    );
    let info = ytmaker_render::probe(&tools(), &audio.path)
        .await
        .expect("probe");
    let stream = info.audio.expect("an audio stream");
    assert_eq!(stream.codec, "pcm_s16le");
    assert_eq!(stream.sample_rate, google_tts::SAMPLE_RATE_HZ);
    assert_eq!(stream.channels, 1);
    assert!(
        (audio.duration_s - info.duration_s).abs() < 1e-9,
        "measured, not estimated"
    );
    assert!(
        (audio.duration_s - fake_seconds(LINE_ZH, 1.0)).abs() < 0.01,
        "{} s",
        audio.duration_s
    );

    let sent = env
        .cloud
        .state()
        .tts
        .last_synthesize_request()
        .expect("request recorded");
    assert_eq!(sent["input"], json!({"text": LINE_ZH}));
    assert_eq!(
        sent["voice"],
        json!({"languageCode": "cmn-TW", "name": "cmn-TW-Standard-A", "ssmlGender": "FEMALE"})
    );
    assert_eq!(
        sent["audioConfig"],
        json!({"audioEncoding": "LINEAR16", "speakingRate": 1.0, "pitch": 0.0, "sampleRateHertz": 24000})
    );
    assert!(
        !sent.to_string().contains(KEY),
        "the key travels in the header only"
    );
    assert_eq!(env.cloud.count(Api::GoogleTts, SYNTHESIZE), 1);
}

#[tokio::test]
async fn an_english_line_uses_the_english_voice_rate_and_pitch() {
    let env = env().await;
    let settings = NarrationSettings {
        voice: VoiceGender::Male,
        speaking_rate: 1.5,
        pitch: -2.0,
    };
    let audio = narrate(
        &narrator(&env, KEY),
        LINE_EN,
        Language::En,
        &settings,
        env.out.path(),
    )
    .await
    .expect("narration");
    assert!((audio.duration_s - fake_seconds(LINE_EN, 1.5)).abs() < 0.01);
    let sent = env.cloud.state().tts.last_synthesize_request().unwrap();
    assert_eq!(
        sent["voice"],
        json!({"languageCode": "en-US", "name": "en-US-Standard-D", "ssmlGender": "MALE"})
    );
    assert_eq!(sent["audioConfig"]["speakingRate"], 1.5);
    assert_eq!(sent["audioConfig"]["pitch"], -2.0);
}

#[tokio::test]
async fn the_check_and_the_key_test_list_the_taiwanese_voices() {
    let env = env().await;
    let said = narrator(&env, KEY).check().await.expect("check");
    assert_eq!(
        said,
        "key works; 6 cmn-TW voices available (ytmaker uses cmn-TW-Standard-A, cmn-TW-Standard-B)"
    );
    assert_eq!(
        google_tts::test_key(&env.ctx, &Secret::new(KEY))
            .await
            .unwrap(),
        said
    );
    assert_eq!(env.cloud.count(Api::GoogleTts, VOICES), 2);
    assert_eq!(
        env.cloud.count(Api::GoogleTts, SYNTHESIZE),
        0,
        "nothing is synthesized"
    );

    let err = narrator(&env, INVALID_KEY)
        .check()
        .await
        .expect_err("refused");
    assert_eq!(err.code, ErrorCode::TTS_INVALID_API_KEY);
    env.cloud
        .add_fault(Fault::error(Api::GoogleTts, Some(VOICES), 403, None));
    let err = google_tts::test_key(&env.ctx, &Secret::new(KEY))
        .await
        .expect_err("API disabled");
    assert_eq!(err.code, ErrorCode::TTS_INVALID_API_KEY);
}

#[tokio::test]
async fn a_line_the_api_cannot_take_is_refused_before_any_call() {
    let env = env().await;
    let settings = NarrationSettings::default();
    let n = narrator(&env, KEY);
    // 1,700 ideographs are 5,100 bytes of UTF-8.
    let long = "颱".repeat(1700);
    let err = narrate(&n, &long, Language::ZhTw, &settings, env.out.path())
        .await
        .expect_err("too long");
    assert_eq!(err.code, ErrorCode::TTS_INVALID_INPUT);
    assert_eq!(err.details.get("bytes"), Some(&Value::from(5100)));
    let err = narrate(&n, " 。 ", Language::ZhTw, &settings, env.out.path())
        .await
        .expect_err("nothing to say");
    assert_eq!(err.code, ErrorCode::TTS_INVALID_INPUT);
    assert_eq!(env.cloud.count(Api::GoogleTts, SYNTHESIZE), 0);
}

/// One failure and what must come of it.
struct Row {
    name: &'static str,
    faults: Vec<Fault>,
    key: &'static str,
    timeouts: Timeouts,
    code: ErrorCode,
    retryable: bool,
    detail: Option<(&'static str, Value)>,
}

fn row(name: &'static str, fault: Option<Fault>, code: ErrorCode, retryable: bool) -> Row {
    Row {
        name,
        faults: fault.into_iter().collect(),
        key: KEY,
        timeouts: Timeouts::default(),
        code,
        retryable,
        detail: None,
    }
}

fn error(status: u16, reason: Option<&str>) -> Option<Fault> {
    Some(Fault::error(
        Api::GoogleTts,
        Some(SYNTHESIZE),
        status,
        reason,
    ))
}

fn action(action: FaultAction) -> Option<Fault> {
    Some(Fault::new(Api::GoogleTts, Some(SYNTHESIZE), action))
}

fn rows() -> Vec<Row> {
    use ErrorCode as C;
    vec![
        Row {
            key: INVALID_KEY,
            detail: Some(("google_reasons", json!(["API_KEY_INVALID"]))),
            ..row("invalid key", None, C::TTS_INVALID_API_KEY, false)
        },
        Row {
            key: "",
            ..row("missing key", None, C::TTS_INVALID_API_KEY, false)
        },
        Row {
            detail: Some(("google_reasons", json!(["SERVICE_DISABLED"]))),
            ..row(
                "API not enabled (403)",
                error(403, None),
                C::TTS_INVALID_API_KEY,
                false,
            )
        },
        row(
            "billing disabled (403)",
            error(403, Some("billing")),
            C::TTS_INVALID_API_KEY,
            false,
        ),
        row("401", error(401, None), C::TTS_INVALID_API_KEY, false),
        row(
            "text refused (400)",
            error(400, None),
            C::TTS_INVALID_INPUT,
            false,
        ),
        Row {
            detail: Some(("quotas", json!(["RequestsPerDayPerProject"]))),
            ..row(
                "daily quota (429)",
                error(429, Some("daily_quota")),
                C::TTS_QUOTA_EXCEEDED,
                false,
            )
        },
        row(
            "per-minute rate limit (429)",
            error(429, None),
            C::TTS_RATE_LIMIT,
            true,
        ),
        Row {
            faults: vec![Fault::error(Api::GoogleTts, Some(SYNTHESIZE), 429, None).retry_after(3)],
            detail: Some(("retry_after_ms", 3_000.into())),
            ..row("Retry-After header", None, C::TTS_RATE_LIMIT, true)
        },
        row("500", error(500, None), C::TTS_SERVER_ERROR, true),
        row("503", error(503, None), C::TTS_SERVER_ERROR, true),
        row("504", error(504, None), C::TTS_TIMEOUT, true),
        Row {
            timeouts: Timeouts {
                request: Duration::from_millis(400),
                ..Timeouts::default()
            },
            ..row(
                "hang past the timeout",
                action(FaultAction::Hang),
                C::TTS_TIMEOUT,
                true,
            )
        },
        row(
            "dropped connection",
            action(FaultAction::Drop),
            C::TTS_NETWORK_ERROR,
            true,
        ),
        row(
            "malformed JSON",
            action(FaultAction::MalformedJson),
            C::TTS_INVALID_RESPONSE,
            true,
        ),
        Row {
            detail: Some(("content_type", "text/html; charset=UTF-8".into())),
            ..row(
                "HTML 502 page",
                action(FaultAction::Html { status: 502 }),
                C::TTS_SERVER_ERROR,
                true,
            )
        },
        row(
            "no audioContent",
            error(200, Some("no_audio")),
            C::TTS_INVALID_RESPONSE,
            true,
        ),
        row(
            "empty audioContent",
            error(200, Some("empty_audio")),
            C::TTS_INVALID_RESPONSE,
            true,
        ),
        row(
            "audioContent not base64",
            error(200, Some("bad_base64")),
            C::TTS_INVALID_RESPONSE,
            true,
        ),
        row(
            "audio that is not WAV",
            error(200, Some("not_wav")),
            C::TTS_INVALID_RESPONSE,
            true,
        ),
    ]
}

#[tokio::test]
async fn every_failure_ends_in_its_code_after_the_catalogued_attempts() {
    let mut seen = std::collections::HashSet::new();
    for row in rows() {
        let env = env_with(row.timeouts).await;
        for fault in &row.faults {
            env.cloud.add_fault(fault.clone());
        }
        let name = row.name;
        let (err, attempts) = narrate_with_retries(&env, row.key)
            .await
            .map(|_| ())
            .expect_err(name);
        assert_eq!(err.code, row.code, "{name}: {err} {:?}", err.details);
        let policy = err.code.spec().retry;
        assert_eq!(policy.is_retryable(), row.retryable, "{name}");
        let expected = if row.retryable {
            policy.max_retries + 1
        } else {
            1
        };
        assert_eq!(attempts, expected, "{name}: attempts");
        assert_eq!(
            env.cloud.count(Api::GoogleTts, SYNTHESIZE) as u32,
            expected,
            "{name}: calls"
        );
        if let Some((key, value)) = &row.detail {
            assert_eq!(
                err.details.get(*key),
                Some(value),
                "{name}: {:?}",
                err.details
            );
        }
        assert_eq!(
            err.details.get("api"),
            Some(&Value::from("google_tts")),
            "{name}"
        );
        assert!(
            files_in(env.out.path()).is_empty(),
            "{name}: nothing is left behind"
        );
        let shown = format!("{err} {}", serde_json::to_string(&err.details).unwrap());
        assert!(
            !shown.contains("AIzaSyTEST-tts-SECRET"),
            "{name}: the key leaked: {shown}"
        );
        seen.insert(err.code);
    }
    // Every code of the family the API can cause (the espeak-ng ones cannot) has a row.
    for code in [
        ErrorCode::TTS_INVALID_API_KEY,
        ErrorCode::TTS_QUOTA_EXCEEDED,
        ErrorCode::TTS_RATE_LIMIT,
        ErrorCode::TTS_SERVER_ERROR,
        ErrorCode::TTS_INVALID_INPUT,
        ErrorCode::TTS_TIMEOUT,
        ErrorCode::TTS_NETWORK_ERROR,
        ErrorCode::TTS_INVALID_RESPONSE,
    ] {
        assert!(seen.contains(&code), "no row ends in {code}");
    }
}

#[tokio::test]
async fn a_transient_failure_is_retried_into_audio() {
    let env = env().await;
    env.cloud
        .add_fault(Fault::error(Api::GoogleTts, Some(SYNTHESIZE), 500, None).times(1));
    let audio = narrate_with_retries(&env, KEY)
        .await
        .expect("second attempt works");
    assert!(audio.duration_s > 1.0);
    assert_eq!(env.cloud.count(Api::GoogleTts, SYNTHESIZE), 2);
}
