//! Stability AI's Stable Image Core (`POST /v2beta/stable-image/generate/core`) as an
//! [`Illustrator`].
//!
//! The request is multipart/form-data with `prompt`, `negative_prompt`, `aspect_ratio`, `seed`,
//! `style_preset` and `output_format`; with `accept: image/*` a success is the image's bytes, with
//! the `finish-reason` (`SUCCESS` or `CONTENT_FILTERED`) and `seed` in headers. v2beta reports
//! failures as `{"id", "name", "errors": [..]}`: 400 bad parameters, 402 `payment_required` (no
//! credits), 403 `content_moderation`, 413 body too large, 422 rejected (`invalid_language`: the
//! prompt must be English), 429 `rate_limit_exceeded` (150 requests in 10 s, then 60 s timed out),
//! 500 internal. v1 (`/v1/user/balance`) uses `{"id", "name", "message"}`.
//!
//! v2beta takes an aspect ratio, not a size (SDXL on v1 took fixed sizes); the image comes back
//! at the model's own size for 16:9 and the renderer scales and crops it to 1920×1080, so the
//! size reported is the one decoded from the file.
//!
//! A client-side [`RateLimiter`] keeps this illustrator under `images.requests_per_minute` request
//! starts per rolling minute, across all its concurrent calls, so a long video does not run into
//! Stability's per-key timeout in the first place.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use ytmaker_core::config::ImageSettings;
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};

use super::CloudContext;
use super::http::{ApiClient, ApiCodes, Reply};
use crate::{Illustrator, ImageAsset, ImageRequest, atomic};

pub static CODES: ApiCodes = ApiCodes {
    api: "stability",
    timeout: ErrorCode::STABILITY_TIMEOUT,
    network: ErrorCode::STABILITY_NETWORK_ERROR,
    invalid_response: ErrorCode::STABILITY_INVALID_RESPONSE,
    refused: None,
};

pub const GENERATE: &str = "generate";
const BALANCE: &str = "balance";
const GENERATE_PATH: &str = "/v2beta/stable-image/generate/core";
const BALANCE_PATH: &str = "/v1/user/balance";

/// The documented limit for `prompt` and `negative_prompt`.
const MAX_PROMPT_CHARS: usize = 10_000;
const ASPECT_RATIO: &str = "16:9";
const CLIENT_ID: &str = "ytmaker";
/// How long Stability locks a key that went over its rate limit (150 requests in 10 s).
const RATE_LIMIT_TIMEOUT_MS: u64 = 60_000;

/// Illustrates segments with Stable Image Core. Cheap to clone: clones share the key, the
/// settings and the rate limiter.
#[derive(Clone)]
pub struct StabilityIllustrator {
    api: ApiClient,
    url: Arc<str>,
    key: Secret,
    settings: Arc<ImageSettings>,
    timeout: Duration,
    limiter: Arc<RateLimiter>,
}

impl StabilityIllustrator {
    pub fn new(ctx: &CloudContext, key: Secret, settings: ImageSettings) -> Self {
        let limiter = RateLimiter::new(settings.requests_per_minute, Duration::from_secs(60));
        StabilityIllustrator {
            api: ApiClient::new(ctx, &CODES),
            url: format!(
                "{}{GENERATE_PATH}",
                ctx.endpoints.stability.trim_end_matches('/')
            )
            .into(),
            key,
            settings: Arc::new(settings),
            timeout: ctx.timeouts.request,
            limiter: Arc::new(limiter),
        }
    }

    /// The English image prompt when the script writer made one, else the description, with the
    /// project's global style appended.
    fn prompt_for(&self, req: &ImageRequest<'_>) -> YtResult<String> {
        let segment = req.segment;
        let subject = segment
            .image_prompt
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| segment.image_description.trim());
        if subject.is_empty() {
            return Err(YtError::new(
                ErrorCode::STABILITY_INVALID_PROMPT,
                format!("segment {} has no image description", segment.index),
            )
            .detail("segment_index", segment.index));
        }
        let style = self.settings.style_modifiers.trim();
        let prompt = if style.is_empty() {
            subject.to_owned()
        } else {
            format!("{subject}, {style}")
        };
        let chars = prompt.chars().count();
        if chars > MAX_PROMPT_CHARS {
            return Err(YtError::new(
                ErrorCode::STABILITY_INVALID_PROMPT,
                format!(
                    "the image prompt of segment {} is {chars} characters; Stability accepts at most {MAX_PROMPT_CHARS}",
                    segment.index
                ),
            )
            .detail("segment_index", segment.index)
            .detail("prompt_chars", chars));
        }
        Ok(prompt)
    }

    fn form(&self, prompt: String) -> YtResult<reqwest::multipart::Form> {
        let settings = &self.settings;
        let negative = settings.negative_prompt.trim();
        if negative.chars().count() > MAX_PROMPT_CHARS {
            return Err(YtError::new(
                ErrorCode::STABILITY_INVALID_PROMPT,
                format!("the negative prompt is longer than {MAX_PROMPT_CHARS} characters"),
            ));
        }
        let mut form = reqwest::multipart::Form::new()
            .text("prompt", prompt)
            .text("aspect_ratio", ASPECT_RATIO)
            // 0 asks Stability for a random seed, as the setting means.
            .text("seed", settings.seed.to_string())
            .text("output_format", "png");
        if !negative.is_empty() {
            form = form.text("negative_prompt", negative.to_owned());
        }
        if let Some(preset) = settings.style_preset.as_deref().map(str::trim)
            && !preset.is_empty()
        {
            form = form.text("style_preset", preset.to_owned());
        }
        Ok(form)
    }

    /// Checks that a 200 is the PNG we asked for and measures it.
    async fn accept_image(&self, reply: &Reply) -> YtResult<(u32, u32)> {
        if reply
            .header("finish-reason")
            .is_some_and(|r| r.eq_ignore_ascii_case("CONTENT_FILTERED"))
        {
            return Err(self
                .api
                .error(
                    ErrorCode::STABILITY_CONTENT_POLICY,
                    reply,
                    "Stability AI generated the image but its content filter blurred it",
                )
                .detail("finish_reason", "CONTENT_FILTERED"));
        }
        let content_type = reply.header("content-type").unwrap_or("");
        if !content_type.starts_with("image/png") {
            return Err(self.api.invalid(
                reply,
                format!("expected a PNG image, got content type {content_type:?}"),
            ));
        }
        let bytes = reply.body.clone();
        let decoded = tokio::task::spawn_blocking(move || {
            image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
                .map(|img| (img.width(), img.height()))
                .map_err(|e| e.to_string())
        })
        .await;
        match decoded {
            Ok(Ok(size)) => Ok(size),
            Ok(Err(why)) => Err(self
                .api
                .invalid(reply, format!("the image cannot be decoded: {why}"))),
            Err(join) => Err(self
                .api
                .invalid(reply, format!("decoding the image was interrupted: {join}"))),
        }
    }
}

#[async_trait]
impl Illustrator for StabilityIllustrator {
    fn id(&self) -> &'static str {
        "stability"
    }

    async fn illustrate(&self, req: &ImageRequest<'_>) -> YtResult<ImageAsset> {
        let prompt = self.prompt_for(req)?;
        let form = self.form(prompt)?;
        self.limiter.acquire().await;
        let request = self
            .api
            .http()
            .post(&*self.url)
            .bearer_auth(self.key.expose())
            .header(reqwest::header::ACCEPT, "image/*")
            .header("stability-client-id", CLIENT_ID)
            .header("stability-client-version", env!("CARGO_PKG_VERSION"))
            .multipart(form);
        let reply = self.api.send(GENERATE, request, self.timeout).await?;
        if !reply.is_success() {
            return Err(failure(&self.api, &reply));
        }
        let (width, height) = self
            .accept_image(&reply)
            .await
            .map_err(|e| e.detail("segment_index", req.segment.index))?;
        let target = req.out_dir.join(format!("{}.png", req.file_stem));
        let path = atomic::write_file(&target, &reply.body).await?;
        tracing::info!(
            provider = "stability",
            segment_index = req.segment.index,
            width,
            height,
            seed = reply.header("seed").unwrap_or(""),
            "image generated"
        );
        Ok(ImageAsset {
            path,
            width,
            height,
        })
    }
}

/// Proves a key works with the cheapest call there is: the account's credit balance.
pub async fn test_key(ctx: &CloudContext, key: &Secret) -> YtResult<String> {
    #[derive(Deserialize)]
    struct Balance {
        credits: f64,
    }
    let api = ApiClient::new(ctx, &CODES);
    let url = format!(
        "{}{BALANCE_PATH}",
        ctx.endpoints.stability.trim_end_matches('/')
    );
    let request = api
        .http()
        .get(url)
        .bearer_auth(key.expose())
        .header(reqwest::header::ACCEPT, "application/json");
    let reply = api.send(BALANCE, request, ctx.timeouts.request).await?;
    if !reply.is_success() {
        return Err(failure(&api, &reply));
    }
    let balance: Balance = api.json(&reply)?;
    if !balance.credits.is_finite() {
        return Err(api.invalid(&reply, "the credit balance is not a number"));
    }
    Ok(format!("key works; {} credits", balance.credits))
}

/// Stability's error body: v2beta fills `errors`, v1 fills `message`.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    errors: Vec<String>,
    #[serde(default)]
    message: Option<String>,
}

impl ErrorBody {
    fn parse(reply: &Reply) -> Option<ErrorBody> {
        serde_json::from_slice::<ErrorBody>(&reply.body)
            .ok()
            .filter(|b| b.name.is_some())
    }

    fn text(&self) -> String {
        if !self.errors.is_empty() {
            self.errors.join("; ")
        } else {
            self.message.clone().unwrap_or_default()
        }
    }
}

/// Maps a non-2xx answer to its code, from the status and, where one status covers several
/// causes (403, 422), the error's `name`.
fn failure(api: &ApiClient, reply: &Reply) -> YtError {
    let body = ErrorBody::parse(reply);
    let status = reply.status;
    let name = body.as_ref().and_then(|b| b.name.as_deref());
    let Some(code) = classify(status, name) else {
        let why = match name {
            Some(name) => format!("undocumented HTTP status {status} ({name})"),
            None => format!("HTTP {status} without Stability's error body"),
        };
        return api.invalid(reply, why);
    };
    let body = body.unwrap_or_default();
    let said = body.text();
    let what = match code {
        ErrorCode::STABILITY_INVALID_PROMPT => "rejected the request",
        ErrorCode::STABILITY_INVALID_API_KEY => "refused the API key",
        ErrorCode::STABILITY_QUOTA_EXCEEDED => "reports that the account has no credits left",
        ErrorCode::STABILITY_CONTENT_POLICY => "blocked the image description",
        ErrorCode::STABILITY_RATE_LIMIT => "is rate limiting this key",
        _ => "failed",
    };
    let message = if said.is_empty() {
        format!("Stability AI {what} (HTTP {status})")
    } else {
        format!("Stability AI {what} (HTTP {status}): {said}")
    };
    let mut err = api.error(code, reply, message);
    if let Some(name) = body.name {
        err = err.detail("stability_error", name);
    }
    if let Some(id) = body.id {
        err = err.detail("stability_request_id", id);
    }
    if code == ErrorCode::STABILITY_RATE_LIMIT && reply.retry_after_ms().is_none() {
        // Stability times a key out for 60 s once it exceeds the limit, and says so only in
        // prose; retrying sooner would spend the attempts on a key that is still locked.
        err = err.detail("retry_after_ms", RATE_LIMIT_TIMEOUT_MS);
    }
    err
}

/// The code for an error status. `None` for what Stability does not document, and for a 403
/// that is not in its error shape (a proxy's page says nothing about the prompt or the key).
fn classify(status: u16, name: Option<&str>) -> Option<ErrorCode> {
    let moderation = name.is_some_and(|n| n.contains("moderation"));
    Some(match status {
        400 | 413 => ErrorCode::STABILITY_INVALID_PROMPT,
        401 => ErrorCode::STABILITY_INVALID_API_KEY,
        402 => ErrorCode::STABILITY_QUOTA_EXCEEDED,
        403 if moderation => ErrorCode::STABILITY_CONTENT_POLICY,
        // Stability refusing this key for this endpoint for another stated reason.
        403 if name.is_some() => ErrorCode::STABILITY_INVALID_API_KEY,
        // `invalid_language` and other well-formed requests Stability will not run.
        422 if moderation => ErrorCode::STABILITY_CONTENT_POLICY,
        422 => ErrorCode::STABILITY_INVALID_PROMPT,
        // Stability's only 429 is its rate limit; running out of credits is a 402.
        429 => ErrorCode::STABILITY_RATE_LIMIT,
        500..=599 => ErrorCode::STABILITY_SERVER_ERROR,
        _ => return None,
    })
}

/// At most `per_window` starts in any rolling `window`, shared by every caller; callers beyond
/// that wait (in arrival order: tokio's mutex is fair) rather than fail.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_window: usize,
    window: Duration,
    starts: Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    /// `per_window` of 0 is treated as 1: configuration validation refuses 0, and a limiter that
    /// never lets anything start would hang the run.
    pub(crate) fn new(per_window: u32, window: Duration) -> Self {
        let per_window = per_window.max(1) as usize;
        RateLimiter {
            per_window,
            window,
            starts: Mutex::new(VecDeque::with_capacity(per_window)),
        }
    }

    /// Waits until one more start fits in the window, and records it. The lock is held while
    /// waiting so that the next caller waits behind this one, not alongside it.
    pub(crate) async fn acquire(&self) {
        let mut starts = self.starts.lock().await;
        loop {
            let now = Instant::now();
            while starts
                .front()
                .is_some_and(|first| now.duration_since(*first) >= self.window)
            {
                starts.pop_front();
            }
            if starts.len() < self.per_window {
                starts.push_back(now);
                return;
            }
            if let Some(first) = starts.front() {
                tokio::time::sleep_until(*first + self.window).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limiter_lets_a_burst_through_then_spaces_starts_by_the_window() {
        let window = Duration::from_millis(300);
        let limiter = Arc::new(RateLimiter::new(3, window));
        let began = Instant::now();
        let tasks: Vec<_> = (0..7)
            .map(|_| {
                let limiter = limiter.clone();
                tokio::spawn(async move {
                    limiter.acquire().await;
                    Instant::now()
                })
            })
            .collect();
        let mut starts = Vec::new();
        for task in tasks {
            starts.push(task.await.unwrap().duration_since(began));
        }
        starts.sort();
        assert!(
            starts[2] < window,
            "the first three start at once: {starts:?}"
        );
        assert!(starts[3] >= window, "the fourth waits a window: {starts:?}");
        assert!(starts[6] >= window * 2, "the seventh waits two: {starts:?}");
        for pair in starts.windows(4) {
            assert!(
                pair[3] - pair[0] >= window,
                "never four starts within one window: {starts:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_zero_limit_still_lets_requests_through() {
        let limiter = RateLimiter::new(0, Duration::from_millis(50));
        limiter.acquire().await;
        limiter.acquire().await;
    }

    #[test]
    fn documented_statuses_map_to_their_codes() {
        use ErrorCode::*;
        let rows = [
            (400, "bad_request", STABILITY_INVALID_PROMPT),
            (401, "unauthorized", STABILITY_INVALID_API_KEY),
            (402, "payment_required", STABILITY_QUOTA_EXCEEDED),
            (403, "content_moderation", STABILITY_CONTENT_POLICY),
            (413, "payload_too_large", STABILITY_INVALID_PROMPT),
            (422, "invalid_language", STABILITY_INVALID_PROMPT),
            (429, "rate_limit_exceeded", STABILITY_RATE_LIMIT),
        ];
        for (status, name, code) in rows {
            assert_eq!(classify(status, Some(name)), Some(code), "{status} {name}");
        }
        assert_eq!(classify(503, None), Some(STABILITY_SERVER_ERROR));
        assert_eq!(classify(403, None), None, "a 403 page from a proxy");
        assert_eq!(classify(404, Some("not_found")), None);
    }
}
