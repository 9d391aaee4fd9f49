//! OpenAI-compatible chat APIs: `POST …/chat/completions` and `GET …/models` in OpenAI's wire
//! format, in two flavours at two base URLs:
//! - `{fake}/v1` speaks like OpenAI (and DeepSeek, vLLM, LM Studio): a key is required
//!   (`Authorization: Bearer`; none → 401, one starting with `invalid` → 401 `invalid_api_key`,
//!   echoed masked as OpenAI does), models `gpt-4o-mini`, `gpt-4.1-mini` and `deepseek-chat` —
//!   which, like DeepSeek, refuses `json_schema` and takes only `json_object`.
//! - `{fake}/ollama/v1` speaks like a local Ollama's OpenAI-compatible endpoint: no key needed,
//!   models named with tags (`qwen2.5:7b`, `llama3.2:3b`), an unknown model is Ollama's 404
//!   "not found, try pulling it first".
//!
//! Like the Gemini fake, the model writes the script from the article in the prompt (the same
//! sentence grouping), filling only the fields the `json_schema` names; with `json_object` it
//! fills all of them, and without `response_format` it answers prose with the JSON in a fence. A
//! strict `json_schema` is checked the way OpenAI checks it (every object closed with
//! `additionalProperties: false`, every property required).
//!
//! Fault reasons (`Fault::error(Api::OpenaiCompatible, …, status, reason)`):
//! - 200: `refusal` (`message.refusal`), `length` (`finish_reason: "length"`, cut content),
//!   `content_filter`, `invalid_json` (prose instead of JSON), `no_choices`;
//! - 400: `context_length` (`context_length_exceeded`), `model_not_exist` (DeepSeek), else an
//!   `invalid_request_error`; 401; 402 (DeepSeek's balance); 403;
//! - 404: `ollama` (Ollama's body), `vllm` (vLLM's body), else OpenAI's `model_not_found`;
//! - 429: `insufficient_quota`, else a rate limit (OpenAI sends no `Retry-After`; add one with
//!   `Fault::retry_after`);
//! - 500, 502, 503, 504: OpenAI's server-error bodies.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::gemini::{article_of, draft_script};
use crate::{State, lock};

pub const CHAT: &str = "chat.completions";
pub const MODELS: &str = "models.list";

#[derive(Default)]
pub struct OpenAiState {
    last_chat: Mutex<Option<(HeaderMap, Value)>>,
}

impl OpenAiState {
    /// The body of the last `chat/completions` request that reached a handler.
    pub fn last_chat_request(&self) -> Option<Value> {
        lock(&self.last_chat).as_ref().map(|(_, body)| body.clone())
    }

    /// The `Authorization` header of that request, if it had one.
    pub fn last_authorization(&self) -> Option<String> {
        lock(&self.last_chat).as_ref().and_then(|(headers, _)| {
            headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
    }
}

pub(crate) fn endpoint_of(method: &str, path: &str) -> Option<&'static str> {
    let rest = path.strip_prefix("/ollama").unwrap_or(path);
    match (method, rest) {
        ("POST", "/v1/chat/completions") => Some(CHAT),
        ("GET", "/v1/models") => Some(MODELS),
        _ => None,
    }
}

pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
        .route(
            "/v1/chat/completions",
            post(|s, h, b| chat(s, h, b, Flavour::OpenAi)),
        )
        .route("/v1/models", get(|h| models(h, Flavour::OpenAi)))
        .route(
            "/ollama/v1/chat/completions",
            post(|s, h, b| chat(s, h, b, Flavour::Ollama)),
        )
        .route("/ollama/v1/models", get(|h| models(h, Flavour::Ollama)))
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavour {
    OpenAi,
    Ollama,
}

const OPENAI_MODELS: [&str; 3] = ["gpt-4o-mini", "gpt-4.1-mini", "deepseek-chat"];
const OLLAMA_MODELS: [&str; 3] = ["qwen2.5:7b", "llama3.2:3b", "gemma3:4b"];

/// An OpenAI error body with its status.
fn openai_error(status: u16, message: &str, kind: &str, param: Value, code: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(
            json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
        ),
    )
        .into_response()
}

fn model_not_found(model: &str, flavour: Flavour) -> Response {
    match flavour {
        Flavour::OpenAi => openai_error(
            404,
            &format!("The model `{model}` does not exist or you do not have access to it."),
            "invalid_request_error",
            Value::Null,
            json!("model_not_found"),
        ),
        Flavour::Ollama => openai_error(
            404,
            &format!("model \"{model}\" not found, try pulling it first"),
            "api_error",
            Value::Null,
            Value::Null,
        ),
    }
}

/// OpenAI's refusal of a missing or `invalid…` key (the key is echoed masked, as OpenAI does).
fn key_refusal(headers: &HeaderMap) -> Option<Response> {
    let key = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim();
    if key.is_empty() {
        return Some(openai_error(
            401,
            "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            "invalid_request_error",
            Value::Null,
            Value::Null,
        ));
    }
    if key.starts_with("invalid") {
        let chars: Vec<char> = key.chars().collect();
        let masked: String = chars
            .iter()
            .take(3)
            .chain(['*'; 3].iter())
            .collect::<String>()
            + &chars[chars.len().saturating_sub(4)..]
                .iter()
                .collect::<String>();
        return Some(openai_error(
            401,
            &format!(
                "Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys."
            ),
            "invalid_request_error",
            Value::Null,
            json!("invalid_api_key"),
        ));
    }
    None
}

pub(crate) fn error_response(_endpoint: &str, status: u16, reason: Option<&str>) -> Response {
    match (status, reason) {
        (200, reason) => unusable_answer(reason.unwrap_or("")),
        (400, Some("context_length")) => openai_error(
            400,
            "This model's maximum context length is 8192 tokens. However, your messages resulted in 9461 tokens. Please reduce the length of the messages.",
            "invalid_request_error",
            json!("messages"),
            json!("context_length_exceeded"),
        ),
        (400, Some("model_not_exist")) => openai_error(
            400,
            "Model Not Exist",
            "invalid_request_error",
            Value::Null,
            Value::Null,
        ),
        (400, _) => openai_error(
            400,
            "Invalid value for 'response_format': This response_format type is unavailable now.",
            "invalid_request_error",
            json!("response_format"),
            Value::Null,
        ),
        (401, _) => openai_error(
            401,
            "Incorrect API key provided: sk-***...0000. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            Value::Null,
            json!("invalid_api_key"),
        ),
        (402, _) => openai_error(
            402,
            "Insufficient Balance",
            "unknown_error",
            Value::Null,
            json!("invalid_request_error"),
        ),
        (403, _) => openai_error(
            403,
            "Country, region, or territory not supported",
            "request_forbidden",
            Value::Null,
            json!("unsupported_country_region_territory"),
        ),
        (404, Some("ollama")) => model_not_found("qwen9:99b", Flavour::Ollama),
        (404, Some("vllm")) => (
            StatusCode::NOT_FOUND,
            axum::Json(
                json!({"object": "error", "message": "The model `llama-9` does not exist.",
                "type": "NotFoundError", "param": null, "code": 404}),
            ),
        )
            .into_response(),
        (404, _) => model_not_found("gpt-unknown", Flavour::OpenAi),
        (429, Some("insufficient_quota")) => openai_error(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            "insufficient_quota",
            Value::Null,
            json!("insufficient_quota"),
        ),
        (429, _) => openai_error(
            429,
            "Rate limit reached for gpt-4o-mini in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
            "requests",
            Value::Null,
            json!("rate_limit_exceeded"),
        ),
        (500, _) => openai_error(
            500,
            "The server had an error while processing your request. Sorry about that!",
            "server_error",
            Value::Null,
            Value::Null,
        ),
        (503, _) => openai_error(
            503,
            "The engine is currently overloaded, please try again later.",
            "server_error",
            Value::Null,
            Value::Null,
        ),
        (status, _) => openai_error(
            status,
            "Bad gateway.",
            "server_error",
            Value::Null,
            json!(status),
        ),
    }
}

/// A chat completion with one choice.
fn completion(model: &str, message: Value, finish: &str, prompt_chars: usize) -> Value {
    let output = message["content"].as_str().map_or(0, |c| c.chars().count());
    let prompt_tokens = prompt_chars as u64 / 2 + 1;
    let output_tokens = output as u64 / 2 + 1;
    json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4().simple()),
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": output_tokens,
                  "total_tokens": prompt_tokens + output_tokens},
        "system_fingerprint": "fp_fake",
    })
}

/// A 200 answer that carries no usable script.
fn unusable_answer(reason: &str) -> Response {
    let model = "gpt-4o-mini";
    let body = match reason {
        "refusal" => completion(
            model,
            json!({"role": "assistant", "content": null,
                   "refusal": "I'm sorry, I can't help with that request."}),
            "stop",
            800,
        ),
        "length" => completion(
            model,
            json!({"role": "assistant", "content": "{\"title\": \"颱風\", \"description\": \"颱風是", "refusal": null}),
            "length",
            800,
        ),
        "content_filter" => completion(
            model,
            json!({"role": "assistant", "content": null, "refusal": null}),
            "content_filter",
            800,
        ),
        "invalid_json" => completion(
            model,
            json!({"role": "assistant", "content": "Sure! Here is a script about typhoons: first we talk about the wind, then the rain.", "refusal": null}),
            "stop",
            800,
        ),
        _ => {
            json!({"id": "chatcmpl-empty", "object": "chat.completion", "model": model, "choices": []})
        }
    };
    axum::Json(body).into_response()
}

async fn models(headers: HeaderMap, flavour: Flavour) -> Response {
    if flavour == Flavour::OpenAi
        && let Some(refused) = key_refusal(&headers)
    {
        return refused;
    }
    let (names, owner) = match flavour {
        Flavour::OpenAi => (OPENAI_MODELS, "system"),
        Flavour::Ollama => (OLLAMA_MODELS, "library"),
    };
    let data: Vec<Value> = names
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 1_767_225_600, "owned_by": owner}))
        .collect();
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// The checks OpenAI makes on a strict `json_schema`: every object lists all its properties as
/// required and sets `additionalProperties: false`.
fn check_strict(schema: &Value, at: &str) -> Result<(), String> {
    match schema["type"].as_str() {
        Some("object") => {
            if schema["additionalProperties"] != json!(false) {
                return Err(format!(
                    "Invalid schema for response_format 'video_script': In context=({at}), 'additionalProperties' is required to be supplied and to be false."
                ));
            }
            let properties = schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default();
            let required: Vec<&str> = schema["required"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for name in properties.keys() {
                if !required.contains(&name.as_str()) {
                    return Err(format!(
                        "Invalid schema for response_format 'video_script': In context=({at}), 'required' is required to be supplied and to be an array including every key in properties. Missing '{name}'."
                    ));
                }
            }
            for (name, p) in &properties {
                check_strict(p, &format!("{at}, 'properties', '{name}'"))?;
            }
            Ok(())
        }
        Some("array") => check_strict(&schema["items"], &format!("{at}, 'items'")),
        Some(_) => Ok(()),
        None => Err(format!(
            "Invalid schema for response_format 'video_script': In context=({at}), schema must have a 'type' key."
        )),
    }
}

fn invalid_request(message: &str, param: &str) -> Response {
    openai_error(
        400,
        message,
        "invalid_request_error",
        json!(param),
        Value::Null,
    )
}

async fn chat(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
    flavour: Flavour,
) -> Response {
    if flavour == Flavour::OpenAi
        && let Some(refused) = key_refusal(&headers)
    {
        return refused;
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => {
            return invalid_request("We could not parse the JSON body of your request.", "body");
        }
    };
    *lock(&state.openai.last_chat) = Some((headers.clone(), request.clone()));
    let model = request["model"].as_str().unwrap_or("");
    let known = match flavour {
        Flavour::OpenAi => OPENAI_MODELS.contains(&model),
        Flavour::Ollama => OLLAMA_MODELS.contains(&model),
    };
    if !known {
        return model_not_found(model, flavour);
    }
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let prompt: String = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_owned();
    if prompt.trim().is_empty() {
        return invalid_request("'messages' must contain a user message.", "messages");
    }
    let format = &request["response_format"];
    let schema = match format["type"].as_str() {
        Some("json_schema") => {
            if model == "deepseek-chat" {
                return invalid_request(
                    "This response_format type is unavailable now",
                    "response_format",
                );
            }
            let spec = &format["json_schema"];
            if spec["name"].as_str().is_none_or(str::is_empty) || !spec["schema"].is_object() {
                return invalid_request(
                    "Missing required parameter: 'response_format.json_schema.name'.",
                    "response_format.json_schema",
                );
            }
            if spec["strict"] == json!(true)
                && let Err(why) = check_strict(&spec["schema"], "")
            {
                return invalid_request(&why, "response_format");
            }
            Some(spec["schema"].clone())
        }
        Some("json_object") => {
            let mentions_json = messages
                .iter()
                .filter_map(|m| m["content"].as_str())
                .any(|c| c.to_ascii_lowercase().contains("json"));
            if !mentions_json {
                return invalid_request(
                    "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                    "messages",
                );
            }
            Some(Value::Null)
        }
        Some("text") | None => None,
        Some(other) => {
            return invalid_request(
                &format!(
                    "Invalid value: '{other}'. Supported values are: 'json_object', 'json_schema', and 'text'."
                ),
                "response_format.type",
            );
        }
    };
    let script = draft_script(article_of(&prompt), schema.as_ref().unwrap_or(&Value::Null));
    let content = match schema {
        Some(_) => script.to_string(),
        None => format!(
            "Here is the script for your video:\n\n```json\n{}\n```\n\nLet me know if you would like any changes!",
            serde_json::to_string_pretty(&script).unwrap_or_default()
        ),
    };
    let mut message = json!({"role": "assistant", "content": content});
    if flavour == Flavour::OpenAi {
        message["refusal"] = Value::Null;
    }
    let mut answer = completion(model, message, "stop", prompt.chars().count());
    if flavour == Flavour::Ollama {
        answer["system_fingerprint"] = json!("fp_ollama");
    }
    axum::Json(answer).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_named_in_both_flavours() {
        assert_eq!(endpoint_of("POST", "/v1/chat/completions"), Some(CHAT));
        assert_eq!(
            endpoint_of("POST", "/ollama/v1/chat/completions"),
            Some(CHAT)
        );
        assert_eq!(endpoint_of("GET", "/ollama/v1/models"), Some(MODELS));
        assert_eq!(endpoint_of("GET", "/v1/voices"), None);
        assert_eq!(endpoint_of("GET", "/v1/chat/completions"), None);
    }

    #[test]
    fn strict_schemas_must_close_every_object() {
        let good = json!({"type": "object", "additionalProperties": false, "required": ["a"],
            "properties": {"a": {"type": "array", "items": {"type": "object",
                "additionalProperties": false, "required": ["b"], "properties": {"b": {"type": "string"}}}}}});
        assert!(check_strict(&good, "").is_ok());
        let mut open = good.clone();
        open["properties"]["a"]["items"]["additionalProperties"] = json!(true);
        assert!(check_strict(&open, "").is_err());
        let mut partial = good;
        partial["required"] = json!([]);
        assert!(check_strict(&partial, "").is_err());
    }
}
