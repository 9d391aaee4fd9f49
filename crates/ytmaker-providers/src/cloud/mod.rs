//! Clients of the real cloud services (SPEC §3): Gemini, Google Cloud Text-to-Speech, Stability
//! AI, D-ID and the YouTube Data API v3.
//!
//! Each client implements one capability trait and maps every documented failure of its API to a
//! catalogued code of its own family (`GEMINI_*`, `TTS_*`, …). Clients make exactly one call per
//! request — retries are decided by the catalogue and done by the caller ([`crate::retry`]) — with
//! two exceptions that are part of a protocol, not retries of a failure: a YouTube request with an
//! expired access token is repeated once after refreshing it, and an interrupted YouTube upload
//! continues from the offset the server reports.
//!
//! Every call goes through [`http::ApiClient::send`], which applies the timeout, logs one line
//! (api, endpoint, status, duration_ms — never a key), counts it in metrics and maps transport
//! failures (timeout, connection) to the API's codes.

pub mod did;
pub mod gemini;
pub mod google_tts;
pub mod http;
mod llm_script;
pub mod openai_compat;
pub mod stability;
pub mod youtube;

use std::sync::Arc;
use std::time::Duration;

/// Where each API lives. The defaults are the real services; [`Endpoints::all_at`] points every
/// client at one host, which is how tests and `make demo-cloud` use the fake cloud.
#[derive(Clone, Debug, PartialEq)]
pub struct Endpoints {
    pub gemini: String,
    pub tts: String,
    pub stability: String,
    pub did: String,
    /// `https://www.googleapis.com`: serves `/youtube/v3/…` and `/upload/youtube/v3/…`.
    pub youtube: String,
    pub oauth_authorize: String,
    pub oauth_token: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            gemini: "https://generativelanguage.googleapis.com".into(),
            tts: "https://texttospeech.googleapis.com".into(),
            stability: "https://api.stability.ai".into(),
            did: "https://api.d-id.com".into(),
            youtube: "https://www.googleapis.com".into(),
            oauth_authorize: "https://accounts.google.com/o/oauth2/v2/auth".into(),
            oauth_token: "https://oauth2.googleapis.com/token".into(),
        }
    }
}

impl Endpoints {
    /// Every API at one base URL, with the real paths below it (the fake cloud's layout).
    pub fn all_at(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Endpoints {
            gemini: base.into(),
            tts: base.into(),
            stability: base.into(),
            did: base.into(),
            youtube: base.into(),
            oauth_authorize: format!("{base}/o/oauth2/v2/auth"),
            oauth_token: format!("{base}/token"),
        }
    }
}

/// How long one call may take before it is a `*_TIMEOUT`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Timeouts {
    pub connect: Duration,
    /// A JSON request and its answer (script, narration line, one image, one D-ID poll).
    pub request: Duration,
    /// Script writing with a large model can take minutes.
    pub generate: Duration,
    /// One upload chunk.
    pub upload_chunk: Duration,
    /// How long a D-ID talk may stay in processing before `DID_PROCESSING_TIMEOUT`.
    pub did_processing: Duration,
    /// Pause between two D-ID status polls.
    pub did_poll: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(60),
            generate: Duration::from_secs(300),
            upload_chunk: Duration::from_secs(300),
            did_processing: Duration::from_secs(600),
            did_poll: Duration::from_secs(2),
        }
    }
}

/// What every cloud client is built from: the process's HTTP client, where the APIs are, the
/// timeouts, and who is told about every call. Keys are passed to each client separately.
#[derive(Clone, Debug)]
pub struct CloudContext {
    pub http: reqwest::Client,
    pub endpoints: Endpoints,
    pub timeouts: Timeouts,
    /// Receives a [`http::CallRecord`] for every call made through this context.
    pub recorder: Option<Arc<dyn http::CallRecorder>>,
}

impl CloudContext {
    pub fn new(endpoints: Endpoints, timeouts: Timeouts) -> ytmaker_core::YtResult<Self> {
        Ok(CloudContext {
            http: http::build_http(&timeouts)?,
            endpoints,
            timeouts,
            recorder: None,
        })
    }

    /// The same context, reporting every call to `recorder`.
    pub fn with_recorder(mut self, recorder: Arc<dyn http::CallRecorder>) -> Self {
        self.recorder = Some(recorder);
        self
    }
}
