//! The Gemini API (Generative Language API v1beta): `models.list`, `models.get` and
//! `generateContent`, with Google's error body.
//!
//! `generateContent` answers like a model would: it finds the article in the prompt (after a line
//! ending in `Article:`, else the whole prompt), splits it into sentence groups of roughly 5–20 s
//! of speech and returns them as the script JSON, with a made-up English image prompt per segment —
//! filling only the fields the request's `responseSchema` names. Without
//! `responseMimeType: application/json` and a schema it answers with prose and the JSON in a
//! ```` ```json ```` fence, which is what a real model does. Gemma models refuse JSON mode, as they
//! do on the real API.
//!
//! Fault reasons (`Fault::error(Api::Gemini, …, status, reason)`):
//! - 200 (a blocked or cut answer, which Gemini reports with status 200): `blocked_prompt`,
//!   `prohibited_prompt`, `finish_safety`, `finish_prohibited`, `finish_blocklist`, `max_tokens`;
//! - 400: `api_key` (API_KEY_INVALID), `failed_precondition` (region needs billing), else
//!   INVALID_ARGUMENT; 403: `unregistered` (no key), else SERVICE_DISABLED;
//! - 429: `daily_quota` (a per-day quota in the QuotaFailure), else a per-minute rate limit; both
//!   carry `RetryInfo.retryDelay`;
//! - 401, 404, 500, 503, 504: Google's body for that status.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{State, lock};

const KEY_HEADER: &str = "x-goog-api-key";
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 1000;

#[derive(Default)]
pub struct GeminiState {
    /// When not 0, pages hold at most this many models (the API may return fewer than asked).
    page_limit: AtomicUsize,
    last_generate: Mutex<Option<Value>>,
}

impl GeminiState {
    /// Makes `models.list` hand out pages of at most `n` models, to exercise paging.
    pub fn set_page_limit(&self, n: usize) {
        self.page_limit.store(n, Ordering::SeqCst);
    }

    /// The body of the last `generateContent` request that reached the handler.
    pub fn last_generate_request(&self) -> Option<Value> {
        lock(&self.last_generate).clone()
    }
}

pub(crate) fn endpoint_of(method: &str, path: &str) -> Option<&'static str> {
    let rest = path.strip_prefix("/v1beta/models")?;
    match (method, rest) {
        ("GET", "" | "/") => Some("models.list"),
        (_, rest) => {
            let name = rest.strip_prefix('/')?;
            if name.is_empty() || name.contains('/') {
                return None;
            }
            match (method, name.split_once(':')) {
                ("GET", None) => Some("models.get"),
                ("POST", Some((_, "generateContent"))) => Some("generateContent"),
                _ => None,
            }
        }
    }
}

/// A Google error body (`{"error": {code, message, status, details}}`) with its status.
pub(crate) fn google_error(
    status: u16,
    grpc: &str,
    message: &str,
    details: Vec<Value>,
) -> Response {
    let mut error = json!({"code": status, "message": message, "status": grpc});
    if !details.is_empty() {
        error["details"] = Value::Array(details);
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(json!({ "error": error })),
    )
        .into_response()
}

pub(crate) fn error_info(reason: &str, service: &str, metadata: Value) -> Value {
    let mut meta = json!({"service": service});
    if let (Some(m), Some(extra)) = (meta.as_object_mut(), metadata.as_object()) {
        m.extend(extra.clone());
    }
    json!({
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": meta,
    })
}

/// Google's answer to a key that is not one.
pub(crate) fn invalid_key(service: &str) -> Response {
    let message = "API key not valid. Please pass a valid API key.";
    google_error(
        400,
        "INVALID_ARGUMENT",
        message,
        vec![
            error_info("API_KEY_INVALID", service, json!({})),
            json!({"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": message}),
        ],
    )
}

/// Google's answer to a call without any credential.
pub(crate) fn unregistered_caller() -> Response {
    google_error(
        403,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        Vec::new(),
    )
}

/// Google's refusal of a missing or `invalid…` key, if the request carries one.
pub(crate) fn key_refusal(headers: &HeaderMap, service: &str) -> Option<Response> {
    let key = headers
        .get(KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .trim();
    if key.is_empty() {
        Some(unregistered_caller())
    } else if key.starts_with("invalid") {
        Some(invalid_key(service))
    } else {
        None
    }
}

pub(crate) fn invalid_argument(message: &str) -> Response {
    google_error(400, "INVALID_ARGUMENT", message, Vec::new())
}

const SERVICE: &str = "generativelanguage.googleapis.com";

pub(crate) fn error_response(endpoint: &str, status: u16, reason: Option<&str>) -> Response {
    match (status, reason) {
        (200, reason) => filtered_answer(reason.unwrap_or("")),
        (400, Some("api_key")) => invalid_key(SERVICE),
        (400, Some("failed_precondition")) => google_error(
            400,
            "FAILED_PRECONDITION",
            "User location is not supported for the API use without a billing account linked.",
            Vec::new(),
        ),
        (400, _) => invalid_argument("Request contains an invalid argument."),
        (401, _) => google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            Vec::new(),
        ),
        (403, Some("unregistered")) => unregistered_caller(),
        (403, _) => google_error(
            403,
            "PERMISSION_DENIED",
            "Generative Language API has not been used in project 123456789 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=123456789 then retry.",
            vec![error_info(
                "SERVICE_DISABLED",
                SERVICE,
                json!({"consumer": "projects/123456789"}),
            )],
        ),
        (404, _) => model_not_found(if endpoint == "models.list" {
            ""
        } else {
            "gemini-unknown"
        }),
        (429, reason) => {
            let daily = reason == Some("daily_quota");
            let violation = if daily {
                json!({"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                       "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                       "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                       "quotaValue": "250"})
            } else {
                json!({"quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                       "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                       "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                       "quotaValue": "10"})
            };
            google_error(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
                vec![
                    json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]}),
                    json!({"@type": "type.googleapis.com/google.rpc.Help", "links": [{"description": "Learn more about Gemini API quotas", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}]}),
                    json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "17s"}),
                ],
            )
        }
        (500, _) => google_error(
            500,
            "INTERNAL",
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
            Vec::new(),
        ),
        (503, _) => google_error(
            503,
            "UNAVAILABLE",
            "The model is overloaded. Please try again later.",
            Vec::new(),
        ),
        (504, _) => google_error(
            504,
            "DEADLINE_EXCEEDED",
            "The service is unable to finish processing within the deadline.",
            Vec::new(),
        ),
        (status, _) => google_error(status, grpc_status(status), "Error.", Vec::new()),
    }
}

/// The canonical gRPC status Google pairs with an HTTP status.
pub(crate) fn grpc_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        500 => "INTERNAL",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    }
}

/// A 200 answer that carries no usable script: a blocked prompt, a filtered or truncated answer.
fn filtered_answer(reason: &str) -> Response {
    let ratings = json!([
        {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
        {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true},
        {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
        {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
    ]);
    let usage = json!({"promptTokenCount": 812, "totalTokenCount": 812});
    let body = match reason {
        "blocked_prompt" | "prohibited_prompt" => json!({
            "promptFeedback": {
                "blockReason": if reason == "blocked_prompt" { "SAFETY" } else { "PROHIBITED_CONTENT" },
                "safetyRatings": ratings,
            },
            "usageMetadata": usage,
            "modelVersion": "gemini-2.5-flash",
        }),
        "finish_safety" | "finish_prohibited" | "finish_blocklist" => json!({
            "candidates": [{
                "finishReason": match reason {
                    "finish_safety" => "SAFETY",
                    "finish_prohibited" => "PROHIBITED_CONTENT",
                    _ => "BLOCKLIST",
                },
                "index": 0,
                "safetyRatings": ratings,
            }],
            "usageMetadata": usage,
            "modelVersion": "gemini-2.5-flash",
        }),
        "max_tokens" => json!({
            "candidates": [{
                "content": {"parts": [{"text": "{\"title\": \"颱風\", \"description\": \"颱風是"}], "role": "model"},
                "finishReason": "MAX_TOKENS",
                "index": 0,
            }],
            "usageMetadata": usage,
            "modelVersion": "gemini-2.5-flash",
        }),
        _ => json!({"candidates": [], "usageMetadata": usage}),
    };
    axum::Json(body).into_response()
}

fn model_not_found(model: &str) -> Response {
    google_error(
        404,
        "NOT_FOUND",
        &format!(
            "models/{model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
        ),
        Vec::new(),
    )
}

pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
        .route("/v1beta/models", get(list_models))
        .route(
            "/v1beta/models/{model_action}",
            get(get_model).post(generate_content),
        )
}

struct FakeModel {
    id: &'static str,
    display_name: &'static str,
    input_token_limit: u64,
    output_token_limit: u64,
    methods: &'static [&'static str],
}

const GENERATE_METHODS: &[&str] = &[
    "generateContent",
    "countTokens",
    "createCachedContent",
    "batchGenerateContent",
];

const MODELS: &[FakeModel] = &[
    FakeModel {
        id: "gemini-2.5-flash",
        display_name: "Gemini 2.5 Flash",
        input_token_limit: 1_048_576,
        output_token_limit: 65_536,
        methods: GENERATE_METHODS,
    },
    FakeModel {
        id: "gemini-2.5-pro",
        display_name: "Gemini 2.5 Pro",
        input_token_limit: 1_048_576,
        output_token_limit: 65_536,
        methods: GENERATE_METHODS,
    },
    FakeModel {
        id: "gemini-2.5-flash-lite",
        display_name: "Gemini 2.5 Flash-Lite",
        input_token_limit: 1_048_576,
        output_token_limit: 65_536,
        methods: GENERATE_METHODS,
    },
    FakeModel {
        id: "gemini-2.0-flash",
        display_name: "Gemini 2.0 Flash",
        input_token_limit: 1_048_576,
        output_token_limit: 8_192,
        methods: GENERATE_METHODS,
    },
    FakeModel {
        id: "gemini-2.0-flash-lite",
        display_name: "Gemini 2.0 Flash-Lite",
        input_token_limit: 1_048_576,
        output_token_limit: 8_192,
        methods: GENERATE_METHODS,
    },
    FakeModel {
        id: "gemma-3-27b-it",
        display_name: "Gemma 3 27B",
        input_token_limit: 131_072,
        output_token_limit: 8_192,
        methods: &["generateContent", "countTokens"],
    },
    FakeModel {
        id: "text-embedding-004",
        display_name: "Text Embedding 004",
        input_token_limit: 2_048,
        output_token_limit: 1,
        methods: &["embedContent"],
    },
    FakeModel {
        id: "gemini-embedding-001",
        display_name: "Gemini Embedding 001",
        input_token_limit: 2_048,
        output_token_limit: 1,
        methods: &["embedContent", "countTextTokens", "countTokens"],
    },
    FakeModel {
        id: "imagen-4.0-generate-001",
        display_name: "Imagen 4",
        input_token_limit: 480,
        output_token_limit: 8_192,
        methods: &["predict"],
    },
    FakeModel {
        id: "aqa",
        display_name: "Model that performs Attributed Question Answering.",
        input_token_limit: 7_168,
        output_token_limit: 1_024,
        methods: &["generateAnswer"],
    },
];

fn find_model(id: &str) -> Option<&'static FakeModel> {
    MODELS.iter().find(|m| m.id == id)
}

fn model_json(m: &FakeModel) -> Value {
    json!({
        "name": format!("models/{}", m.id),
        "version": "001",
        "displayName": m.display_name,
        "description": format!("{} (fake cloud)", m.display_name),
        "inputTokenLimit": m.input_token_limit,
        "outputTokenLimit": m.output_token_limit,
        "supportedGenerationMethods": m.methods,
        "temperature": 1.0,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2.0,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    page_size: Option<usize>,
    page_token: Option<String>,
}

async fn list_models(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Response {
    if let Some(refused) = key_refusal(&headers, SERVICE) {
        return refused;
    }
    let start = match query.page_token.as_deref().filter(|t| !t.is_empty()) {
        None => 0,
        Some(token) => match token
            .strip_prefix("fake-page-")
            .and_then(|n| n.parse().ok())
        {
            Some(n) if n < MODELS.len() => n,
            _ => return invalid_argument("Invalid page token."),
        },
    };
    let mut size = query
        .page_size
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .min(MAX_PAGE_SIZE);
    let limit = state.gemini.page_limit.load(Ordering::SeqCst);
    if limit > 0 {
        size = size.min(limit);
    }
    let end = (start + size).min(MODELS.len());
    let mut body = json!({"models": MODELS[start..end].iter().map(model_json).collect::<Vec<_>>()});
    if end < MODELS.len() {
        body["nextPageToken"] = json!(format!("fake-page-{end}"));
    }
    axum::Json(body).into_response()
}

async fn get_model(headers: HeaderMap, Path(model_action): Path<String>) -> Response {
    if let Some(refused) = key_refusal(&headers, SERVICE) {
        return refused;
    }
    match find_model(&model_action) {
        Some(m) => axum::Json(model_json(m)).into_response(),
        None => model_not_found(&model_action),
    }
}

async fn generate_content(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    Path(model_action): Path<String>,
    body: Bytes,
) -> Response {
    let Some((model_id, "generateContent")) = model_action.split_once(':') else {
        return google_error(404, "NOT_FOUND", "Method not found.", Vec::new());
    };
    if let Some(refused) = key_refusal(&headers, SERVICE) {
        return refused;
    }
    let Some(model) = find_model(model_id).filter(|m| m.methods.contains(&"generateContent"))
    else {
        return model_not_found(model_id);
    };
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return invalid_argument(
                "Invalid JSON payload received. Unexpected token.\n, expected a JSON object.",
            );
        }
    };
    *lock(&state.gemini.last_generate) = Some(request.clone());

    let prompt: String = request["contents"]
        .as_array()
        .and_then(|c| c.last())
        .and_then(|c| c["parts"].as_array())
        .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
        .unwrap_or_default();
    if prompt.trim().is_empty() {
        return invalid_argument("* GenerateContentRequest.contents: contents is not specified\n");
    }
    let config = &request["generationConfig"];
    let json_mode = config["responseMimeType"].as_str() == Some("application/json");
    let schema = &config["responseSchema"];
    if !schema.is_null() {
        if !json_mode {
            return invalid_argument(
                "* GenerateContentRequest.generation_config.response_schema: response_schema is only supported with response_mime_type application/json or text/x.enum\n",
            );
        }
        if let Err(why) = check_schema(schema, "generation_config.response_schema") {
            return invalid_argument(&why);
        }
    }
    if json_mode && model.id.starts_with("gemma") {
        return invalid_argument(&format!("JSON mode is not enabled for models/{}", model.id));
    }

    let script = draft_script(article_of(&prompt), schema);
    let text = if json_mode && !schema.is_null() {
        script.to_string()
    } else {
        format!(
            "Here is the script for your video:\n\n```json\n{}\n```\n\nLet me know if you would like any changes!",
            serde_json::to_string_pretty(&script).unwrap_or_default()
        )
    };
    let prompt_tokens = prompt.chars().count() as u64 / 2 + 1;
    let output_tokens = text.chars().count() as u64 / 2 + 1;
    axum::Json(json!({
        "candidates": [{
            "content": {"parts": [{"text": text}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        },
        "modelVersion": model.id,
        "responseId": uuid::Uuid::new_v4().simple().to_string(),
    }))
    .into_response()
}

/// The checks the API makes on a `responseSchema` (an OpenAPI 3.0 subset).
fn check_schema(schema: &Value, at: &str) -> Result<(), String> {
    const TYPES: [&str; 7] = [
        "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL",
    ];
    let Some(kind) = schema["type"].as_str() else {
        return Err(format!(
            "* GenerateContentRequest.{at}.type: must be specified\n"
        ));
    };
    let kind = kind.to_ascii_uppercase();
    if !TYPES.contains(&kind.as_str()) {
        return Err(format!(
            "Invalid value at '{at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), \"{kind}\""
        ));
    }
    match kind.as_str() {
        "ARRAY" => {
            if schema["items"].is_null() {
                return Err(format!(
                    "* GenerateContentRequest.{at}.items: missing field.\n"
                ));
            }
            check_schema(&schema["items"], &format!("{at}.items"))
        }
        "OBJECT" => {
            let Some(properties) = schema["properties"].as_object().filter(|p| !p.is_empty())
            else {
                return Err(format!(
                    "* GenerateContentRequest.{at}.properties: should be non-empty for OBJECT type\n"
                ));
            };
            for required in schema["required"].as_array().into_iter().flatten() {
                let name = required.as_str().unwrap_or("");
                if !properties.contains_key(name) {
                    return Err(format!(
                        "* GenerateContentRequest.{at}.required[{name}]: property is not defined\n"
                    ));
                }
            }
            for (name, property) in properties {
                check_schema(property, &format!("{at}.properties[{name}].value"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The article inside a prompt: what follows the last line ending in `Article:`, else all of it.
pub(crate) fn article_of(prompt: &str) -> &str {
    let mut start = 0;
    let mut offset = 0;
    for line in prompt.split_inclusive('\n') {
        offset += line.len();
        if line.trim().to_ascii_lowercase().ends_with("article:") {
            start = offset;
        }
    }
    prompt[start..].trim()
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// Seconds a narrator takes for `text`, roughly: 0.25 s per ideograph, 0.065 s per other letter.
fn speech_seconds(text: &str) -> f64 {
    text.chars()
        .map(|c| {
            if is_cjk(c) {
                0.25
            } else if c.is_alphanumeric() {
                0.065
            } else {
                0.0
            }
        })
        .sum()
}

fn sentences(article: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = article.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' {
            push_sentence(&mut out, &mut current);
            continue;
        }
        current.push(c);
        let ends = matches!(c, '。' | '！' | '？')
            || (matches!(c, '.' | '!' | '?') && chars.peek().is_none_or(|n| n.is_whitespace()));
        if ends {
            while let Some(&n) = chars.peek() {
                if matches!(n, '」' | '』' | '"' | '”' | '）' | ')') {
                    current.push(n);
                    chars.next();
                } else {
                    break;
                }
            }
            push_sentence(&mut out, &mut current);
        }
    }
    push_sentence(&mut out, &mut current);
    out
}

fn push_sentence(out: &mut Vec<String>, current: &mut String) {
    let s = current.trim();
    if s.chars().any(char::is_alphanumeric) {
        out.push(s.to_owned());
    }
    current.clear();
}

/// Sentences grouped greedily into segments of at most ~16 s of speech (a sentence longer than
/// that stands alone, as a model keeps a sentence whole).
fn group(sentences: &[String]) -> Vec<Vec<&str>> {
    const TARGET_MAX: f64 = 16.0;
    let mut groups: Vec<Vec<&str>> = Vec::new();
    let mut seconds = 0.0;
    for s in sentences {
        let t = speech_seconds(s);
        match groups.last_mut() {
            Some(g) if seconds + t <= TARGET_MAX => {
                g.push(s);
                seconds += t;
            }
            _ => {
                groups.push(vec![s]);
                seconds = t;
            }
        }
    }
    // A short tail joins the segment before it when the two still fit.
    if groups.len() > 1 {
        let last: f64 = groups[groups.len() - 1]
            .iter()
            .map(|s| speech_seconds(s))
            .sum();
        let before: f64 = groups[groups.len() - 2]
            .iter()
            .map(|s| speech_seconds(s))
            .sum();
        if last < 5.0
            && last + before <= 20.0
            && let Some(tail) = groups.pop()
            && let Some(g) = groups.last_mut()
        {
            g.extend(tail);
        }
    }
    groups
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// The first clause of a sentence, without its closing mark.
fn first_clause(sentence: &str) -> &str {
    let end = sentence
        .char_indices()
        .find(|(_, c)| {
            matches!(
                c,
                '，' | '。' | '、' | '；' | '：' | '！' | '？' | ',' | ';' | ':' | '.' | '!' | '?'
            )
        })
        .map_or(sentence.len(), |(i, _)| i);
    sentence[..end].trim()
}

/// The script a model would write for `article`, with only the fields `schema` names (all of them
/// when there is no schema, as a model guessing the shape from the prompt would).
pub(crate) fn draft_script(article: &str, schema: &Value) -> Value {
    let chinese =
        article.chars().filter(|c| is_cjk(*c)).count() > article.split_whitespace().count();
    let all = sentences(article);
    let first = all.first().map_or("", String::as_str);
    let (title, intro, outro) = if chinese {
        let title = clip(first_clause(first), 30);
        (
            title.clone(),
            format!("歡迎收看，今天我們要聊聊{title}。"),
            "感謝您的收看，我們下次見。".to_owned(),
        )
    } else {
        let title = clip(first_clause(first), 80);
        (
            title.clone(),
            format!("Welcome! Today we look at {title}."),
            "Thanks for watching, see you next time.".to_owned(),
        )
    };
    let description = all
        .iter()
        .take(2)
        .cloned()
        .collect::<Vec<_>>()
        .join(if chinese { "" } else { " " });
    let tags: Vec<String> = if chinese {
        vec!["新聞".into(), "知識".into(), clip(first_clause(first), 8)]
    } else {
        first
            .split_whitespace()
            .filter(|w| w.len() > 4)
            .take(5)
            .map(|w| {
                w.trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase()
            })
            .collect()
    };
    let item_schema = &schema["properties"]["segments"]["items"];
    let segments: Vec<Value> = group(&all)
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let narration = g.join(if chinese { "" } else { " " });
            let lead = first_clause(g[0]);
            let fields = [
                ("narration", narration.clone()),
                (
                    "image_description",
                    if chinese {
                        format!("插圖：{}", clip(lead, 30))
                    } else {
                        format!("Illustration: {}", clip(lead, 80))
                    },
                ),
                (
                    "image_prompt_en",
                    format!(
                        "Editorial illustration for part {} of a news story, {}, soft natural light, wide shot, no text",
                        i + 1,
                        if chinese { "a city in Taiwan".to_owned() } else { clip(lead, 60).to_lowercase() }
                    ),
                ),
                (
                    "key_phrase",
                    if chinese { clip(lead, 12) } else { clip(lead, 36) },
                ),
            ];
            object_of(&fields, item_schema)
        })
        .collect();
    let top = [
        ("title", json!(title)),
        ("description", json!(description)),
        ("tags", json!(tags)),
        ("intro", json!(intro)),
        ("segments", json!(segments)),
        ("outro", json!(outro)),
    ];
    object_of(&top, schema)
}

/// An object of the `fields` that `schema`'s properties name (all of them without a schema).
fn object_of<V: Clone + Into<Value>>(fields: &[(&str, V)], schema: &Value) -> Value {
    let named = schema["properties"].as_object();
    let object: serde_json::Map<String, Value> = fields
        .iter()
        .filter(|(k, _)| named.is_none_or(|p| p.contains_key(*k)))
        .map(|(k, v)| ((*k).to_owned(), v.clone().into()))
        .collect();
    Value::Object(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_named() {
        assert_eq!(endpoint_of("GET", "/v1beta/models"), Some("models.list"));
        assert_eq!(
            endpoint_of("GET", "/v1beta/models/gemini-2.5-flash"),
            Some("models.get")
        );
        assert_eq!(
            endpoint_of("POST", "/v1beta/models/gemini-2.5-flash:generateContent"),
            Some("generateContent")
        );
        assert_eq!(
            endpoint_of("POST", "/v1beta/models/gemini-2.5-flash:embedContent"),
            None
        );
        assert_eq!(endpoint_of("GET", "/v1/voices"), None);
    }

    #[test]
    fn the_article_is_split_into_short_segments_in_order() {
        let article = "颱風是熱帶氣旋的一種。它帶來強風與豪雨，也帶來水庫需要的雨水。\
            氣象局會發布海上與陸上警報。民眾應該提早準備，避免前往海邊與山區。\
            颱風過後，也要注意土石流與淹水的風險。農民在颱風來臨前會搶收作物，漁船則回港避風。\
            政府也會視情況宣布停班停課，以保障民眾安全。";
        let prompt = format!("Write a script.\n\nArticle:\n{article}");
        let script = draft_script(article_of(&prompt), &Value::Null);
        let segments = script["segments"].as_array().expect("segments");
        assert!(segments.len() >= 2);
        let joined: String = segments
            .iter()
            .filter_map(|s| s["narration"].as_str())
            .collect();
        assert_eq!(joined, article);
        for s in segments {
            assert!(speech_seconds(s["narration"].as_str().unwrap_or("")) <= 20.0);
        }
    }

    #[test]
    fn only_the_fields_the_schema_names_are_filled() {
        let schema = json!({"type": "OBJECT", "properties": {
            "title": {"type": "STRING"},
            "segments": {"type": "ARRAY", "items": {"type": "OBJECT", "properties": {"narration": {"type": "STRING"}}}}}});
        let script = draft_script("One sentence here. Another sentence there.", &schema);
        assert_eq!(
            script
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["segments".to_owned(), "title".to_owned()])
        );
        assert!(script["segments"][0].get("image_prompt_en").is_none());
        assert!(check_schema(&schema, "s").is_ok());
        assert!(check_schema(&json!({"type": "OBJECT", "properties": {}}), "s").is_err());
        assert!(check_schema(&json!({"type": "ARRAY"}), "s").is_err());
        assert!(check_schema(&json!({"type": "OBJECT", "properties": {"a": {"type": "STRING"}}, "required": ["b"]}), "s").is_err());
    }
}
