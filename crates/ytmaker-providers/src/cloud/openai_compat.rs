//! Script writing with any OpenAI-compatible chat API: `POST {base_url}/chat/completions` in
//! OpenAI's wire format. One client covers OpenAI, DeepSeek, Qwen's compatible mode (DashScope),
//! and local servers: Ollama (`http://localhost:11434/v1`), vLLM and LM Studio.
//!
//! One call writes the whole script, from the same prompt, system instruction and schema as the
//! Gemini writer ([`super::llm_script`]), so both produce the same `Script`. Structured output is
//! asked for as the project's `llm.structured_output` says:
//! - `json_schema` (default): `response_format: {"type": "json_schema", "json_schema": {"name",
//!   "strict": true, "schema"}}`. OpenAI, vLLM, LM Studio and Qwen constrain the answer to it;
//!   Ollama (≥ 0.5) turns it into its native `format` schema, so a local Ollama is constrained by
//!   the same grammar as its `/api/chat` `format` field — which is why no second wire format is
//!   needed for it.
//! - `json_object`: `response_format: {"type": "json_object"}` with the schema in the system
//!   message, for servers with JSON mode only (DeepSeek).
//!
//! The key (`Authorization: Bearer`) is optional: a local server usually takes none. The server
//! is the project's choice; nothing switches to another one.
//!
//! Failures, as these servers really report them (OpenAI's `{"error": {message, type, code}}`,
//! vLLM's `{"object": "error", message, type, code}`, Ollama's `{"error": {...}}` or
//! `{"error": "..."}`):
//! - connection refused (the local server is not running) → `LLM_SERVER_UNREACHABLE`, naming the
//!   base URL; other transport failures → `LLM_NETWORK_ERROR`, `LLM_TIMEOUT`;
//! - 401, 403 → `LLM_INVALID_API_KEY`; 402 (DeepSeek's balance) and 429 `insufficient_quota` →
//!   `LLM_QUOTA_EXCEEDED`; other 429 → `LLM_RATE_LIMIT` (with `Retry-After` when sent);
//! - 404 naming a model (OpenAI `model_not_found`, Ollama "not found, try pulling it first",
//!   vLLM "does not exist"), and a 400 saying the model does not exist (DeepSeek) →
//!   `LLM_MODEL_NOT_FOUND`; a 404 naming no model (the base URL has no `/chat/completions`) →
//!   `LLM_REQUEST_REJECTED`;
//! - 400 `context_length_exceeded` (or "maximum context length") → `LLM_CONTEXT_TOO_LONG`; any
//!   other 400/422 → `LLM_REQUEST_REJECTED`;
//! - 504, 408 → `LLM_TIMEOUT`; other 5xx → `LLM_SERVER_ERROR`;
//! - a 200 whose message carries a `refusal`, or `finish_reason: "content_filter"` →
//!   `LLM_CONTENT_REFUSED`; `finish_reason: "length"` → `LLM_OUTPUT_TRUNCATED`; content that is
//!   not the script JSON → `LLM_INVALID_RESPONSE`.

use std::time::Instant;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use ytmaker_core::config::{LlmSettings, StructuredOutput};
use ytmaker_core::script::Script;
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};

use super::http::{ApiClient, ApiCodes, Reply};
use super::llm_script::{Dialect, Prepared, head, prepare, script_from_json, script_schema};
use super::{CloudContext, Timeouts};
use crate::{ScriptRequest, ScriptWriter};

pub static CODES: ApiCodes = ApiCodes {
    api: "openai_compatible",
    timeout: ErrorCode::LLM_TIMEOUT,
    network: ErrorCode::LLM_NETWORK_ERROR,
    invalid_response: ErrorCode::LLM_INVALID_RESPONSE,
    refused: Some(ErrorCode::LLM_SERVER_UNREACHABLE),
};

pub const CHAT: &str = "chat.completions";
pub const MODELS: &str = "models.list";

/// The `json_schema.name` sent with the schema.
const SCHEMA_NAME: &str = "video_script";

/// A model the server lists (`GET {base_url}/models`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ListedModel {
    pub id: String,
    pub owned_by: String,
}

/// See the module documentation.
pub struct OpenAiCompatibleScriptWriter {
    api: ApiClient,
    base_url: String,
    timeouts: Timeouts,
    key: Option<Secret>,
    model: String,
    structured: StructuredOutput,
}

impl OpenAiCompatibleScriptWriter {
    /// `key` is the stored key when `settings.api_key` names one, `None` for a server without.
    pub fn new(ctx: &CloudContext, settings: &LlmSettings, key: Option<Secret>) -> Self {
        OpenAiCompatibleScriptWriter {
            api: ApiClient::new(ctx, &CODES),
            base_url: base(&settings.base_url),
            timeouts: ctx.timeouts,
            key,
            model: settings.model.trim().to_owned(),
            structured: settings.structured_output,
        }
    }

    fn body(&self, prepared: &Prepared) -> Value {
        let schema = script_schema(Dialect::JsonSchema);
        let (system, response_format) = match self.structured {
            StructuredOutput::JsonSchema => (
                prepared.system.clone(),
                json!({
                    "type": "json_schema",
                    "json_schema": {"name": SCHEMA_NAME, "strict": true, "schema": schema},
                }),
            ),
            StructuredOutput::JsonObject => (
                format!(
                    "{}\nAnswer with one JSON object, and nothing else, that matches this JSON Schema:\n{schema}",
                    prepared.system
                ),
                json!({"type": "json_object"}),
            ),
        };
        json!({
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": prepared.prompt},
            ],
            "response_format": response_format,
            "stream": false,
        })
    }

    async fn write(&self, req: &ScriptRequest<'_>) -> YtResult<Script> {
        let prepared = prepare(req)?;
        if self.model.is_empty() {
            return Err(YtError::invalid_field(
                ErrorCode::CONFIG_INVALID,
                "llm.model",
                "the model to ask",
                "",
            ));
        }
        let request = authorised(
            self.api
                .http()
                .post(format!("{}/chat/completions", self.base_url)),
            self.key.as_ref(),
        )
        .json(&self.body(&prepared));
        let reply = self
            .api
            .send(CHAT, request, self.timeouts.generate)
            .await
            .map_err(|e| about_server(e, &self.base_url, &self.model))?;
        if !reply.is_success() {
            return Err(about_server(
                status_error(&self.api, &reply),
                &self.base_url,
                &self.model,
            ));
        }
        let answer: ChatResponse = self
            .api
            .json(&reply)
            .map_err(|e| about_server(e, &self.base_url, &self.model))?;
        let text = answer_text(&self.api, &reply, &answer)
            .map_err(|e| about_server(e, &self.base_url, &self.model))?;
        let json_text = strip_wrapping(&text);
        let script = script_from_json(json_text, &prepared, req.settings).map_err(|why| {
            about_server(
                self.api
                    .invalid(&reply, why)
                    .detail("text_head", head(&text)),
                &self.base_url,
                &self.model,
            )
        })?;
        script.validate()?;
        if let Some(usage) = &answer.usage {
            tracing::info!(
                provider = "openai_compatible",
                model = self.model.as_str(),
                prompt_tokens = usage.prompt_tokens,
                output_tokens = usage.completion_tokens,
                total_tokens = usage.total_tokens,
                "llm usage"
            );
        }
        Ok(script)
    }
}

#[async_trait]
impl ScriptWriter for OpenAiCompatibleScriptWriter {
    fn id(&self) -> &'static str {
        "openai_compatible"
    }

    async fn write_script(&self, req: &ScriptRequest<'_>) -> YtResult<Script> {
        let started = Instant::now();
        let script = self.write(req).await?;
        tracing::info!(
            provider = "openai_compatible",
            model = self.model.as_str(),
            base_url = self.base_url.as_str(),
            segments = script.segments.len(),
            estimated_seconds = script.estimated_total_seconds(),
            warnings = script.warnings.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            "script written"
        );
        Ok(script)
    }
}

/// The models the server lists (`GET {base_url}/models`).
pub async fn list_models(
    ctx: &CloudContext,
    settings: &LlmSettings,
    key: Option<&Secret>,
) -> YtResult<Vec<ListedModel>> {
    let api = ApiClient::new(ctx, &CODES);
    let base_url = base(&settings.base_url);
    let request = authorised(api.http().get(format!("{base_url}/models")), key);
    let reply = api
        .send(MODELS, request, ctx.timeouts.request)
        .await
        .map_err(|e| about_server(e, &base_url, ""))?;
    if !reply.is_success() {
        return Err(about_server(status_error(&api, &reply), &base_url, ""));
    }
    let page: ModelList = api
        .json(&reply)
        .map_err(|e| about_server(e, &base_url, ""))?;
    Ok(page
        .data
        .into_iter()
        .map(|m| ListedModel {
            id: m.id,
            owned_by: m.owned_by,
        })
        .collect())
}

/// Lists the server's models: the cheapest call that proves the server answers and takes the
/// key; says whether the configured model is among them (a server may serve models it does not
/// list, so that is not an error here).
pub async fn test_key(
    ctx: &CloudContext,
    settings: &LlmSettings,
    key: Option<&Secret>,
) -> YtResult<String> {
    let models = list_models(ctx, settings, key).await?;
    let model = settings.model.trim();
    let listed = models.iter().any(|m| m.id == model);
    let about_model = match (model.is_empty(), listed) {
        (true, _) => "no llm.model is set".to_owned(),
        (false, true) => format!("{model} is listed"),
        (false, false) => format!("{model} is NOT listed (pull or load it first)"),
    };
    Ok(format!(
        "{} answers{}; {} models; {about_model}",
        base(&settings.base_url),
        if key.is_some() {
            " and takes the key"
        } else {
            ""
        },
        models.len()
    ))
}

/// The base URL without a trailing slash.
fn base(url: &str) -> String {
    url.trim().trim_end_matches('/').to_owned()
}

fn authorised(request: reqwest::RequestBuilder, key: Option<&Secret>) -> reqwest::RequestBuilder {
    match key {
        Some(key) => request.bearer_auth(key.expose()),
        None => request,
    }
}

/// Adds which server and model an error is about; a refused connection says so in its message.
fn about_server(mut err: YtError, base_url: &str, model: &str) -> YtError {
    if err.code == ErrorCode::LLM_SERVER_UNREACHABLE {
        err.message = format!(
            "the LLM server at {base_url} is not reachable (connection refused): is it running? {}",
            err.message
        );
    }
    err = err.detail("base_url", base_url);
    if !model.is_empty() {
        err = err.detail("model", model);
    }
    err
}

/// The JSON inside a model's text: without a reasoning model's `<think>…</think>` preamble or a
/// Markdown code fence around it (what JSON-mode servers let through). Anything else is left for
/// the JSON parser to judge.
fn strip_wrapping(text: &str) -> &str {
    let mut t = text.trim();
    if t.starts_with("<think>")
        && let Some(end) = t.find("</think>")
    {
        t = t[end + "</think>".len()..].trim();
    }
    if let Some(rest) = t.strip_prefix("```") {
        let rest = rest.strip_prefix("json").unwrap_or(rest);
        if let Some(inner) = rest.trim_end().strip_suffix("```") {
            t = inner.trim();
        }
    }
    t
}

/// The model's text, or why there is none (see the module documentation).
fn answer_text(api: &ApiClient, reply: &Reply, answer: &ChatResponse) -> YtResult<String> {
    let Some(choice) = answer.choices.first() else {
        return Err(api.invalid(reply, "no choice in the answer"));
    };
    let message = choice.message.as_ref();
    if let Some(refusal) = message
        .and_then(|m| m.refusal.as_deref())
        .filter(|r| !r.trim().is_empty())
    {
        return Err(api
            .error(
                ErrorCode::LLM_CONTENT_REFUSED,
                reply,
                format!("the model refused: {}", head(refusal)),
            )
            .detail("refusal", head(refusal)));
    }
    let finish = choice.finish_reason.as_deref().unwrap_or("stop");
    match finish {
        "stop" => {}
        "content_filter" => {
            return Err(api
                .error(
                    ErrorCode::LLM_CONTENT_REFUSED,
                    reply,
                    "a content filter stopped the answer",
                )
                .detail("finish_reason", finish));
        }
        "length" => {
            let text = message.and_then(|m| m.content.as_deref()).unwrap_or("");
            return Err(api
                .error(
                    ErrorCode::LLM_OUTPUT_TRUNCATED,
                    reply,
                    "the answer was cut off at the model's output or context limit",
                )
                .detail("finish_reason", finish)
                .detail(
                    "completion_tokens",
                    answer.usage.as_ref().map_or(0, |u| u.completion_tokens),
                )
                .detail("text_head", head(text)));
        }
        other => {
            return Err(api
                .invalid(reply, format!("the answer ended with {other}"))
                .detail("finish_reason", other));
        }
    }
    let text = message.and_then(|m| m.content.clone()).unwrap_or_default();
    if text.trim().is_empty() {
        return Err(api.invalid(reply, "the answer has no text"));
    }
    Ok(text)
}

/// An OpenAI-style error body, as far as the mapping needs it. Reads OpenAI's and Ollama's
/// `{"error": {message, type, code}}`, vLLM's `{"object": "error", message, type, code}` and
/// Ollama's native `{"error": "..."}`.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct ServerError {
    pub message: String,
    pub kind: String,
    /// `code` as text (OpenAI gives a string, vLLM a number).
    pub code: String,
}

impl ServerError {
    pub fn parse(body: &[u8]) -> Option<ServerError> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let e = match v.get("error") {
            Some(Value::String(message)) => {
                return Some(ServerError {
                    message: message.clone(),
                    ..ServerError::default()
                });
            }
            Some(e @ Value::Object(_)) => e,
            _ if v.get("message").is_some() => &v,
            _ => return None,
        };
        Some(ServerError {
            message: text(&e["message"]),
            kind: text(&e["type"]),
            code: text(&e["code"]),
        })
    }

    fn lower(&self) -> String {
        format!("{} {} {}", self.message, self.kind, self.code).to_ascii_lowercase()
    }

    fn is_context_overflow(&self) -> bool {
        let all = self.lower();
        self.code == "context_length_exceeded"
            || all.contains("maximum context length")
            || all.contains("context length")
            || all.contains("context window")
    }

    fn names_missing_model(&self) -> bool {
        let all = self.lower();
        self.code == "model_not_found"
            || (all.contains("model")
                && (all.contains("not found")
                    || all.contains("not exist")
                    || all.contains("does not exist")))
    }

    fn is_quota(&self) -> bool {
        self.code == "insufficient_quota" || self.kind == "insufficient_quota"
    }
}

/// Maps a non-2xx answer to its code (see the module documentation).
fn status_error(api: &ApiClient, reply: &Reply) -> YtError {
    let server = ServerError::parse(&reply.body);
    let s = server.as_ref();
    let said = s.map_or_else(String::new, |s| format!(": {}", s.message));
    let (code, message) = match reply.status {
        401 | 403 => (
            ErrorCode::LLM_INVALID_API_KEY,
            format!("the server refused the key{said}"),
        ),
        402 => (
            ErrorCode::LLM_QUOTA_EXCEEDED,
            format!("the account's balance is used up{said}"),
        ),
        404 if s.is_some_and(ServerError::names_missing_model) => (
            ErrorCode::LLM_MODEL_NOT_FOUND,
            format!("the server has no such model{said}"),
        ),
        404 => (
            ErrorCode::LLM_REQUEST_REJECTED,
            format!(
                "the server has no {} endpoint below the base URL (check llm.base_url){said}",
                reply.endpoint
            ),
        ),
        400 | 413 | 422 if s.is_some_and(ServerError::is_context_overflow) => (
            ErrorCode::LLM_CONTEXT_TOO_LONG,
            format!("the article does not fit in the model's context{said}"),
        ),
        400 | 422 if s.is_some_and(ServerError::names_missing_model) => (
            ErrorCode::LLM_MODEL_NOT_FOUND,
            format!("the server has no such model{said}"),
        ),
        400 | 413 | 422 => (
            ErrorCode::LLM_REQUEST_REJECTED,
            format!("the server refused the request{said}"),
        ),
        429 if s.is_some_and(ServerError::is_quota) => (
            ErrorCode::LLM_QUOTA_EXCEEDED,
            format!("the account's quota is used up{said}"),
        ),
        429 => (ErrorCode::LLM_RATE_LIMIT, format!("rate limit{said}")),
        408 | 504 => (
            ErrorCode::LLM_TIMEOUT,
            format!("the server did not finish in time{said}"),
        ),
        500..=599 => (
            ErrorCode::LLM_SERVER_ERROR,
            format!("server error {}{said}", reply.status),
        ),
        other => {
            return api.invalid(reply, format!("unexpected HTTP status {other}"));
        }
    };
    let err = api.error(code, reply, message);
    match s {
        Some(s) => {
            let mut err = err.detail("server_message", head(&s.message));
            if !s.kind.is_empty() {
                err = err.detail("server_type", s.kind.as_str());
            }
            if !s.code.is_empty() {
                err = err.detail("server_code", s.code.as_str());
            }
            err
        }
        None => reply.describe_body(err),
    }
}

#[derive(Deserialize)]
struct ChatResponse {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    message: Option<Message>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    #[serde(default)]
    total_tokens: u64,
}

#[derive(Deserialize)]
struct ModelList {
    #[serde(default)]
    data: Vec<ApiModel>,
}

#[derive(Deserialize)]
struct ApiModel {
    id: String,
    #[serde(default)]
    owned_by: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_each_server_are_read() {
        let openai = br#"{"error": {"message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 130532 tokens.", "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}}"#;
        let e = ServerError::parse(openai).expect("openai");
        assert!(e.is_context_overflow() && !e.names_missing_model());

        let vllm = br#"{"object": "error", "message": "The model `llama-9` does not exist.", "type": "NotFoundError", "param": null, "code": 404}"#;
        let e = ServerError::parse(vllm).expect("vllm");
        assert_eq!(e.code, "404");
        assert!(e.names_missing_model());

        let ollama = br#"{"error": {"message": "model \"qwen9\" not found, try pulling it first", "type": "api_error", "param": null, "code": null}}"#;
        assert!(
            ServerError::parse(ollama)
                .expect("ollama")
                .names_missing_model()
        );
        let native = br#"{"error": "model 'qwen9' not found"}"#;
        assert!(
            ServerError::parse(native)
                .expect("native")
                .names_missing_model()
        );

        let quota = br#"{"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}"#;
        assert!(ServerError::parse(quota).expect("quota").is_quota());

        assert_eq!(ServerError::parse(b"404 page not found"), None);
        assert_eq!(ServerError::parse(b"<html></html>"), None);
    }

    #[test]
    fn wrappings_around_the_json_are_removed() {
        assert_eq!(strip_wrapping(" {\"a\": 1} "), "{\"a\": 1}");
        assert_eq!(strip_wrapping("```json\n{\"a\": 1}\n```"), "{\"a\": 1}");
        assert_eq!(
            strip_wrapping("<think>\nlet me see\n</think>\n\n{\"a\": 1}"),
            "{\"a\": 1}"
        );
        assert_eq!(strip_wrapping("Sure! {\"a\": 1}"), "Sure! {\"a\": 1}");
    }
}
