//! The YouTube Data API v3 client: publishing (the resumable `videos.insert` protocol, then
//! `thumbnails.set`), the linked channel (`channels.list`), and the Google OAuth 2.0
//! installed-app login that links an account ([`begin_login`] / [`finish_login`]).
//!
//! A YouTube "key" is the linked account: an access token and the refresh token that renews it,
//! kept by a [`TokenStore`] (the encrypted key store in the product). An access token that is
//! about to expire is refreshed before a call; a call answered 401 refreshes it once and is
//! repeated once — part of the protocol, not a retry (see [`super`]). Every failure is a
//! `YOUTUBE_*` code mapped from Google's error body (`error.errors[0].reason`).
//!
//! Quota: every call that reaches the API is logged with its documented cost (`quota_units`) and
//! counted in `ytmaker_quota_units_total{service="youtube"}`.

mod oauth;
mod upload;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};

use super::CloudContext;
use super::http::{ApiClient, ApiCodes, Reply};
use crate::{PublishRequest, PublishResult, Publisher};

pub use oauth::{LoginCallback, LoginRequest, SCOPES, begin_login, finish_login, parse_redirect};
pub use upload::{CHUNK_GRANULE, DEFAULT_CHUNK_SIZE, UPLOAD_STATE_FILE};

/// Calls to the Data API (`channels.list`, `videos.insert`, `thumbnails.set`).
pub static CODES: ApiCodes = ApiCodes {
    api: "youtube",
    timeout: ErrorCode::YOUTUBE_TIMEOUT,
    network: ErrorCode::YOUTUBE_NETWORK_ERROR,
    invalid_response: ErrorCode::YOUTUBE_INVALID_RESPONSE,
    refused: None,
};

/// PUTs to an upload session: a chunk that times out or loses its connection interrupts the
/// upload, which the next attempt resumes from the offset the session reports.
pub static UPLOAD_CODES: ApiCodes = ApiCodes {
    api: "youtube",
    timeout: ErrorCode::YOUTUBE_UPLOAD_FAILED,
    network: ErrorCode::YOUTUBE_UPLOAD_FAILED,
    invalid_response: ErrorCode::YOUTUBE_INVALID_RESPONSE,
    refused: None,
};

/// Google's OAuth token endpoint.
pub static OAUTH_CODES: ApiCodes = ApiCodes {
    api: "google_oauth",
    timeout: ErrorCode::YOUTUBE_TIMEOUT,
    network: ErrorCode::YOUTUBE_NETWORK_ERROR,
    invalid_response: ErrorCode::YOUTUBE_INVALID_RESPONSE,
    refused: None,
};

/// An access token is refreshed when it has less than this left, so it cannot expire in flight.
const EXPIRY_MARGIN_MS: i64 = 60_000;

/// The linked account's OAuth tokens and the OAuth client they belong to.
#[derive(Clone, Debug, PartialEq)]
pub struct YoutubeTokens {
    pub client_id: String,
    /// Google issues desktop clients a secret too (not confidential, but required by the token
    /// endpoint for those clients).
    pub client_secret: Option<Secret>,
    pub access_token: Secret,
    pub refresh_token: Secret,
    /// When the access token expires, in milliseconds since the Unix epoch.
    pub expires_at_ms: i64,
    /// Space-separated scopes granted.
    pub scope: String,
}

impl YoutubeTokens {
    /// The tokens as the encrypted key store keeps them; the only place they are serialised.
    pub fn to_store_json(&self) -> String {
        serde_json::json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret.as_ref().map(Secret::expose),
            "access_token": self.access_token.expose(),
            "refresh_token": self.refresh_token.expose(),
            "expires_at_ms": self.expires_at_ms,
            "scope": self.scope,
        })
        .to_string()
    }

    pub fn from_store_json(text: &str) -> YtResult<Self> {
        #[derive(Deserialize)]
        struct Stored {
            client_id: String,
            client_secret: Option<String>,
            access_token: String,
            refresh_token: String,
            expires_at_ms: i64,
            scope: String,
        }
        // serde's message can quote the offending value, which may be a token: only its
        // position is reported.
        let stored: Stored = serde_json::from_str(text).map_err(|e| {
            YtError::new(
                ErrorCode::SECRET_STORE_FAILED,
                format!(
                    "the stored YouTube tokens are not readable (line {}, column {})",
                    e.line(),
                    e.column()
                ),
            )
            .detail("entry", "youtube")
        })?;
        Ok(YoutubeTokens {
            client_id: stored.client_id,
            client_secret: stored.client_secret.map(Secret::new),
            access_token: Secret::new(stored.access_token),
            refresh_token: Secret::new(stored.refresh_token),
            expires_at_ms: stored.expires_at_ms,
            scope: stored.scope,
        })
    }

    fn expires_soon(&self, now_ms: i64) -> bool {
        now_ms + EXPIRY_MARGIN_MS >= self.expires_at_ms
    }
}

/// Where the linked account's tokens live. `load` fails with `YOUTUBE_NOT_LINKED` when no account
/// is linked; `save` is called after every refresh.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn load(&self) -> YtResult<YoutubeTokens>;
    async fn save(&self, tokens: &YoutubeTokens) -> YtResult<()>;
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The tokens of one operation: refreshed ahead of expiry, and once more when a call is refused.
struct Auth<'a> {
    ctx: &'a CloudContext,
    store: &'a dyn TokenStore,
    tokens: YoutubeTokens,
}

impl<'a> Auth<'a> {
    async fn load(ctx: &'a CloudContext, store: &'a dyn TokenStore) -> YtResult<Auth<'a>> {
        let tokens = store.load().await?;
        let mut auth = Auth { ctx, store, tokens };
        if auth.tokens.expires_soon(now_ms()) {
            tracing::info!(
                api = "youtube",
                "access token expires within a minute; refreshing it"
            );
            auth.refresh().await?;
        }
        Ok(auth)
    }

    async fn refresh(&mut self) -> YtResult<()> {
        let fresh = oauth::refresh(self.ctx, &self.tokens).await?;
        self.store.save(&fresh).await?;
        self.tokens = fresh;
        Ok(())
    }

    /// Sends `build()` with the access token. A 401 (recorded as `YOUTUBE_TOKEN_EXPIRED` or
    /// `YOUTUBE_INVALID_TOKEN`, the codes of a token refreshed automatically) refreshes the token
    /// and repeats this one request once; a second 401 is `YOUTUBE_AUTH_REVOKED`.
    async fn send(
        &mut self,
        api: &ApiClient,
        endpoint: &'static str,
        build: impl Fn() -> reqwest::RequestBuilder,
        timeout: std::time::Duration,
    ) -> YtResult<Reply> {
        let request = build().bearer_auth(self.tokens.access_token.expose());
        let reply = api.send(endpoint, request, timeout).await?;
        if reply.status != 401 {
            return Ok(reply);
        }
        let refused = refused_token(api, &reply);
        drop(reply);
        tracing::info!(
            api = "youtube",
            endpoint,
            error_code = %refused.code,
            "access token refused; refreshing it once"
        );
        self.refresh().await?;
        let request = build().bearer_auth(self.tokens.access_token.expose());
        let reply = api.send(endpoint, request, timeout).await?;
        if reply.status == 401 {
            return Err(refused_after_refresh(api, &reply));
        }
        Ok(reply)
    }
}

/// Google's error body. Every field is optional: proxies and load balancers answer with other
/// bodies, and the status alone must still be mapped.
#[derive(Debug, Default, Deserialize)]
struct GoogleErrorBody {
    #[serde(default)]
    error: GoogleError,
}

#[derive(Debug, Default, Deserialize)]
struct GoogleError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<GoogleErrorItem>,
    #[serde(default)]
    details: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
struct GoogleErrorItem {
    #[serde(default)]
    domain: String,
    #[serde(default)]
    reason: String,
}

impl GoogleError {
    fn of(reply: &Reply) -> GoogleError {
        serde_json::from_slice::<GoogleErrorBody>(&reply.body)
            .map(|b| b.error)
            .unwrap_or_default()
    }

    fn reason(&self) -> &str {
        self.errors.first().map_or("", |e| e.reason.as_str())
    }

    /// The `google.rpc.ErrorInfo` reason (`ACCESS_TOKEN_EXPIRED`, …), when present.
    fn info_reason(&self) -> Option<&str> {
        self.details
            .iter()
            .find_map(|d| d.get("reason").and_then(Value::as_str))
    }

    fn describe(self, mut err: YtError) -> YtError {
        let reason = self.reason().to_owned();
        if !reason.is_empty() {
            err = err.detail("reason", reason);
        }
        if let Some(item) = self.errors.first()
            && !item.domain.is_empty()
        {
            err = err.detail("domain", item.domain.clone());
        }
        if !self.message.is_empty() {
            err = err.detail("provider_message", self.message);
        }
        err
    }
}

/// A 401 before the refresh: the token expired or was refused, and is refreshed now. The
/// error only marks the call's record; it is not returned.
fn refused_token(api: &ApiClient, reply: &Reply) -> YtError {
    let google = GoogleError::of(reply);
    let expired = google.info_reason() == Some("ACCESS_TOKEN_EXPIRED")
        || google.message.to_ascii_lowercase().contains("expired");
    let (code, what) = if expired {
        (
            ErrorCode::YOUTUBE_TOKEN_EXPIRED,
            "says the access token expired",
        )
    } else {
        (ErrorCode::YOUTUBE_INVALID_TOKEN, "refused the access token")
    };
    let message = format!("YouTube {} {what}", reply.endpoint);
    google.describe(api.error(code, reply, message))
}

/// A 401 that survived a refresh: Google issued the token and YouTube still refuses it, so no
/// retry can help — the account must be linked again.
fn refused_after_refresh(api: &ApiClient, reply: &Reply) -> YtError {
    let google = GoogleError::of(reply);
    let auth_reason = google.info_reason().map(str::to_owned);
    let message = format!(
        "YouTube {} refused the access token even right after refreshing it; link the account again",
        reply.endpoint
    );
    let err = google.describe(api.error(ErrorCode::YOUTUBE_AUTH_REVOKED, reply, message));
    match auth_reason {
        Some(reason) => err.detail("auth_reason", reason),
        None => err,
    }
}

/// Which call an error answer belongs to: 5xx and size limits mean different things on each.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Call {
    /// `videos.insert`: the session start and every PUT to the session.
    Upload,
    Thumbnail,
    Other,
}

/// Maps an error answer (any status but 401, which [`Auth::send`] handles) to its code.
fn api_error(api: &ApiClient, reply: &Reply, call: Call) -> YtError {
    let google = GoogleError::of(reply);
    let reason = google.reason().to_owned();
    let endpoint = reply.endpoint;
    let (code, what) = match (reply.status, reason.as_str()) {
        (403, "quotaExceeded" | "dailyLimitExceeded") => (
            ErrorCode::YOUTUBE_QUOTA_EXCEEDED,
            "the daily quota is used up",
        ),
        (403, "rateLimitExceeded" | "userRateLimitExceeded" | "uploadRateLimitExceeded")
        | (429, _) => (ErrorCode::YOUTUBE_RATE_LIMIT, "asked to slow down"),
        // Documented as a 400 on videos.insert: the channel's daily upload limit, which only
        // waiting lifts (a quota increase does not).
        (400 | 403, "uploadLimitExceeded") => (
            ErrorCode::YOUTUBE_FORBIDDEN,
            "the channel reached its daily upload limit",
        ),
        (403, _) => (ErrorCode::YOUTUBE_FORBIDDEN, "refused the action"),
        (413, _) | (400, "uploadTooLarge" | "mediaBodyTooLarge") if call == Call::Thumbnail => (
            ErrorCode::THUMBNAIL_TOO_LARGE,
            "refused the thumbnail as too large",
        ),
        (413, _) | (400, "uploadTooLarge" | "mediaBodyTooLarge") => (
            ErrorCode::YOUTUBE_VIDEO_TOO_LARGE,
            "refused the video as too large",
        ),
        // thumbnails.set's videoNotFound: the video is gone or belongs to another channel than
        // the one linked now.
        (404, _) if call == Call::Thumbnail => (
            ErrorCode::YOUTUBE_VIDEO_NOT_FOUND,
            "cannot find the uploaded video for this account",
        ),
        (400, _) => (ErrorCode::YOUTUBE_INVALID_METADATA, "refused the request"),
        (500.., _) if call == Call::Upload => (
            ErrorCode::YOUTUBE_UPLOAD_FAILED,
            "failed on its side during the upload",
        ),
        (500.., _) => (
            ErrorCode::YOUTUBE_SERVER_ERROR,
            "answered with a server error",
        ),
        (status, _) => {
            return google.describe(api.invalid(reply, format!("unexpected HTTP status {status}")));
        }
    };
    let reason_text = if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    };
    let mut err = google.describe(api.error(
        code,
        reply,
        format!("YouTube {endpoint} {what}{reason_text}"),
    ));
    if !reply.body.is_empty() && !err.details.contains_key("provider_message") {
        err = reply.describe_body(err);
    }
    err
}

/// The quota a series of calls used (the documented cost of each method; a refused call costs
/// one unit).
#[derive(Default)]
struct QuotaMeter {
    used: u64,
}

impl QuotaMeter {
    fn charge(&mut self, method: &'static str, units: u64) {
        self.used += units;
        tracing::info!(
            api = "youtube",
            method,
            quota_units = units,
            "YouTube quota used"
        );
        metrics::counter!(ytmaker_core::metric::QUOTA_UNITS_TOTAL, "service" => "youtube", "method" => method)
            .increment(units);
    }

    /// Charges `cost` for an answered call, or one unit when the call was refused, and records
    /// it on the call.
    fn charge_reply(&mut self, method: &'static str, cost: u64, reply: &Reply) {
        let units = quota_units(cost, reply);
        reply.charge_quota(units);
        self.charge(method, units);
    }
}

/// What an answered call costs: `cost` when it succeeded, one unit when it was refused (Google
/// charges at least one unit for every request, invalid ones included).
fn quota_units(cost: u64, reply: &Reply) -> u64 {
    if reply.is_success() { cost } else { 1 }
}

/// Documented costs (developers.google.com/youtube/v3/determine_quota_cost). `videos.insert`
/// has its own bucket of 100 calls a day at one unit each; the rest share 10,000 units a day.
/// The endpoint name `videos.insert` calls are logged and recorded under.
pub const VIDEOS_INSERT_ENDPOINT: &str = "videos.insert";
pub const CHANNELS_LIST_UNITS: u64 = 1;
pub const VIDEOS_INSERT_UNITS: u64 = 1;
pub const THUMBNAILS_SET_UNITS: u64 = 50;
/// The default daily limits: units shared by every method but `videos.insert`, and calls of
/// `videos.insert` (its own bucket).
pub const DAILY_UNITS: u64 = 10_000;
pub const DAILY_VIDEO_INSERTS: u64 = 100;

/// The linked channel.
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelInfo {
    pub id: String,
    pub title: String,
}

/// `channels.list?part=snippet&mine=true`: the channel the linked account uploads to.
pub async fn channel(ctx: &CloudContext, tokens: &dyn TokenStore) -> YtResult<ChannelInfo> {
    #[derive(Deserialize)]
    struct ChannelList {
        #[serde(default)]
        items: Vec<Channel>,
    }
    #[derive(Deserialize)]
    struct Channel {
        id: String,
        snippet: Snippet,
    }
    #[derive(Deserialize)]
    struct Snippet {
        title: String,
    }

    let api = ApiClient::new(ctx, &CODES);
    let mut auth = Auth::load(ctx, tokens).await?;
    let url = format!("{}/youtube/v3/channels", ctx.endpoints.youtube);
    let reply = auth
        .send(
            &api,
            "channels.list",
            || {
                ctx.http
                    .get(&url)
                    .query(&[("part", "snippet"), ("mine", "true")])
            },
            ctx.timeouts.request,
        )
        .await?;
    QuotaMeter::default().charge_reply("channels.list", CHANNELS_LIST_UNITS, &reply);
    if !reply.is_success() {
        return Err(api_error(&api, &reply, Call::Other));
    }
    let list: ChannelList = api.json(&reply)?;
    let Some(first) = list.items.into_iter().next() else {
        return Err(api
            .error(
                ErrorCode::YOUTUBE_FORBIDDEN,
                &reply,
                "the linked Google account has no YouTube channel",
            )
            .detail("reason", "youtubeSignupRequired"));
    };
    Ok(ChannelInfo {
        id: first.id,
        title: first.snippet.title,
    })
}

/// Proves the linked account works (one `channels.list`, 1 unit).
pub async fn test_key(ctx: &CloudContext, tokens: &dyn TokenStore) -> YtResult<String> {
    let linked = channel(ctx, tokens).await?;
    Ok(format!(
        "account works; uploads go to the channel \"{}\" ({})",
        linked.title, linked.id
    ))
}

/// Publishes to the linked channel: resumable upload of the video, then its thumbnail.
pub struct YoutubePublisher {
    ctx: CloudContext,
    tokens: Arc<dyn TokenStore>,
    chunk_size: u64,
}

impl YoutubePublisher {
    pub fn new(ctx: &CloudContext, tokens: Arc<dyn TokenStore>) -> Self {
        YoutubePublisher {
            ctx: ctx.clone(),
            tokens,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }

    /// Bytes per upload request, rounded up to a multiple of 256 KiB (the protocol's rule for
    /// every chunk but the last).
    pub fn with_chunk_size(mut self, bytes: u64) -> Self {
        self.chunk_size = bytes.div_ceil(CHUNK_GRANULE).max(1) * CHUNK_GRANULE;
        self
    }
}

#[async_trait]
impl Publisher for YoutubePublisher {
    fn id(&self) -> &'static str {
        "youtube"
    }

    async fn publish(&self, req: &PublishRequest<'_>) -> YtResult<PublishResult> {
        upload::publish(&self.ctx, self.tokens.as_ref(), self.chunk_size, req).await
    }
}
