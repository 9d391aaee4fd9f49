//! Script writing with Google Gemini (`generateContent` of the Generative Language API, v1beta).
//!
//! One call writes the whole script: the project's prompt template with the cleaned article, a
//! system instruction carrying the project's length rules, and structured output
//! (`responseMimeType: application/json` plus a `responseSchema`), so the answer is JSON of a known
//! shape — including each segment's English image prompt, translated in the same call. The chosen
//! model is looked up first (`models.get`), so a retired model name is `GEMINI_MODEL_NOT_FOUND`
//! before anything is paid for.
//!
//! The script's language, segment estimates and length warnings come from the same functions the
//! local writer uses; a segment the model made too long or too short is reported, never changed.
//!
//! Failures follow Google's error body (`{"error": {code, message, status, details}}`):
//! - 400 with an API-key `ErrorInfo` reason, 401, 403 → `GEMINI_INVALID_API_KEY`;
//! - 400 `FAILED_PRECONDITION` (free tier unavailable in the region, billing needed) →
//!   `GEMINI_QUOTA_EXCEEDED`, whose guide is "upgrade the plan";
//! - any other 400 `INVALID_ARGUMENT` → `GEMINI_REQUEST_REJECTED`: our request is fixed and tested,
//!   so what the API refuses is what the chosen model cannot do with it (a model without JSON mode,
//!   an input over its token limit); the remedy is another model. Not retried.
//! - 404 → `GEMINI_MODEL_NOT_FOUND`; 429 `RESOURCE_EXHAUSTED` → `GEMINI_QUOTA_EXCEEDED` when a
//!   violated quota is per day, else `GEMINI_RATE_LIMIT` (with `Retry-After` or
//!   `RetryInfo.retryDelay` as `retry_after_ms`); 504 → `GEMINI_TIMEOUT`; other 5xx →
//!   `GEMINI_SERVER_ERROR`;
//! - a blocked prompt (`promptFeedback.blockReason`) or a candidate stopped by a content filter →
//!   `GEMINI_CONTENT_POLICY`; an answer that is not the script JSON → `GEMINI_INVALID_RESPONSE`.

use std::time::Instant;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use ytmaker_core::script::Script;
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};

use super::http::{ApiClient, ApiCodes, Reply};
use super::llm_script::{self, Dialect, head, prepare, script_from_json};
use super::{CloudContext, Timeouts};
use crate::{ScriptRequest, ScriptWriter};

/// A current, fast model with structured output; projects may choose another from [`list_models`].
pub const DEFAULT_MODEL: &str = "gemini-2.5-flash";

pub static CODES: ApiCodes = ApiCodes {
    api: "gemini",
    timeout: ErrorCode::GEMINI_TIMEOUT,
    network: ErrorCode::GEMINI_NETWORK_ERROR,
    invalid_response: ErrorCode::GEMINI_INVALID_RESPONSE,
    refused: None,
};

const MODELS_LIST: &str = "models.list";
const MODELS_GET: &str = "models.get";
pub const GENERATE: &str = "generateContent";

const KEY_HEADER: &str = "x-goog-api-key";
/// The API's largest page.
const PAGE_SIZE: u32 = 1000;
/// A listing longer than this many pages is a server that keeps handing out tokens.
const MAX_PAGES: usize = 50;

/// Finish reasons that mean a content filter stopped the answer.
const POLICY_FINISH_REASONS: [&str; 6] = [
    "SAFETY",
    "PROHIBITED_CONTENT",
    "BLOCKLIST",
    "SPII",
    "RECITATION",
    "IMAGE_SAFETY",
];

/// A model that can write scripts, as the API lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GeminiModel {
    /// The id to configure (`gemini-2.5-flash`), without the API's `models/` prefix.
    pub name: String,
    pub display_name: String,
    pub input_token_limit: u64,
    pub output_token_limit: u64,
}

/// See the module documentation.
pub struct GeminiScriptWriter {
    api: ApiClient,
    base: String,
    timeouts: Timeouts,
    key: Secret,
    model: String,
}

impl GeminiScriptWriter {
    /// `model` is a model id such as [`DEFAULT_MODEL`] (a `models/` prefix is accepted).
    pub fn new(ctx: &CloudContext, key: Secret, model: String) -> Self {
        GeminiScriptWriter {
            api: ApiClient::new(ctx, &CODES),
            base: ctx.endpoints.gemini.trim_end_matches('/').to_owned(),
            timeouts: ctx.timeouts,
            key,
            model,
        }
    }

    async fn write(&self, req: &ScriptRequest<'_>) -> YtResult<Script> {
        let prepared = prepare(req)?;
        let model = model_id(&self.model)?;

        let described = get_model(&self.api, &self.base, &self.timeouts, &self.key, model).await?;
        if !described.can_generate() {
            return Err(YtError::new(
                ErrorCode::GEMINI_MODEL_NOT_FOUND,
                format!("the Gemini model {model} cannot generate content"),
            )
            .detail("model", model)
            .detail(
                "supported_generation_methods",
                described.supported_generation_methods.clone(),
            ));
        }

        let body = json!({
            "systemInstruction": {"parts": [{"text": prepared.system}]},
            "contents": [{"role": "user", "parts": [{"text": prepared.prompt}]}],
            "generationConfig": {
                "responseMimeType": "application/json",
                "responseSchema": response_schema(),
            },
        });
        let url = format!("{}/v1beta/models/{model}:generateContent", self.base);
        let request = self
            .api
            .http()
            .post(url)
            .header(KEY_HEADER, self.key.expose())
            .json(&body);
        let reply = self
            .api
            .send(GENERATE, request, self.timeouts.generate)
            .await?;
        if !reply.is_success() {
            return Err(status_error(&self.api, &reply));
        }
        let answer: GenerateResponse = self.api.json(&reply)?;
        let text = answer_text(&self.api, &reply, &answer)?;
        let script = script_from_json(&text, &prepared, req.settings).map_err(|why| {
            self.api
                .invalid(&reply, why)
                .detail("text_head", head(&text))
        })?;
        script.validate()?;
        if let Some(usage) = &answer.usage_metadata {
            tracing::info!(
                provider = "gemini",
                model,
                prompt_tokens = usage.prompt_token_count,
                output_tokens = usage.candidates_token_count,
                total_tokens = usage.total_token_count,
                "gemini usage"
            );
        }
        Ok(script)
    }
}

#[async_trait]
impl ScriptWriter for GeminiScriptWriter {
    fn id(&self) -> &'static str {
        "gemini"
    }

    async fn write_script(&self, req: &ScriptRequest<'_>) -> YtResult<Script> {
        let started = Instant::now();
        let script = self.write(req).await?;
        tracing::info!(
            provider = "gemini",
            model = self.model.as_str(),
            segments = script.segments.len(),
            estimated_seconds = script.estimated_total_seconds(),
            warnings = script.warnings.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            "script written"
        );
        Ok(script)
    }
}

/// Every model the key can use that can generate content, across all pages of `models.list`.
pub async fn list_models(ctx: &CloudContext, key: &Secret) -> YtResult<Vec<GeminiModel>> {
    let api = ApiClient::new(ctx, &CODES);
    let base = ctx.endpoints.gemini.trim_end_matches('/');
    let mut models = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let (page, reply) = list_page(&api, base, &ctx.timeouts, key, token.as_deref()).await?;
        pages += 1;
        models.extend(
            page.models
                .iter()
                .filter(|m| m.can_generate())
                .map(ApiModel::summary),
        );
        match page.next_page_token.filter(|t| !t.is_empty()) {
            None => return Ok(models),
            Some(next) if token.as_deref() == Some(next.as_str()) => {
                return Err(api.invalid(&reply, "models.list handed out the same page token twice"));
            }
            Some(_) if pages == MAX_PAGES => {
                return Err(api.invalid(
                    &reply,
                    format!("models.list did not end within {MAX_PAGES} pages"),
                ));
            }
            Some(next) => token = Some(next),
        }
    }
}

/// Lists one page of models: the cheapest call that proves the key works.
pub async fn test_key(ctx: &CloudContext, key: &Secret) -> YtResult<String> {
    let api = ApiClient::new(ctx, &CODES);
    let base = ctx.endpoints.gemini.trim_end_matches('/');
    let (page, _) = list_page(&api, base, &ctx.timeouts, key, None).await?;
    let usable = page.models.iter().filter(|m| m.can_generate()).count();
    let more = page.next_page_token.is_some_and(|t| !t.is_empty());
    Ok(format!(
        "key works; {}{usable} models can write scripts",
        if more { "at least " } else { "" }
    ))
}

async fn list_page(
    api: &ApiClient,
    base: &str,
    timeouts: &Timeouts,
    key: &Secret,
    token: Option<&str>,
) -> YtResult<(ModelPage, Reply)> {
    let mut query = vec![("pageSize", PAGE_SIZE.to_string())];
    if let Some(t) = token {
        query.push(("pageToken", t.to_owned()));
    }
    let request = api
        .http()
        .get(format!("{base}/v1beta/models"))
        .query(&query)
        .header(KEY_HEADER, key.expose());
    let reply = api.send(MODELS_LIST, request, timeouts.request).await?;
    if !reply.is_success() {
        return Err(status_error(api, &reply));
    }
    let page: ModelPage = api.json(&reply)?;
    Ok((page, reply))
}

async fn get_model(
    api: &ApiClient,
    base: &str,
    timeouts: &Timeouts,
    key: &Secret,
    model: &str,
) -> YtResult<ApiModel> {
    let request = api
        .http()
        .get(format!("{base}/v1beta/models/{model}"))
        .header(KEY_HEADER, key.expose());
    let reply = api.send(MODELS_GET, request, timeouts.request).await?;
    if !reply.is_success() {
        return Err(status_error(api, &reply).detail("model", model));
    }
    api.json(&reply)
}

/// The bare model id, checked to be one that can stand in a URL path.
fn model_id(configured: &str) -> YtResult<&str> {
    let id = configured.trim();
    let id = id.strip_prefix("models/").unwrap_or(id);
    let plausible = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if plausible {
        Ok(id)
    } else {
        Err(YtError::new(
            ErrorCode::GEMINI_MODEL_NOT_FOUND,
            format!("{configured:?} is not a Gemini model name"),
        )
        .detail("model", configured))
    }
}

/// The script's shape in the OpenAPI subset `responseSchema` takes.
fn response_schema() -> Value {
    llm_script::script_schema(Dialect::Gemini)
}

/// The model's text, or why there is none: a blocked prompt or a filtered answer is
/// `GEMINI_CONTENT_POLICY`; anything else unusable is `GEMINI_INVALID_RESPONSE`.
fn answer_text(api: &ApiClient, reply: &Reply, answer: &GenerateResponse) -> YtResult<String> {
    if let Some(feedback) = &answer.prompt_feedback
        && let Some(reason) = feedback.block_reason.as_deref()
    {
        return Err(api
            .error(
                ErrorCode::GEMINI_CONTENT_POLICY,
                reply,
                format!("Gemini blocked the prompt ({reason})"),
            )
            .detail("block_reason", reason)
            .detail("flagged", flagged_categories(&feedback.safety_ratings)));
    }
    let Some(candidate) = answer.candidates.first() else {
        return Err(api.invalid(reply, "no candidate in the answer"));
    };
    let finish = candidate.finish_reason.as_deref().unwrap_or("STOP");
    if POLICY_FINISH_REASONS.contains(&finish) {
        return Err(api
            .error(
                ErrorCode::GEMINI_CONTENT_POLICY,
                reply,
                format!("Gemini stopped the answer ({finish})"),
            )
            .detail("finish_reason", finish)
            .detail("flagged", flagged_categories(&candidate.safety_ratings)));
    }
    if finish == "MAX_TOKENS" {
        return Err(api
            .invalid(reply, "the answer was cut off at the model's output limit")
            .detail("finish_reason", finish));
    }
    if finish != "STOP" {
        return Err(api
            .invalid(reply, format!("the answer ended with {finish}"))
            .detail("finish_reason", finish));
    }
    let text: String = candidate
        .content
        .iter()
        .flat_map(|c| &c.parts)
        .filter(|p| !p.thought)
        .filter_map(|p| p.text.as_deref())
        .collect();
    if text.trim().is_empty() {
        return Err(api.invalid(reply, "the answer has no text"));
    }
    Ok(text)
}

/// The categories a safety rating marked as blocking or probable.
fn flagged_categories(ratings: &[SafetyRating]) -> Vec<String> {
    ratings
        .iter()
        .filter(|r| r.blocked || matches!(r.probability.as_deref(), Some("HIGH" | "MEDIUM")))
        .filter_map(|r| r.category.clone())
        .collect()
}

/// Maps a non-2xx answer of the Gemini API to its code (see the module documentation).
fn status_error(api: &ApiClient, reply: &Reply) -> YtError {
    let google = GoogleError::parse(&reply.body);
    let g = google.as_ref();
    let status_name = g.map_or("", |g| g.status.as_str());
    let said = g.map_or_else(String::new, |g| format!(": {}", g.message));
    let (code, message) = match reply.status {
        400 if g.is_some_and(GoogleError::is_key_problem) => (
            ErrorCode::GEMINI_INVALID_API_KEY,
            format!("Gemini refused the API key{said}"),
        ),
        400 if status_name == "FAILED_PRECONDITION" => (
            ErrorCode::GEMINI_QUOTA_EXCEEDED,
            format!("Gemini needs a paid plan for this project{said}"),
        ),
        400 => (
            ErrorCode::GEMINI_REQUEST_REJECTED,
            format!("the Gemini model refused the request{said}"),
        ),
        401 | 403 => (
            ErrorCode::GEMINI_INVALID_API_KEY,
            format!("Gemini refused the API key{said}"),
        ),
        404 if reply.endpoint != MODELS_LIST => (
            ErrorCode::GEMINI_MODEL_NOT_FOUND,
            format!("the Gemini model was not found{said}"),
        ),
        429 if g.is_some_and(GoogleError::names_daily_quota) => (
            ErrorCode::GEMINI_QUOTA_EXCEEDED,
            format!("the daily Gemini quota is used up{said}"),
        ),
        429 => (
            ErrorCode::GEMINI_RATE_LIMIT,
            format!("Gemini rate limit{said}"),
        ),
        504 => (
            ErrorCode::GEMINI_TIMEOUT,
            format!("Gemini did not finish in time{said}"),
        ),
        500..=599 => (
            ErrorCode::GEMINI_SERVER_ERROR,
            format!("Gemini server error {}{said}", reply.status),
        ),
        other => {
            return api.invalid(reply, format!("unexpected HTTP status {other}"));
        }
    };
    google_details(api.error(code, reply, message), reply, google.as_ref())
}

/// Adds what Google said to an error: its status, reasons, quota names and retry delay; the body
/// head when the body was not Google's JSON (a proxy's page).
pub(crate) fn google_details(
    mut err: YtError,
    reply: &Reply,
    google: Option<&GoogleError>,
) -> YtError {
    let Some(g) = google else {
        return reply.describe_body(err);
    };
    err = err
        .detail("google_status", g.status.as_str())
        .detail("google_message", g.message.as_str());
    if !g.reasons.is_empty() {
        err = err.detail("google_reasons", g.reasons.clone());
    }
    if !g.quotas.is_empty() {
        err = err.detail("quotas", g.quotas.clone());
    }
    if !err.details.contains_key("retry_after_ms")
        && let Some(ms) = g.retry_delay_ms
    {
        err = err.detail("retry_after_ms", ms);
    }
    err
}

/// Google's error body (AIP-193), as far as the mapping needs it. Shared by the Google APIs that
/// use it (Gemini, Cloud Text-to-Speech).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct GoogleError {
    pub status: String,
    pub message: String,
    /// `ErrorInfo.reason`s (`API_KEY_INVALID`, `SERVICE_DISABLED`, `RATE_LIMIT_EXCEEDED`, …).
    pub reasons: Vec<String>,
    /// Names of violated quotas: `QuotaFailure` ids, metrics and descriptions, and `ErrorInfo`'s
    /// `quota_limit`.
    pub quotas: Vec<String>,
    /// `RetryInfo.retryDelay`.
    pub retry_delay_ms: Option<u64>,
}

impl GoogleError {
    pub fn parse(body: &[u8]) -> Option<GoogleError> {
        let envelope: ErrorEnvelope = serde_json::from_slice(body).ok()?;
        let e = envelope.error;
        let mut parsed = GoogleError {
            status: e.status,
            message: e.message,
            ..GoogleError::default()
        };
        for d in &e.details {
            let kind = d.get("@type").and_then(Value::as_str).unwrap_or("");
            let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
            if kind.ends_with("google.rpc.ErrorInfo") {
                parsed.reasons.extend(text(d, "reason"));
                if let Some(meta) = d.get("metadata") {
                    parsed.quotas.extend(text(meta, "quota_limit"));
                }
            } else if kind.ends_with("google.rpc.QuotaFailure") {
                for v in d
                    .get("violations")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    for k in ["quotaId", "quotaMetric", "description"] {
                        parsed.quotas.extend(text(v, k));
                    }
                }
            } else if kind.ends_with("google.rpc.RetryInfo") {
                parsed.retry_delay_ms = d
                    .get("retryDelay")
                    .and_then(Value::as_str)
                    .and_then(duration_ms);
            }
        }
        Some(parsed)
    }

    /// The key is wrong, restricted, or its project may not use the API.
    pub fn is_key_problem(&self) -> bool {
        let by_reason = self.reasons.iter().any(|r| {
            r.starts_with("API_KEY_")
                || matches!(
                    r.as_str(),
                    "SERVICE_DISABLED" | "CONSUMER_INVALID" | "CREDENTIALS_MISSING"
                )
        });
        // Some answers carry no ErrorInfo; Google's wording for a bad key is stable.
        by_reason || self.message.contains("API key not valid")
    }

    /// A violated quota counts per day (which no retry today can cure).
    pub fn names_daily_quota(&self) -> bool {
        self.quotas.iter().any(|q| {
            let q = q.to_ascii_lowercase();
            q.contains("perday") || q.contains("per day") || q.contains("per_day")
        })
    }
}

/// A protobuf JSON duration (`"17s"`, `"0.5s"`) in milliseconds.
fn duration_ms(text: &str) -> Option<u64> {
    let seconds: f64 = text.trim().strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| (seconds * 1000.0).round() as u64)
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModelPage {
    #[serde(default)]
    models: Vec<ApiModel>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiModel {
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    input_token_limit: u64,
    #[serde(default)]
    output_token_limit: u64,
    #[serde(default)]
    supported_generation_methods: Vec<String>,
}

impl ApiModel {
    fn can_generate(&self) -> bool {
        self.supported_generation_methods
            .iter()
            .any(|m| m == "generateContent")
    }

    fn summary(&self) -> GeminiModel {
        GeminiModel {
            name: self
                .name
                .strip_prefix("models/")
                .unwrap_or(&self.name)
                .to_owned(),
            display_name: self.display_name.clone(),
            input_token_limit: self.input_token_limit,
            output_token_limit: self.output_token_limit,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GenerateResponse {
    #[serde(default)]
    candidates: Vec<Candidate>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
    #[serde(default)]
    safety_ratings: Vec<SafetyRating>,
}

#[derive(Deserialize)]
struct Content {
    #[serde(default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
struct Part {
    text: Option<String>,
    /// A thinking model's reasoning, when it is returned; not part of the answer.
    #[serde(default)]
    thought: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
    #[serde(default)]
    safety_ratings: Vec<SafetyRating>,
}

#[derive(Deserialize)]
struct SafetyRating {
    category: Option<String>,
    probability: Option<String>,
    #[serde(default)]
    blocked: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    total_token_count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_bare_and_url_safe() {
        assert_eq!(
            model_id("models/gemini-2.5-flash").ok(),
            Some("gemini-2.5-flash")
        );
        assert_eq!(
            model_id(" gemini-2.0-flash-001 ").ok(),
            Some("gemini-2.0-flash-001")
        );
        for bad in ["", "models/", "../secrets", "gemini 2.5", "a?b"] {
            let err = model_id(bad).expect_err(bad);
            assert_eq!(err.code, ErrorCode::GEMINI_MODEL_NOT_FOUND);
        }
    }

    #[test]
    fn google_error_bodies_are_read() {
        let body = br#"{"error": {"code": 429, "message": "You exceeded your current quota",
            "status": "RESOURCE_EXHAUSTED", "details": [
              {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
                {"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                 "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]},
              {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17.5s"}]}}"#;
        let g = GoogleError::parse(body).expect("parsed");
        assert_eq!(g.status, "RESOURCE_EXHAUSTED");
        assert!(g.names_daily_quota());
        assert!(!g.is_key_problem());
        assert_eq!(g.retry_delay_ms, Some(17_500));

        let per_minute =
            br#"{"error": {"code": 429, "message": "m", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [
              {"quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"}]}]}}"#;
        assert!(
            !GoogleError::parse(per_minute)
                .expect("parsed")
                .names_daily_quota()
        );

        let key = br#"{"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
            "status": "INVALID_ARGUMENT", "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}"#;
        let g = GoogleError::parse(key).expect("parsed");
        assert!(g.is_key_problem());
        assert_eq!(g.reasons, ["API_KEY_INVALID"]);

        assert_eq!(GoogleError::parse(b"<html>502</html>"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms("17s"), Some(17_000));
        assert_eq!(duration_ms("0.25s"), Some(250));
        assert_eq!(duration_ms("17"), None);
        assert_eq!(duration_ms("-1s"), None);
    }

    #[test]
    fn the_schema_requires_every_field_the_script_needs() {
        let schema = response_schema();
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(
            required,
            ["title", "description", "tags", "intro", "segments", "outro"]
        );
        assert_eq!(
            schema["properties"]["segments"]["items"]["required"],
            json!([
                "narration",
                "image_description",
                "image_prompt_en",
                "key_phrase"
            ])
        );
    }
}
