//! Narration with Google Cloud Text-to-Speech (`text:synthesize`, v1).
//!
//! One request per line: the text, a named standard voice of the line's language and the chosen
//! gender (`cmn-TW-Standard-A`/`-B`, `en-US-Standard-C`/`-D`), and `LINEAR16` audio at 24 kHz —
//! which the API returns as a complete WAV file, base64-encoded in `audioContent`. The file is
//! written under a temporary name, measured with ffprobe and only then renamed into place, so its
//! duration is measured, never estimated.
//!
//! The API takes at most 5,000 bytes of text per request; a longer line is refused here, before
//! any call, as `TTS_INVALID_INPUT`. Failures follow Google's error body: 400 with an API-key
//! reason, 401 and 403 (key invalid, API not enabled, billing off) → `TTS_INVALID_API_KEY`; other
//! 400 → `TTS_INVALID_INPUT`; 429 → `TTS_QUOTA_EXCEEDED` when a violated quota counts per day,
//! else `TTS_RATE_LIMIT`; 504 → `TTS_TIMEOUT`; other 5xx → `TTS_SERVER_ERROR`; an answer without
//! usable audio → `TTS_INVALID_RESPONSE`.

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::json;

use ytmaker_core::config::VoiceGender;
use ytmaker_core::script::Language;
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};
use ytmaker_render::Toolchain;

use super::gemini::{GoogleError, google_details};
use super::http::{ApiClient, ApiCodes, Reply};
use super::{CloudContext, Timeouts};
use crate::atomic::PendingFile;
use crate::{NarrationAudio, NarrationRequest, Narrator};

pub static CODES: ApiCodes = ApiCodes {
    api: "google_tts",
    timeout: ErrorCode::TTS_TIMEOUT,
    network: ErrorCode::TTS_NETWORK_ERROR,
    invalid_response: ErrorCode::TTS_INVALID_RESPONSE,
    refused: None,
};

const SYNTHESIZE: &str = "synthesize";
const VOICES_LIST: &str = "voices.list";
const KEY_HEADER: &str = "x-goog-api-key";

/// The API's limit on `input.text`, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 5000;
/// The natural rate of the standard voices; asking for it avoids resampling.
pub const SAMPLE_RATE_HZ: u32 = 24_000;

/// See the module documentation.
pub struct GoogleTtsNarrator {
    api: ApiClient,
    base: String,
    timeouts: Timeouts,
    key: Secret,
    tools: Toolchain,
}

/// The API's language code for a script language.
pub fn language_code(language: Language) -> &'static str {
    match language {
        Language::ZhTw => "cmn-TW",
        Language::En => "en-US",
    }
}

/// The standard voice of `language` and `gender`, as Google's voice list names them.
pub fn voice_name(language: Language, gender: VoiceGender) -> &'static str {
    match (language, gender) {
        (Language::ZhTw, VoiceGender::Female) => "cmn-TW-Standard-A",
        (Language::ZhTw, VoiceGender::Male) => "cmn-TW-Standard-B",
        (Language::En, VoiceGender::Female) => "en-US-Standard-C",
        (Language::En, VoiceGender::Male) => "en-US-Standard-D",
    }
}

fn ssml_gender(gender: VoiceGender) -> &'static str {
    match gender {
        VoiceGender::Female => "FEMALE",
        VoiceGender::Male => "MALE",
    }
}

impl GoogleTtsNarrator {
    /// `tools` measure the audio it writes.
    pub fn new(ctx: &CloudContext, key: Secret, tools: Toolchain) -> Self {
        GoogleTtsNarrator {
            api: ApiClient::new(ctx, &CODES),
            base: ctx.endpoints.tts.trim_end_matches('/').to_owned(),
            timeouts: ctx.timeouts,
            key,
            tools,
        }
    }

    async fn synthesize(&self, req: &NarrationRequest<'_>, text: &str) -> YtResult<Vec<u8>> {
        let voice = voice_name(req.language, req.settings.voice);
        let body = json!({
            "input": {"text": text},
            "voice": {
                "languageCode": language_code(req.language),
                "name": voice,
                "ssmlGender": ssml_gender(req.settings.voice),
            },
            "audioConfig": {
                "audioEncoding": "LINEAR16",
                "speakingRate": req.settings.speaking_rate,
                "pitch": req.settings.pitch,
                "sampleRateHertz": SAMPLE_RATE_HZ,
            },
        });
        let request = self
            .api
            .http()
            .post(format!("{}/v1/text:synthesize", self.base))
            .header(KEY_HEADER, self.key.expose())
            .json(&body);
        let reply = self
            .api
            .send(SYNTHESIZE, request, self.timeouts.request)
            .await?;
        if !reply.is_success() {
            return Err(status_error(&self.api, &reply)
                .detail("voice", voice)
                .detail("file_stem", req.file_stem));
        }
        let answer: SynthesizeResponse = self.api.json(&reply)?;
        let encoded = answer
            .audio_content
            .filter(|a| !a.is_empty())
            .ok_or_else(|| self.api.invalid(&reply, "no audioContent in the answer"))?;
        let audio = BASE64.decode(encoded.as_bytes()).map_err(|e| {
            self.api
                .invalid(&reply, format!("audioContent is not base64: {e}"))
        })?;
        // LINEAR16 answers are documented to carry a WAV header.
        if audio.len() <= WAV_HEADER_BYTES || &audio[..4] != b"RIFF" || &audio[8..12] != b"WAVE" {
            return Err(self
                .api
                .invalid(&reply, "audioContent is not a WAV file")
                .detail("audio_bytes", audio.len()));
        }
        Ok(audio)
    }
}

/// A WAV header is 44 bytes; a file no larger holds no sound.
const WAV_HEADER_BYTES: usize = 44;

#[async_trait]
impl Narrator for GoogleTtsNarrator {
    fn id(&self) -> &'static str {
        "google_tts"
    }

    async fn narrate(&self, req: &NarrationRequest<'_>) -> YtResult<NarrationAudio> {
        let text = req.text.trim();
        if !text.chars().any(char::is_alphanumeric) {
            return Err(YtError::new(
                ErrorCode::TTS_INVALID_INPUT,
                "the narration line has nothing to speak",
            )
            .detail("text", req.text)
            .detail("file_stem", req.file_stem));
        }
        if text.len() > MAX_TEXT_BYTES {
            return Err(YtError::new(
                ErrorCode::TTS_INVALID_INPUT,
                format!(
                    "the narration line has {} bytes; Google Text-to-Speech takes at most {MAX_TEXT_BYTES}",
                    text.len()
                ),
            )
            .detail("bytes", text.len())
            .detail("max_bytes", MAX_TEXT_BYTES)
            .detail("file_stem", req.file_stem));
        }
        let audio = self.synthesize(req, text).await?;

        let target = req.out_dir.join(format!("{}.wav", req.file_stem));
        let pending = PendingFile::new(&target);
        tokio::fs::write(pending.path(), &audio)
            .await
            .map_err(|e| YtError::io("write", pending.path(), &e))?;
        let unreadable = |why: String, err: &YtError| {
            YtError::new(
                ErrorCode::TTS_INVALID_RESPONSE,
                format!("google_tts synthesize returned audio that cannot be used: {why}"),
            )
            .detail("api", CODES.api)
            .detail("endpoint", SYNTHESIZE)
            .detail("probe", serde_json::Value::Object(err.details.clone()))
        };
        let info = ytmaker_render::probe(&self.tools, pending.path())
            .await
            .map_err(|e| match e.code {
                ErrorCode::MEDIA_INVALID => unreadable(e.message.clone(), &e),
                _ => e,
            })?;
        let duration_s = info.audio.as_ref().map_or(0.0, |a| a.duration_s);
        if duration_s <= 0.0 {
            return Err(YtError::new(
                ErrorCode::TTS_INVALID_RESPONSE,
                "google_tts synthesize returned audio that lasts zero seconds",
            )
            .detail("api", CODES.api)
            .detail("endpoint", SYNTHESIZE));
        }
        let path = pending.commit().await?;
        tracing::debug!(
            path = %path.display(),
            duration_s,
            voice = voice_name(req.language, req.settings.voice),
            "narration written"
        );
        Ok(NarrationAudio { path, duration_s })
    }

    async fn check(&self) -> YtResult<String> {
        let voices = list_voices(&self.api, &self.base, &self.timeouts, &self.key).await?;
        Ok(describe_voices(&voices))
    }
}

/// Lists the `cmn-TW` voices: the cheapest call that proves the key works and the API is enabled.
pub async fn test_key(ctx: &CloudContext, key: &Secret) -> YtResult<String> {
    let api = ApiClient::new(ctx, &CODES);
    let base = ctx.endpoints.tts.trim_end_matches('/');
    let voices = list_voices(&api, base, &ctx.timeouts, key).await?;
    Ok(describe_voices(&voices))
}

fn describe_voices(voices: &[ApiVoice]) -> String {
    let ours = [VoiceGender::Female, VoiceGender::Male]
        .map(|g| voice_name(Language::ZhTw, g))
        .into_iter()
        .filter(|name| voices.iter().any(|v| v.name == *name))
        .collect::<Vec<_>>();
    format!(
        "key works; {} cmn-TW voices available{}",
        voices.len(),
        if ours.is_empty() {
            String::from(" (the standard voices ytmaker uses are not among them)")
        } else {
            format!(" (ytmaker uses {})", ours.join(", "))
        }
    )
}

async fn list_voices(
    api: &ApiClient,
    base: &str,
    timeouts: &Timeouts,
    key: &Secret,
) -> YtResult<Vec<ApiVoice>> {
    let request = api
        .http()
        .get(format!("{base}/v1/voices"))
        .query(&[("languageCode", language_code(Language::ZhTw))])
        .header(KEY_HEADER, key.expose());
    let reply = api.send(VOICES_LIST, request, timeouts.request).await?;
    if !reply.is_success() {
        return Err(status_error(api, &reply));
    }
    let listed: VoicesResponse = api.json(&reply)?;
    Ok(listed.voices)
}

/// Maps a non-2xx answer to its code (see the module documentation).
fn status_error(api: &ApiClient, reply: &Reply) -> YtError {
    let google = GoogleError::parse(&reply.body);
    let g = google.as_ref();
    let said = g.map_or_else(String::new, |g| format!(": {}", g.message));
    let (code, message) = match reply.status {
        400 if g.is_some_and(GoogleError::is_key_problem) => (
            ErrorCode::TTS_INVALID_API_KEY,
            format!("Text-to-Speech refused the key{said}"),
        ),
        400 => (
            ErrorCode::TTS_INVALID_INPUT,
            format!("Text-to-Speech refused the request{said}"),
        ),
        401 | 403 => (
            ErrorCode::TTS_INVALID_API_KEY,
            format!("Text-to-Speech refused the key{said}"),
        ),
        429 if g.is_some_and(GoogleError::names_daily_quota) => (
            ErrorCode::TTS_QUOTA_EXCEEDED,
            format!("the daily Text-to-Speech quota is used up{said}"),
        ),
        429 => (
            ErrorCode::TTS_RATE_LIMIT,
            format!("Text-to-Speech rate limit{said}"),
        ),
        504 => (
            ErrorCode::TTS_TIMEOUT,
            format!("Text-to-Speech did not finish in time{said}"),
        ),
        500..=599 => (
            ErrorCode::TTS_SERVER_ERROR,
            format!("Text-to-Speech server error {}{said}", reply.status),
        ),
        other => return api.invalid(reply, format!("unexpected HTTP status {other}")),
    };
    google_details(api.error(code, reply, message), reply, g)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SynthesizeResponse {
    audio_content: Option<String>,
}

#[derive(Deserialize)]
struct VoicesResponse {
    #[serde(default)]
    voices: Vec<ApiVoice>,
}

#[derive(Deserialize)]
struct ApiVoice {
    name: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voices_follow_language_and_gender() {
        assert_eq!(
            voice_name(Language::ZhTw, VoiceGender::Female),
            "cmn-TW-Standard-A"
        );
        assert_eq!(
            voice_name(Language::ZhTw, VoiceGender::Male),
            "cmn-TW-Standard-B"
        );
        assert_eq!(
            voice_name(Language::En, VoiceGender::Male),
            "en-US-Standard-D"
        );
        assert_eq!(language_code(Language::ZhTw), "cmn-TW");
        for g in [VoiceGender::Female, VoiceGender::Male] {
            for l in [Language::ZhTw, Language::En] {
                assert!(voice_name(l, g).starts_with(language_code(l)));
            }
        }
    }
}
