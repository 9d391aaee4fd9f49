//! The one way a cloud client talks HTTP: timeouts, one log line and metrics per call, the
//! mapping of transport failures and unreadable bodies to the API's own codes, and one
//! [`CallRecord`] per call for the context's [`CallRecorder`].

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use ytmaker_core::{ErrorCode, YtError, YtResult};

use super::{CloudContext, Timeouts};

/// How many bytes of an unexpected text body are kept in an error's details.
const BODY_HEAD_BYTES: usize = 300;

/// The codes of one API for failures that look the same on every API.
#[derive(Debug)]
pub struct ApiCodes {
    /// Name in logs and metrics (`gemini`, `google_tts`, `stability`, `did`, `youtube`).
    pub api: &'static str,
    pub timeout: ErrorCode,
    pub network: ErrorCode,
    pub invalid_response: ErrorCode,
    /// A connection refused (nothing listens at the address), when the API may be a server of
    /// the user's own that is simply not running; `None` counts it as a network error.
    pub refused: Option<ErrorCode>,
}

/// One HTTP call as it ended, for a [`CallRecorder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallRecord {
    /// Unix milliseconds when the request was sent.
    pub at_ms: i64,
    pub api: &'static str,
    pub endpoint: &'static str,
    /// `None` when no answer came back (timeout, connection failure).
    pub status: Option<u16>,
    /// The code the client finally mapped the call to; `None` when it accepted the answer.
    pub error_code: Option<ErrorCode>,
    pub duration: Duration,
    /// YouTube Data API units the call cost (0 for the other APIs).
    pub quota_units: u64,
}

/// Receives every finished call. Providers never touch the database: the product's recorder
/// (in the pipeline) writes the records to the `provider_calls` table. `record` is called from
/// synchronous code (when a [`Reply`] is dropped) and must not block.
pub trait CallRecorder: Send + Sync + fmt::Debug {
    fn record(&self, call: CallRecord);
}

/// A call whose outcome is decided by the client after `send` returned: the client's mapping
/// (`ApiClient::error`) sets the code and the YouTube client the quota units; the record is
/// reported when the [`Reply`] is dropped, so it carries the code the answer finally got.
struct PendingCall {
    record: Mutex<CallRecord>,
    recorder: Option<Arc<dyn CallRecorder>>,
}

impl PendingCall {
    fn update(&self, change: impl FnOnce(&mut CallRecord)) {
        change(&mut self.record.lock().unwrap_or_else(PoisonError::into_inner));
    }
}

impl Drop for PendingCall {
    fn drop(&mut self) {
        let record = self
            .record
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        finish(record, self.recorder.as_deref());
    }
}

impl fmt::Debug for PendingCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingCall")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// Counts a finished call in metrics and hands it to the recorder.
fn finish(record: CallRecord, recorder: Option<&dyn CallRecorder>) {
    let (outcome, code) = match record.error_code {
        Some(code) => ("error", code.as_str()),
        None => ("success", "none"),
    };
    metrics::counter!(
        ytmaker_core::metric::PROVIDER_CALLS_TOTAL,
        "api" => record.api,
        "endpoint" => record.endpoint,
        "outcome" => outcome,
        "code" => code
    )
    .increment(1);
    if let Some(recorder) = recorder {
        recorder.record(record);
    }
}

fn unix_ms(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// One answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub endpoint: &'static str,
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    call: PendingCall,
}

impl Reply {
    /// Records the YouTube quota units this call cost.
    pub fn charge_quota(&self, units: u64) {
        self.call.update(|record| record.quota_units = units);
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `Retry-After` in milliseconds (delta-seconds form; an HTTP date is ignored as unusable
    /// without a trusted clock, and the catalogue's delay applies).
    pub fn retry_after_ms(&self) -> Option<u64> {
        self.header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|s| s.saturating_mul(1000))
    }

    /// Adds what the body was to an error's details: `content_type`, and its first bytes
    /// (`body_head`) when it is text, else only its size (`body_bytes`). Binary bytes (a video,
    /// an image) never go into details: they reach logs, the API and the CLI as garbage.
    pub fn describe_body(&self, err: YtError) -> YtError {
        let content_type = self.header("content-type");
        let err = err.detail("content_type", content_type.unwrap_or(""));
        match text_head(content_type, &self.body) {
            Some(head) => err.detail("body_head", head),
            None => err.detail("body_bytes", self.body.len() as u64),
        }
    }
}

/// The first [`BODY_HEAD_BYTES`] of a body as text, or `None` when it is not text: declared as a
/// non-text type, not UTF-8, or holding control characters other than line breaks and tabs.
fn text_head(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    if content_type.is_some_and(|ct| !is_textual(ct)) {
        return None;
    }
    let head = &body[..body.len().min(BODY_HEAD_BYTES)];
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        // Only a character cut by the end of the head: still text.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return None;
    }
    Some(text.to_owned())
}

/// Whether a `Content-Type` names text: `text/*`, JSON, XML, a form, or nothing at all.
fn is_textual(content_type: &str) -> bool {
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime.is_empty()
        || mime.starts_with("text/")
        || mime.ends_with("/json")
        || mime.ends_with("+json")
        || mime.ends_with("/xml")
        || mime.ends_with("+xml")
        || mime == "application/x-www-form-urlencoded"
        || mime == "application/javascript"
}

/// An HTTP client bound to one API's codes.
#[derive(Clone, Debug)]
pub struct ApiClient {
    http: reqwest::Client,
    recorder: Option<Arc<dyn CallRecorder>>,
    pub codes: &'static ApiCodes,
}

/// Builds the process's HTTP client (rustls, connect timeout, no redirects followed silently).
pub fn build_http(timeouts: &Timeouts) -> YtResult<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("ytmaker/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| {
            YtError::new(
                ErrorCode::CONFIG_INVALID,
                format!("cannot build the HTTP client: {e}"),
            )
        })
}

impl ApiClient {
    pub fn new(ctx: &CloudContext, codes: &'static ApiCodes) -> Self {
        ApiClient {
            http: ctx.http.clone(),
            recorder: ctx.recorder.clone(),
            codes,
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Sends one request and reads the whole answer. Any HTTP status is returned as a [`Reply`]
    /// for the client to map; only transport failures are errors here.
    pub async fn send(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> YtResult<Reply> {
        let api = self.codes.api;
        let at_ms = unix_ms(SystemTime::now());
        let started = Instant::now();
        let result = async {
            let response = request.timeout(timeout).send().await?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        let duration = started.elapsed();
        let duration_ms = duration.as_millis() as u64;
        metrics::histogram!(ytmaker_core::metric::PROVIDER_CALL_DURATION_SECONDS, "api" => api, "endpoint" => endpoint)
            .record(duration.as_secs_f64());
        let record = |status, error_code| CallRecord {
            at_ms,
            api,
            endpoint,
            status,
            error_code,
            duration,
            quota_units: 0,
        };
        match result {
            Ok((status, headers, body)) => {
                tracing::info!(api, endpoint, status, duration_ms, "provider call");
                Ok(Reply {
                    endpoint,
                    status,
                    headers,
                    body,
                    call: PendingCall {
                        record: Mutex::new(record(Some(status), None)),
                        recorder: self.recorder.clone(),
                    },
                })
            }
            Err(err) => {
                let err = self.transport_error(endpoint, err, timeout);
                tracing::warn!(api, endpoint, duration_ms, error_code = %err.code, "provider call failed: {}", err.message);
                self.count(&err);
                finish(record(None, Some(err.code)), self.recorder.as_deref());
                Err(err)
            }
        }
    }

    fn transport_error(
        &self,
        endpoint: &'static str,
        err: reqwest::Error,
        timeout: Duration,
    ) -> YtError {
        // The URL is left out: it is ours and tells nothing, and some APIs put keys in queries.
        let err = err.without_url();
        let (code, what) = if err.is_timeout() {
            (
                self.codes.timeout,
                format!("no answer within {} s", timeout.as_secs_f64()),
            )
        } else if let Some(refused) = self.codes.refused.filter(|_| is_refused(&err)) {
            (
                refused,
                format!("nothing accepted the connection: {}", chain(&err)),
            )
        } else {
            (
                self.codes.network,
                format!("connection failed: {}", chain(&err)),
            )
        };
        YtError::new(code, format!("{} {endpoint}: {what}", self.codes.api))
            .detail("api", self.codes.api)
            .detail("endpoint", endpoint)
            .detail("cause", chain(&err))
    }

    /// `*_INVALID_RESPONSE` with the status, content type and first bytes of the body (its
    /// size only, when it is not text: [`Reply::describe_body`]).
    pub fn invalid(&self, reply: &Reply, why: impl Into<String>) -> YtError {
        let why = why.into();
        let err = self
            .error(
                self.codes.invalid_response,
                reply,
                format!(
                    "{} {} answered something unexpected: {why}",
                    self.codes.api, reply.endpoint
                ),
            )
            .detail("reason", why);
        reply.describe_body(err)
    }

    /// An error of `code` about `reply`, with the API, endpoint, status and any `Retry-After`.
    pub fn error(&self, code: ErrorCode, reply: &Reply, message: impl Into<String>) -> YtError {
        let mut err = YtError::new(code, message)
            .detail("api", self.codes.api)
            .detail("endpoint", reply.endpoint)
            .detail("http_status", reply.status);
        if let Some(ms) = reply.retry_after_ms() {
            err = err.detail("retry_after_ms", ms);
        }
        tracing::warn!(
            api = self.codes.api,
            endpoint = reply.endpoint,
            status = reply.status,
            error_code = %err.code,
            "provider answered with an error: {}",
            err.message
        );
        self.count(&err);
        reply.call.update(|record| record.error_code = Some(code));
        err
    }

    /// Parses a JSON body, or fails with `*_INVALID_RESPONSE`.
    pub fn json<T: DeserializeOwned>(&self, reply: &Reply) -> YtResult<T> {
        serde_json::from_slice(&reply.body)
            .map_err(|e| self.invalid(reply, format!("not the expected JSON: {e}")))
    }

    fn count(&self, err: &YtError) {
        metrics::counter!(ytmaker_core::metric::PROVIDER_ERRORS_TOTAL, "api" => self.codes.api, "code" => err.code.as_str())
            .increment(1);
    }
}

/// Whether the connection was refused: an I/O `ConnectionRefused` anywhere in the chain.
fn is_refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return true;
        }
        source = e.source();
    }
    false
}

/// An error and its sources on one line.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_bodies_keep_their_head_and_binary_ones_only_their_size() {
        let json = br#"{"kind": "ValidationError", "description": "bad request"}"#;
        assert_eq!(
            text_head(Some("application/json; charset=utf-8"), json).as_deref(),
            std::str::from_utf8(json).ok()
        );
        let html = "<!DOCTYPE html><p>502 Bad Gateway</p>\n".repeat(20);
        let head = text_head(Some("text/html"), html.as_bytes()).unwrap();
        assert_eq!(head.len(), BODY_HEAD_BYTES);
        assert!(html.starts_with(&head));
        assert!(text_head(Some("application/problem+json"), b"{}").is_some());
        assert!(text_head(Some("application/xml"), b"<Error/>").is_some());
        assert_eq!(text_head(None, b"").as_deref(), Some(""));

        // A character cut by the end of the head is dropped, the rest kept.
        let chinese = "錯誤".repeat(100);
        let head = text_head(Some("text/plain"), chinese.as_bytes()).unwrap();
        assert_eq!(head, "錯誤".repeat(50));

        // Declared binary, undeclared binary, and binary mislabelled as JSON.
        let mp4 = b"\0\0\0 ftypisom\0\0\x02\0isomiso2avc1mp41";
        assert_eq!(text_head(Some("video/mp4"), b"plain words"), None);
        assert_eq!(text_head(None, mp4), None);
        assert_eq!(
            text_head(Some("application/json"), &[0xFF, 0xD8, 0xFF, 0xE0]),
            None
        );
        assert_eq!(text_head(Some("application/octet-stream"), b"{}"), None);
    }
}
