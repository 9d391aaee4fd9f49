//! Google Cloud Text-to-Speech v1: `text:synthesize` and `voices.list`, with Google's error body.
//!
//! `text:synthesize` validates the request as the API does (text present and at most 5,000 bytes,
//! a language code, a voice that exists and speaks it, an encoding, speaking rate 0.25–4 and pitch
//! −20–20) and answers with a real `LINEAR16` WAV (16-bit mono PCM at the requested rate, a quiet
//! tone) whose length follows the text: 0.22 s per CJK character and 0.06 s per other character,
//! divided by `speakingRate`, at least 0.5 s — so ffprobe measures something that behaves like
//! speech.
//!
//! Fault reasons (`Fault::error(Api::GoogleTts, …, status, reason)`):
//! - 200 (an answer without usable audio): `no_audio`, `empty_audio`, `bad_base64`, `not_wav`;
//! - 400: `api_key` (API_KEY_INVALID), else INVALID_ARGUMENT about the text;
//! - 403: `billing` (BILLING_DISABLED), else SERVICE_DISABLED;
//! - 429: `daily_quota` (a per-day request quota), else the per-minute one;
//! - 401, 500, 503, 504: Google's body for that status.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::gemini::{
    error_info, google_error, grpc_status, invalid_argument, invalid_key, key_refusal,
};
use crate::{State, lock};

const SERVICE: &str = "texttospeech.googleapis.com";
const MAX_TEXT_BYTES: usize = 5000;
const NATURAL_SAMPLE_RATE: u32 = 24_000;

#[derive(Default)]
pub struct TtsState {
    last_synthesize: Mutex<Option<Value>>,
}

impl TtsState {
    /// The body of the last `text:synthesize` request that reached the handler.
    pub fn last_synthesize_request(&self) -> Option<Value> {
        lock(&self.last_synthesize).clone()
    }
}

pub(crate) fn endpoint_of(method: &str, path: &str) -> Option<&'static str> {
    match (method, path) {
        ("POST", "/v1/text:synthesize") => Some("synthesize"),
        ("GET", "/v1/voices") => Some("voices.list"),
        _ => None,
    }
}

pub(crate) fn error_response(_endpoint: &str, status: u16, reason: Option<&str>) -> Response {
    match (status, reason) {
        (200, Some("no_audio")) => axum::Json(json!({})).into_response(),
        (200, Some("empty_audio")) => axum::Json(json!({"audioContent": ""})).into_response(),
        (200, Some("bad_base64")) => {
            axum::Json(json!({"audioContent": "%%% not base64 %%%"})).into_response()
        }
        (200, _) => axum::Json(json!({"audioContent": BASE64.encode(b"ID3\x04\x00\x00\x00\x00\x00\x00 not a wave file, an mp3 tag")}))
            .into_response(),
        (400, Some("api_key")) => invalid_key(SERVICE),
        (400, _) => invalid_argument(&too_long_message()),
        (401, _) => google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
            Vec::new(),
        ),
        (403, Some("billing")) => google_error(
            403,
            "PERMISSION_DENIED",
            "This API method requires billing to be enabled. Please enable billing on project #123456789 by visiting https://console.developers.google.com/billing/enable?project=123456789 then retry.",
            vec![error_info("BILLING_DISABLED", SERVICE, json!({"consumer": "projects/123456789"}))],
        ),
        (403, _) => google_error(
            403,
            "PERMISSION_DENIED",
            "Cloud Text-to-Speech API has not been used in project 123456789 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/texttospeech.googleapis.com/overview?project=123456789 then retry.",
            vec![error_info("SERVICE_DISABLED", SERVICE, json!({"consumer": "projects/123456789"}))],
        ),
        (429, reason) => {
            let (limit_name, limit, value) = if reason == Some("daily_quota") {
                ("Requests per day", "RequestsPerDayPerProject", "10000")
            } else {
                ("Requests per minute", "DefaultRequestsPerMinutePerProject", "1000")
            };
            google_error(
                429,
                "RESOURCE_EXHAUSTED",
                &format!(
                    "Quota exceeded for quota metric 'Requests' and limit '{limit_name}' of service '{SERVICE}' for consumer 'project_number:123456789'."
                ),
                vec![error_info(
                    "RATE_LIMIT_EXCEEDED",
                    SERVICE,
                    json!({
                        "consumer": "projects/123456789",
                        "quota_metric": "texttospeech.googleapis.com/requests",
                        "quota_limit": limit,
                        "quota_limit_value": value,
                    }),
                )],
            )
        }
        (500, _) => google_error(500, "INTERNAL", "Internal error encountered.", Vec::new()),
        (503, _) => google_error(
            503,
            "UNAVAILABLE",
            "The service is currently unavailable.",
            Vec::new(),
        ),
        (504, _) => google_error(504, "DEADLINE_EXCEEDED", "Deadline exceeded.", Vec::new()),
        (status, _) => google_error(status, grpc_status(status), "Error.", Vec::new()),
    }
}

fn too_long_message() -> String {
    format!(
        "Either input.text or input.ssml is longer than the limit of {MAX_TEXT_BYTES} bytes. This limit is different from quotas. To fix, reduce the byte length of the characters in this request, or consider using the Long Audio API: https://cloud.google.com/text-to-speech/docs/create-audio-text-long-audio-synthesis."
    )
}

pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
        .route("/v1/voices", get(list_voices))
        .route("/v1/{action}", post(synthesize))
}

struct FakeVoice {
    name: &'static str,
    language: &'static str,
    gender: &'static str,
}

const VOICES: &[FakeVoice] = &[
    FakeVoice {
        name: "cmn-TW-Standard-A",
        language: "cmn-TW",
        gender: "FEMALE",
    },
    FakeVoice {
        name: "cmn-TW-Standard-B",
        language: "cmn-TW",
        gender: "MALE",
    },
    FakeVoice {
        name: "cmn-TW-Standard-C",
        language: "cmn-TW",
        gender: "MALE",
    },
    FakeVoice {
        name: "cmn-TW-Wavenet-A",
        language: "cmn-TW",
        gender: "FEMALE",
    },
    FakeVoice {
        name: "cmn-TW-Wavenet-B",
        language: "cmn-TW",
        gender: "MALE",
    },
    FakeVoice {
        name: "cmn-TW-Wavenet-C",
        language: "cmn-TW",
        gender: "MALE",
    },
    FakeVoice {
        name: "cmn-CN-Standard-A",
        language: "cmn-CN",
        gender: "FEMALE",
    },
    FakeVoice {
        name: "cmn-CN-Standard-B",
        language: "cmn-CN",
        gender: "MALE",
    },
    FakeVoice {
        name: "en-US-Standard-A",
        language: "en-US",
        gender: "MALE",
    },
    FakeVoice {
        name: "en-US-Standard-B",
        language: "en-US",
        gender: "MALE",
    },
    FakeVoice {
        name: "en-US-Standard-C",
        language: "en-US",
        gender: "FEMALE",
    },
    FakeVoice {
        name: "en-US-Standard-D",
        language: "en-US",
        gender: "MALE",
    },
    FakeVoice {
        name: "en-US-Standard-E",
        language: "en-US",
        gender: "FEMALE",
    },
    FakeVoice {
        name: "en-GB-Standard-A",
        language: "en-GB",
        gender: "FEMALE",
    },
];

fn voice_json(v: &FakeVoice) -> Value {
    json!({
        "languageCodes": [v.language],
        "name": v.name,
        "ssmlGender": v.gender,
        "naturalSampleRateHertz": NATURAL_SAMPLE_RATE,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VoicesQuery {
    language_code: Option<String>,
}

/// A voice serves `code` when its language is `code`, or `code` names only the language
/// (`en` serves `en-US`).
fn speaks(voice: &FakeVoice, code: &str) -> bool {
    voice.language.eq_ignore_ascii_case(code)
        || voice
            .language
            .split('-')
            .next()
            .is_some_and(|l| l.eq_ignore_ascii_case(code))
}

async fn list_voices(headers: HeaderMap, Query(query): Query<VoicesQuery>) -> Response {
    if let Some(refused) = key_refusal(&headers, SERVICE) {
        return refused;
    }
    let code = query.language_code.unwrap_or_default();
    let voices: Vec<Value> = VOICES
        .iter()
        .filter(|v| code.is_empty() || speaks(v, &code))
        .map(voice_json)
        .collect();
    axum::Json(json!({ "voices": voices })).into_response()
}

async fn synthesize(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    Path(action): Path<String>,
    body: Bytes,
) -> Response {
    if action != "text:synthesize" {
        return google_error(404, "NOT_FOUND", "Method not found.", Vec::new());
    }
    if let Some(refused) = key_refusal(&headers, SERVICE) {
        return refused;
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        _ => return invalid_argument("Invalid JSON payload received. Unexpected token."),
    };
    *lock(&state.tts.last_synthesize) = Some(request.clone());

    let text = request["input"]["text"]
        .as_str()
        .or_else(|| request["input"]["ssml"].as_str())
        .unwrap_or("");
    if text.is_empty() {
        return invalid_argument("Either `input.text` or `input.ssml` is required.");
    }
    if text.len() > MAX_TEXT_BYTES {
        return invalid_argument(&too_long_message());
    }
    let language = request["voice"]["languageCode"].as_str().unwrap_or("");
    if language.is_empty() {
        return invalid_argument("Invalid argument: voice.language_code is required.");
    }
    if let Some(name) = request["voice"]["name"].as_str().filter(|n| !n.is_empty()) {
        let Some(voice) = VOICES.iter().find(|v| v.name == name) else {
            return invalid_argument(&format!("Voice '{name}' does not exist. Is it misspelled?"));
        };
        if !speaks(voice, language) {
            return invalid_argument(&format!(
                "Requested language code '{language}' doesn't match the voice '{name}''s language code '{}'. Either remove the language code or set it to the voice's language code.",
                voice.language.to_ascii_lowercase()
            ));
        }
    } else if !VOICES.iter().any(|v| speaks(v, language)) {
        return invalid_argument(&format!(
            "Voice with the language code '{language}' does not exist."
        ));
    }
    let config = &request["audioConfig"];
    match config["audioEncoding"].as_str() {
        Some("LINEAR16") => {}
        None | Some("AUDIO_ENCODING_UNSPECIFIED") => {
            return invalid_argument("Invalid argument: audio_config.audio_encoding is required.");
        }
        Some(other) => {
            return invalid_argument(&format!(
                "The fake cloud synthesizes LINEAR16 only, not {other}."
            ));
        }
    }
    let rate = config["speakingRate"].as_f64().unwrap_or(1.0);
    if !(0.25..=4.0).contains(&rate) {
        return invalid_argument(&format!(
            "Invalid argument: speaking_rate {rate} is outside [0.25, 4.0]."
        ));
    }
    let pitch = config["pitch"].as_f64().unwrap_or(0.0);
    if !(-20.0..=20.0).contains(&pitch) {
        return invalid_argument(&format!(
            "Invalid argument: pitch {pitch} is outside [-20.0, 20.0]."
        ));
    }
    let sample_rate = match config["sampleRateHertz"].as_u64() {
        None | Some(0) => NATURAL_SAMPLE_RATE,
        Some(hz @ 8_000..=48_000) => hz as u32,
        Some(hz) => {
            return invalid_argument(&format!(
                "Invalid argument: sample_rate_hertz {hz} is outside [8000, 48000]."
            ));
        }
    };
    let wav = tone_wav(speech_seconds(text, rate), sample_rate);
    axum::Json(json!({ "audioContent": BASE64.encode(wav) })).into_response()
}

/// How long the fake voice takes for `text` at `rate`.
fn speech_seconds(text: &str, rate: f64) -> f64 {
    let units: f64 = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| {
            let cjk = matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF);
            if cjk { 0.22 } else { 0.06 }
        })
        .sum();
    (units / rate).max(0.5)
}

/// A RIFF/WAVE file: 16-bit mono PCM, a quiet 220 Hz tone lasting `seconds`.
fn tone_wav(seconds: f64, sample_rate: u32) -> Vec<u8> {
    let samples = (seconds * f64::from(sample_rate)).round() as u32;
    let data_bytes = samples * 2;
    let mut wav = Vec::with_capacity(44 + data_bytes as usize);
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_bytes).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&sample_rate.to_le_bytes());
    wav.extend_from_slice(&(sample_rate * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_bytes.to_le_bytes());
    let step = 2.0 * std::f64::consts::PI * 220.0 / f64::from(sample_rate);
    for n in 0..samples {
        let v = (f64::from(n) * step).sin() * 1200.0;
        wav.extend_from_slice(&(v as i16).to_le_bytes());
    }
    wav
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wav_lasts_as_long_as_the_text_takes() {
        let wav = tone_wav(speech_seconds("颱風來了", 1.0), 24_000);
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        let data = u32::from_le_bytes([wav[40], wav[41], wav[42], wav[43]]);
        assert_eq!(data as usize, wav.len() - 44);
        // 4 × 0.22 s at 24 kHz, 2 bytes a sample.
        assert_eq!(data, (0.88f64 * 24_000.0).round() as u32 * 2);
        assert!((speech_seconds("hello world", 2.0) - 0.5).abs() < 1e-9);
        assert!((speech_seconds("颱風颱風颱風颱風", 0.5) - 3.52).abs() < 1e-9);
    }

    #[test]
    fn endpoints_are_named() {
        assert_eq!(
            endpoint_of("POST", "/v1/text:synthesize"),
            Some("synthesize")
        );
        assert_eq!(endpoint_of("GET", "/v1/voices"), Some("voices.list"));
        assert_eq!(endpoint_of("GET", "/v1/text:synthesize"), None);
    }
}
