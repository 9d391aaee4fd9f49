//! The Gemini script writer against the fake cloud, over real HTTP: the request it builds (template,
//! JSON mode, schema, key header), the script it makes of the answer (language, estimates and
//! warnings as the local writer's), the model list with paging, and the code, retry policy and
//! number of calls for every failure Gemini can report.

mod common;

use std::time::Duration;

use serde_json::Value;
use ytmaker_core::config::{NarrationSettings, ScriptSettings};
use ytmaker_core::script::{Language, Script, WarningKind};
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};
use ytmaker_fake_cloud::{Api, FakeCloud, Fault, FaultAction};
use ytmaker_providers::cloud::gemini::{self, DEFAULT_MODEL, GeminiScriptWriter};
use ytmaker_providers::cloud::{CloudContext, Endpoints, Timeouts};
use ytmaker_providers::retry::{self, DelayScale};
use ytmaker_providers::speech::estimate_line_seconds;
use ytmaker_providers::{ScriptRequest, ScriptWriter};

const KEY: &str = "AIzaSyTEST-gemini-SECRET-0042";
const INVALID_KEY: &str = "invalid-AIzaSyTEST-gemini-SECRET-0042";
const GENERATE: &str = "generateContent";
const GET: &str = "models.get";
const LIST: &str = "models.list";

struct Env {
    cloud: FakeCloud,
    ctx: CloudContext,
}

async fn env_with(timeouts: Timeouts) -> Env {
    let cloud = FakeCloud::start_local().await.expect("fake cloud starts");
    let ctx = CloudContext::new(Endpoints::all_at(&cloud.url()), timeouts).expect("http client");
    Env { cloud, ctx }
}

async fn env() -> Env {
    env_with(Timeouts::default()).await
}

fn short_timeouts() -> Timeouts {
    Timeouts {
        request: Duration::from_millis(400),
        generate: Duration::from_millis(400),
        ..Timeouts::default()
    }
}

async fn write(
    ctx: &CloudContext,
    key: &str,
    model: &str,
    article: &str,
    prompt: Option<&str>,
    settings: &ScriptSettings,
) -> YtResult<Script> {
    let narration = NarrationSettings::default();
    GeminiScriptWriter::new(ctx, Secret::new(key), model.to_owned())
        .write_script(&ScriptRequest {
            text: article,
            settings,
            narration: &narration,
            name_hint: None,
            prompt,
        })
        .await
}

/// `write_script` through the one retry loop, as the pipeline runs it.
async fn write_with_retries(
    ctx: &CloudContext,
    key: &str,
    model: &str,
    article: &str,
) -> Result<Script, (YtError, u32)> {
    let settings = ScriptSettings::default();
    retry::run(
        DelayScale(0.0),
        |_| write(ctx, key, model, article, None, &settings),
        |_, _| async { Ok(()) },
    )
    .await
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The checks every script from this writer passes: estimates from the shared speech model, a
/// warning for exactly the segments outside the range, English image prompts.
fn assert_consistent(script: &Script, settings: &ScriptSettings) {
    let rate = NarrationSettings::default().speaking_rate;
    for s in &script.segments {
        assert_eq!(
            s.estimated_seconds,
            round2(estimate_line_seconds(&s.narration, script.language, rate)),
            "segment {} estimate",
            s.index
        );
        let outside = s.estimated_seconds < settings.segment_min_seconds
            || s.estimated_seconds > settings.segment_max_seconds;
        let warned = script.warnings.iter().any(|w| {
            w.segment_index == Some(s.index)
                && matches!(
                    w.kind,
                    WarningKind::SegmentTooShort | WarningKind::SegmentTooLong
                )
        });
        assert_eq!(outside, warned, "segment {} warning", s.index);
        let prompt = s.image_prompt.as_deref().expect("an English image prompt");
        assert!(
            !prompt.trim().is_empty() && prompt.is_ascii(),
            "image prompt {prompt:?}"
        );
        assert!(!s.image_description.is_empty() && !s.key_phrase.is_empty());
    }
    assert_eq!(
        script.intro.estimated_seconds,
        round2(estimate_line_seconds(
            &script.intro.text,
            script.language,
            rate
        ))
    );
    script.validate().expect("a valid script");
}

#[tokio::test]
async fn the_article_becomes_a_script_through_one_structured_call() {
    let env = env().await;
    let article = common::article("article-zh-TW.txt");
    let settings = ScriptSettings::default();
    let script = write(&env.ctx, KEY, DEFAULT_MODEL, &article, None, &settings)
        .await
        .expect("script");

    assert_eq!(script.language, Language::ZhTw);
    assert!(
        script.segments.len() >= 3,
        "{} segments",
        script.segments.len()
    );
    assert!(!script.title.is_empty() && script.title.chars().count() <= 100);
    assert!(script.condensation.is_none());
    assert_consistent(&script, &settings);
    // The fake model echoes the article in order, so every narration is article text.
    let flat: String = article.split_whitespace().collect();
    for s in &script.segments {
        let first = s.narration.split('。').next().unwrap_or_default();
        assert!(
            flat.contains(first),
            "segment {} is not article text",
            s.index
        );
    }

    assert_eq!(
        env.cloud.count(Api::Gemini, GET),
        1,
        "the model is checked first"
    );
    assert_eq!(env.cloud.count(Api::Gemini, GENERATE), 1);
    let calls = env.cloud.calls();
    assert_eq!(calls[0].path, "/v1beta/models/gemini-2.5-flash");
    assert_eq!(
        calls[1].path,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );

    let sent = env
        .cloud
        .state()
        .gemini
        .last_generate_request()
        .expect("request recorded");
    let config = &sent["generationConfig"];
    assert_eq!(config["responseMimeType"], "application/json");
    let schema = &config["responseSchema"];
    assert_eq!(schema["type"], "OBJECT");
    assert_eq!(
        schema["properties"]["segments"]["items"]["required"],
        serde_json::json!([
            "narration",
            "image_description",
            "image_prompt_en",
            "key_phrase"
        ])
    );
    let prompt = sent["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap_or("");
    assert!(
        prompt.starts_with("You turn the article below"),
        "the default template"
    );
    assert!(!prompt.contains("{article}"));
    let opening = flat.split('。').next().unwrap_or_default();
    assert!(prompt.contains(opening), "the article is in the prompt");
    let system = sent["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .unwrap_or("");
    assert!(system.contains("5 to 20 seconds"), "{system}");
    assert!(system.contains("Traditional Chinese"), "{system}");
    assert!(
        !sent.to_string().contains(KEY),
        "the key travels in the header only"
    );
}

#[tokio::test]
async fn a_project_template_and_length_rules_are_sent_and_english_is_kept() {
    let env = env().await;
    let article = common::article("en-unseen.txt");
    let settings = ScriptSettings {
        segment_min_seconds: 6.0,
        segment_max_seconds: 15.0,
        ..ScriptSettings::default()
    };
    let template = "Write for curious teenagers.\n\nArticle:\n{article}\n\nThank you.";
    let script = write(
        &env.ctx,
        KEY,
        "models/gemini-2.5-pro",
        &article,
        Some(template),
        &settings,
    )
    .await
    .expect("script");
    assert_eq!(script.language, Language::En);
    assert_consistent(&script, &settings);

    let sent = env.cloud.state().gemini.last_generate_request().unwrap();
    let prompt = sent["contents"][0]["parts"][0]["text"]
        .as_str()
        .unwrap_or("");
    assert!(prompt.starts_with("Write for curious teenagers.\n\nArticle:\n"));
    assert!(prompt.ends_with("\n\nThank you."));
    let system = sent["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .unwrap_or("");
    assert!(
        system.contains("6 to 15 seconds") && system.contains("English"),
        "{system}"
    );
    assert_eq!(
        env.cloud.calls()[1].path,
        "/v1beta/models/gemini-2.5-pro:generateContent"
    );
}

#[tokio::test]
async fn a_segment_outside_the_range_is_reported_not_changed() {
    let env = env().await;
    // One sentence of about 30 s: the model keeps it whole, as the fake does.
    let long_sentence = format!(
        "颱風{}，所以大家都要做好準備。",
        "帶來強風豪雨並且造成山區土石流與低窪地區淹水".repeat(5)
    );
    let article = format!(
        "颱風是熱帶氣旋的一種，每年夏秋兩季經常影響臺灣。{long_sentence}\n\n\
         氣象局會發布海上與陸上颱風警報，提醒民眾注意安全。政府也會視情況宣布停班停課。"
    );
    let settings = ScriptSettings::default();
    let script = write(&env.ctx, KEY, DEFAULT_MODEL, &article, None, &settings)
        .await
        .expect("script");
    assert_consistent(&script, &settings);
    let long = script
        .segments
        .iter()
        .find(|s| s.narration.contains(&long_sentence))
        .expect("the long sentence is narrated whole");
    assert!(long.estimated_seconds > 20.0);
    assert!(
        script
            .warnings
            .iter()
            .any(|w| w.kind == WarningKind::SegmentTooLong
                && w.segment_index == Some(long.index)
                && w.options.contains(&"split_merge".to_owned()))
    );
}

#[tokio::test]
async fn models_are_listed_across_pages_and_the_key_test_takes_one_call() {
    let env = env().await;
    env.cloud.state().gemini.set_page_limit(3);
    let models = gemini::list_models(&env.ctx, &Secret::new(KEY))
        .await
        .expect("models");
    let names: Vec<&str> = models.iter().map(|m| m.name.as_str()).collect();
    assert!(names.contains(&"gemini-2.5-flash") && names.contains(&"gemini-2.0-flash"));
    assert!(
        !names
            .iter()
            .any(|n| n.contains("embedding") || n.starts_with("imagen") || *n == "aqa"),
        "only models that can generate content: {names:?}"
    );
    assert!(names.iter().all(|n| !n.starts_with("models/")));
    let flash = models
        .iter()
        .find(|m| m.name == "gemini-2.5-flash")
        .unwrap();
    assert_eq!(flash.display_name, "Gemini 2.5 Flash");
    assert!(flash.input_token_limit > 100_000 && flash.output_token_limit > 8_000);
    assert!(
        env.cloud.count(Api::Gemini, LIST) > 1,
        "more than one page was read"
    );
    let json = serde_json::to_value(&models).unwrap();
    assert!(json[0]["input_token_limit"].is_u64());

    let before = env.cloud.count(Api::Gemini, LIST);
    let said = gemini::test_key(&env.ctx, &Secret::new(KEY))
        .await
        .expect("key works");
    assert!(said.starts_with("key works"), "{said}");
    assert_eq!(env.cloud.count(Api::Gemini, LIST), before + 1);

    let err = gemini::test_key(&env.ctx, &Secret::new(INVALID_KEY))
        .await
        .expect_err("refused");
    assert_eq!(err.code, ErrorCode::GEMINI_INVALID_API_KEY);
}

#[tokio::test]
async fn models_that_cannot_write_the_script_are_refused_before_paying() {
    let article = common::article("article-zh-TW.txt");
    for (model, generate_calls) in [
        ("gemini-0.9-retired", 0),
        ("text-embedding-004", 0),
        ("../../v1/voices", 0),
        // Listed with generateContent, but without JSON mode: the API refuses the request.
        ("gemma-3-27b-it", 1),
    ] {
        let env = env().await;
        let err = write(
            &env.ctx,
            KEY,
            model,
            &article,
            None,
            &ScriptSettings::default(),
        )
        .await
        .expect_err(model);
        let expected = if generate_calls == 0 {
            ErrorCode::GEMINI_MODEL_NOT_FOUND
        } else {
            ErrorCode::GEMINI_REQUEST_REJECTED
        };
        assert_eq!(err.code, expected, "{model}: {err}");
        assert_eq!(
            env.cloud.count(Api::Gemini, GENERATE),
            generate_calls,
            "{model}"
        );
    }
}

/// One failure and what must come of it.
struct Row {
    name: &'static str,
    faults: Vec<Fault>,
    key: &'static str,
    timeouts: Timeouts,
    code: ErrorCode,
    retryable: bool,
    /// The endpoint the failure happens on, whose calls are counted.
    endpoint: &'static str,
    /// A detail the error must carry.
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
        endpoint: GENERATE,
        detail: None,
    }
}

fn error(status: u16, reason: Option<&str>) -> Option<Fault> {
    Some(Fault::error(Api::Gemini, Some(GENERATE), status, reason))
}

fn action(action: FaultAction) -> Option<Fault> {
    Some(Fault::new(Api::Gemini, Some(GENERATE), action))
}

fn rows() -> Vec<Row> {
    use ErrorCode as C;
    vec![
        Row {
            key: INVALID_KEY,
            endpoint: GET,
            detail: Some(("google_reasons", serde_json::json!(["API_KEY_INVALID"]))),
            ..row("invalid key", None, C::GEMINI_INVALID_API_KEY, false)
        },
        Row {
            key: "",
            endpoint: GET,
            ..row("missing key", None, C::GEMINI_INVALID_API_KEY, false)
        },
        row(
            "API not enabled (403)",
            error(403, None),
            C::GEMINI_INVALID_API_KEY,
            false,
        ),
        row("401", error(401, None), C::GEMINI_INVALID_API_KEY, false),
        Row {
            detail: Some(("google_status", "RESOURCE_EXHAUSTED".into())),
            ..row(
                "daily quota (429)",
                error(429, Some("daily_quota")),
                C::GEMINI_QUOTA_EXCEEDED,
                false,
            )
        },
        row(
            "region needs billing (400 FAILED_PRECONDITION)",
            error(400, Some("failed_precondition")),
            C::GEMINI_QUOTA_EXCEEDED,
            false,
        ),
        Row {
            detail: Some(("retry_after_ms", 17_000.into())),
            ..row(
                "per-minute rate limit (429, RetryInfo)",
                error(429, Some("rate")),
                C::GEMINI_RATE_LIMIT,
                true,
            )
        },
        Row {
            faults: vec![
                Fault::error(Api::Gemini, Some(GENERATE), 429, Some("rate")).retry_after(7),
            ],
            detail: Some(("retry_after_ms", 7_000.into())),
            ..row("Retry-After header", None, C::GEMINI_RATE_LIMIT, true)
        },
        row("500", error(500, None), C::GEMINI_SERVER_ERROR, true),
        row(
            "503 overloaded",
            error(503, None),
            C::GEMINI_SERVER_ERROR,
            true,
        ),
        row("504", error(504, None), C::GEMINI_TIMEOUT, true),
        Row {
            timeouts: short_timeouts(),
            ..row(
                "hang past the timeout",
                action(FaultAction::Hang),
                C::GEMINI_TIMEOUT,
                true,
            )
        },
        row(
            "dropped connection",
            action(FaultAction::Drop),
            C::GEMINI_NETWORK_ERROR,
            true,
        ),
        row(
            "malformed JSON",
            action(FaultAction::MalformedJson),
            C::GEMINI_INVALID_RESPONSE,
            true,
        ),
        Row {
            detail: Some(("content_type", "text/html; charset=UTF-8".into())),
            ..row(
                "HTML 502 page",
                action(FaultAction::Html { status: 502 }),
                C::GEMINI_SERVER_ERROR,
                true,
            )
        },
        row(
            "HTML page with 200",
            action(FaultAction::Html { status: 200 }),
            C::GEMINI_INVALID_RESPONSE,
            true,
        ),
        row(
            "answer cut at the output limit",
            error(200, Some("max_tokens")),
            C::GEMINI_INVALID_RESPONSE,
            true,
        ),
        Row {
            detail: Some(("block_reason", "SAFETY".into())),
            ..row(
                "blocked prompt",
                error(200, Some("blocked_prompt")),
                C::GEMINI_CONTENT_POLICY,
                false,
            )
        },
        row(
            "prompt with prohibited content",
            error(200, Some("prohibited_prompt")),
            C::GEMINI_CONTENT_POLICY,
            false,
        ),
        Row {
            detail: Some(("finish_reason", "SAFETY".into())),
            ..row(
                "answer stopped for safety",
                error(200, Some("finish_safety")),
                C::GEMINI_CONTENT_POLICY,
                false,
            )
        },
        row(
            "answer stopped for prohibited content",
            error(200, Some("finish_prohibited")),
            C::GEMINI_CONTENT_POLICY,
            false,
        ),
        row(
            "answer stopped by a blocklist",
            error(200, Some("finish_blocklist")),
            C::GEMINI_CONTENT_POLICY,
            false,
        ),
        row(
            "request refused (400 INVALID_ARGUMENT)",
            error(400, None),
            C::GEMINI_REQUEST_REJECTED,
            false,
        ),
        Row {
            faults: vec![Fault::error(Api::Gemini, Some(GET), 404, None)],
            endpoint: GET,
            ..row("model gone (404)", None, C::GEMINI_MODEL_NOT_FOUND, false)
        },
        Row {
            faults: vec![Fault::error(Api::Gemini, Some(GET), 503, None)],
            endpoint: GET,
            ..row(
                "model lookup fails (503)",
                None,
                C::GEMINI_SERVER_ERROR,
                true,
            )
        },
    ]
}

#[tokio::test]
async fn every_failure_ends_in_its_code_after_the_catalogued_attempts() {
    let article = common::article("article-zh-TW.txt");
    let mut seen = std::collections::HashSet::new();
    for row in rows() {
        let env = env_with(row.timeouts).await;
        for fault in &row.faults {
            env.cloud.add_fault(fault.clone());
        }
        let (err, attempts) = write_with_retries(&env.ctx, row.key, DEFAULT_MODEL, &article)
            .await
            .map(|_| ())
            .expect_err(row.name);
        let name = row.name;
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
            env.cloud.count(Api::Gemini, row.endpoint) as u32,
            expected,
            "{name}: calls to {}",
            row.endpoint
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
            Some(&Value::from("gemini")),
            "{name}"
        );
        let shown = format!("{err} {}", serde_json::to_string(&err.details).unwrap());
        assert!(
            !shown.contains("AIzaSyTEST-gemini-SECRET"),
            "{name}: the key leaked: {shown}"
        );
        seen.insert(err.code);
    }
    // Every code of the family that the API can cause is covered by a row.
    for code in [
        ErrorCode::GEMINI_QUOTA_EXCEEDED,
        ErrorCode::GEMINI_INVALID_API_KEY,
        ErrorCode::GEMINI_RATE_LIMIT,
        ErrorCode::GEMINI_SERVER_ERROR,
        ErrorCode::GEMINI_CONTENT_POLICY,
        ErrorCode::GEMINI_TIMEOUT,
        ErrorCode::GEMINI_NETWORK_ERROR,
        ErrorCode::GEMINI_INVALID_RESPONSE,
        ErrorCode::GEMINI_MODEL_NOT_FOUND,
    ] {
        assert!(seen.contains(&code), "no row ends in {code}");
    }
}

#[tokio::test]
async fn a_transient_failure_is_retried_into_a_script() {
    let env = env().await;
    env.cloud
        .add_fault(Fault::error(Api::Gemini, Some(GENERATE), 503, None).times(2));
    let article = common::article("article-zh-TW.txt");
    let script = write_with_retries(&env.ctx, KEY, DEFAULT_MODEL, &article)
        .await
        .expect("third attempt succeeds");
    assert!(!script.segments.is_empty());
    assert_eq!(env.cloud.count(Api::Gemini, GENERATE), 3);
}

#[tokio::test]
async fn a_server_that_cannot_be_reached_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let ctx = CloudContext::new(Endpoints::all_at(&url), Timeouts::default()).unwrap();
    let err = gemini::test_key(&ctx, &Secret::new(KEY))
        .await
        .expect_err("refused");
    assert_eq!(err.code, ErrorCode::GEMINI_NETWORK_ERROR);
}
