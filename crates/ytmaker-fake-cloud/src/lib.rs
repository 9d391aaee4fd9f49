//! The fake cloud: one local HTTP server that speaks enough of the wire formats of Google Gemini,
//! OpenAI-compatible chat APIs (OpenAI-style at `/v1`, a local Ollama at `/ollama/v1`), Google
//! Cloud Text-to-Speech, Stability AI, D-ID, the YouTube Data API v3 and Google's OAuth
//! endpoints for ytmaker's real clients to run against it, at the real paths below one base URL.
//!
//! It records every call ([`Call`]) and injects faults on demand ([`Fault`]): error answers in
//! each provider's own error format with `Retry-After`, latency, hangs, malformed JSON, HTML error
//! pages, connections dropped in the middle of an upload chunk, and answers lost after the work
//! was done (`DropReply`, `HangReply`). Tests drive it in-process
//! through [`FakeCloud`]; `make demo-cloud` runs the `ytmaker-fake-cloud` binary and scripts it
//! through the control API under `/_fake/` (or a faults file given at start).
//!
//! It accepts any non-empty key, except that a key starting with `invalid` is refused the way the
//! provider refuses a wrong key, so an invalid-key test needs no fault.

pub mod did;
mod faults;
pub mod gemini;
pub mod google_tts;
pub mod openai_compat;
pub mod stability;
pub mod youtube;

pub use faults::{Api, Fault, FaultAction};

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State as AxumState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use faults::FaultBook;

/// One call as the fake cloud saw it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Call {
    pub seq: u64,
    pub api: Api,
    pub endpoint: &'static str,
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// 0 when the connection was dropped or left hanging.
    pub status: u16,
    /// The fault that shaped the answer, if any (`error`, `hang`, `drop`, …).
    pub fault: Option<String>,
}

/// Shared by every handler.
#[derive(Default)]
pub struct State {
    base_url: OnceLock<String>,
    faults: Mutex<FaultBook>,
    calls: Mutex<Vec<Call>>,
    pub gemini: gemini::GeminiState,
    pub openai: openai_compat::OpenAiState,
    pub tts: google_tts::TtsState,
    pub stability: stability::StabilityState,
    pub did: did::DidState,
    pub youtube: youtube::YoutubeState,
}

/// Locks a mutex even if a handler panicked while holding it (a dropped connection is a panic).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl State {
    /// `http://127.0.0.1:PORT`, for URLs the fake hands out (D-ID results, upload sessions).
    pub fn base_url(&self) -> &str {
        self.base_url.get().map_or("", String::as_str)
    }
}

/// Marker placed on an upload-chunk request whose connection must drop half-way; the YouTube
/// handler keeps the first half of the chunk, then drops.
#[derive(Clone, Copy, Debug)]
pub struct DropMidway;

/// Ends the connection without an answer. Unwinding out of the connection's task closes its
/// socket; `resume_unwind` skips the panic hook, so nothing is printed.
pub(crate) fn drop_connection() -> ! {
    std::panic::resume_unwind(Box::new("fake cloud: connection dropped on purpose"))
}

/// The API and endpoint name of a request, as faults and call records name them.
fn classify(method: &str, path: &str) -> Option<(Api, &'static str)> {
    gemini::endpoint_of(method, path)
        .map(|e| (Api::Gemini, e))
        .or_else(|| openai_compat::endpoint_of(method, path).map(|e| (Api::OpenaiCompatible, e)))
        .or_else(|| google_tts::endpoint_of(method, path).map(|e| (Api::GoogleTts, e)))
        .or_else(|| stability::endpoint_of(method, path).map(|e| (Api::Stability, e)))
        .or_else(|| did::endpoint_of(method, path).map(|e| (Api::Did, e)))
        .or_else(|| youtube::endpoint_of(method, path))
}

fn error_answer(api: Api, endpoint: &str, status: u16, reason: Option<&str>) -> Response {
    match api {
        Api::Gemini => gemini::error_response(endpoint, status, reason),
        Api::OpenaiCompatible => openai_compat::error_response(endpoint, status, reason),
        Api::GoogleTts => google_tts::error_response(endpoint, status, reason),
        Api::Stability => stability::error_response(endpoint, status, reason),
        Api::Did => did::error_response(endpoint, status, reason),
        Api::Youtube | Api::Oauth => youtube::error_response(endpoint, status, reason),
    }
}

/// Records the call and applies the first fault that fires for it.
async fn intercept(
    AxumState(state): AxumState<Arc<State>>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let Some((api, endpoint)) = classify(&method, &path) else {
        return next.run(request).await;
    };
    let action = lock(&state.faults).fire(api, endpoint);
    let record = |status: u16, fault: Option<&str>| {
        let mut calls = lock(&state.calls);
        let seq = calls.len() as u64 + 1;
        calls.push(Call {
            seq,
            api,
            endpoint,
            method: method.clone(),
            path: path.clone(),
            status,
            fault: fault.map(str::to_owned),
        });
    };
    let (response, fault) = match action {
        None => (next.run(request).await, None),
        Some(FaultAction::Error {
            status,
            reason,
            retry_after_s,
        }) => {
            let mut response = error_answer(api, endpoint, status, reason.as_deref());
            if let Some(s) = retry_after_s {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            (response, Some("error"))
        }
        Some(FaultAction::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            (next.run(request).await, Some("latency"))
        }
        Some(FaultAction::Hang) => {
            record(0, Some("hang"));
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        Some(FaultAction::MalformedJson) => (
            (
                [(header::CONTENT_TYPE, "application/json")],
                "{\"candidates\": [{\"content\": {\"parts\": [{\"te",
            )
                .into_response(),
            Some("malformed_json"),
        ),
        Some(FaultAction::Html { status }) => (
            (
                StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
                format!(
                    "<!DOCTYPE html><html><head><title>Error {status}</title></head>\
                     <body><h1>{status}</h1><p>The server encountered a temporary error.</p></body></html>"
                ),
            )
                .into_response(),
            Some("html"),
        ),
        Some(FaultAction::Drop) => {
            record(0, Some("drop"));
            if endpoint == youtube::UPLOAD_CHUNK {
                request.extensions_mut().insert(DropMidway);
                return next.run(request).await;
            }
            drop_connection();
        }
        Some(FaultAction::DropReply) => {
            let handled = next.run(request).await;
            record(0, Some("drop_reply"));
            drop(handled);
            drop_connection();
        }
        Some(FaultAction::HangReply) => {
            let handled = next.run(request).await;
            record(0, Some("hang_reply"));
            drop(handled);
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
    };
    record(response.status().as_u16(), fault);
    response
}

async fn add_fault(
    AxumState(state): AxumState<Arc<State>>,
    axum::Json(fault): axum::Json<Fault>,
) -> StatusCode {
    lock(&state.faults).add(fault);
    StatusCode::NO_CONTENT
}

async fn clear_faults(AxumState(state): AxumState<Arc<State>>) -> StatusCode {
    lock(&state.faults).clear();
    StatusCode::NO_CONTENT
}

async fn list_calls(AxumState(state): AxumState<Arc<State>>) -> axum::Json<Vec<Call>> {
    axum::Json(lock(&state.calls).clone())
}

fn router(state: Arc<State>) -> Router {
    Router::new()
        .merge(gemini::routes())
        .merge(openai_compat::routes())
        .merge(google_tts::routes())
        .merge(stability::routes())
        .merge(did::routes())
        .merge(youtube::routes())
        .route("/_fake/faults", post(add_fault).delete(clear_faults))
        .route("/_fake/calls", get(list_calls))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            intercept,
        ))
        .with_state(state)
}

/// A running fake cloud; stops when dropped.
pub struct FakeCloud {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeCloud {
    /// Starts on `bind` (port 0 picks a free port) with `faults` already in force.
    pub async fn start(bind: SocketAddr, faults: Vec<Fault>) -> std::io::Result<FakeCloud> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        state
            .base_url
            .set(format!("http://{addr}"))
            .map_err(|_| std::io::Error::other("base url set twice"))?;
        for fault in faults {
            lock(&state.faults).add(fault);
        }
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("fake cloud stopped: {e}");
            }
        });
        Ok(FakeCloud { addr, state, task })
    }

    /// Starts on a free loopback port.
    pub async fn start_local() -> std::io::Result<FakeCloud> {
        FakeCloud::start(SocketAddr::from(([127, 0, 0, 1], 0)), Vec::new()).await
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn state(&self) -> &Arc<State> {
        &self.state
    }

    pub fn add_fault(&self, fault: Fault) {
        lock(&self.state.faults).add(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.state.faults).clear();
    }

    pub fn calls(&self) -> Vec<Call> {
        lock(&self.state.calls).clone()
    }

    /// How many calls reached `api`'s `endpoint`, whatever their answer.
    pub fn count(&self, api: Api, endpoint: &str) -> usize {
        lock(&self.state.calls)
            .iter()
            .filter(|c| c.api == api && c.endpoint == endpoint)
            .count()
    }

    /// Waits until the server stops (for the binary).
    pub async fn wait(mut self) {
        if let Err(e) = (&mut self.task).await {
            eprintln!("fake cloud task ended: {e}");
        }
    }
}

impl Drop for FakeCloud {
    fn drop(&mut self) {
        self.task.abort();
    }
}
