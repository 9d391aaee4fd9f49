//! The YouTube Data API v3 and Google's OAuth 2.0 endpoints, as far as ytmaker uses them: the
//! installed-app login (authorization code with PKCE S256 and a loopback redirect), token
//! refresh, bearer checks on every API call, `channels.list`, the resumable `videos.insert`
//! protocol (session start, chunks, status queries, `308` + `Range`) and `thumbnails.set`.
//!
//! API errors use Google's JSON error body (`{"error": {"code", "message", "errors": [{"message",
//! "domain", "reason"}], "status"}}`); the token endpoint answers `{"error",
//! "error_description"}`; the consent page shows an HTML error page or redirects with
//! `error=access_denied`, as Google does.
//!
//! Two channels exist ([`CHANNELS`]); every grant belongs to one. The consent page signs in as
//! the first unless the authorize URL carries Google's `login_hint` naming the other's channel id
//! (as a person picks an account on Google's chooser), so tests can link two accounts through the
//! real flow; `channels.list`, uploads and thumbnails act for the token's channel.
//!
//! Only tokens this fake issued are accepted (a login against it, or [`YoutubeState::grant`] in
//! tests), so any other token — `invalid…` ones included — is refused like an unknown one.
//!
//! Fault reasons: on YouTube endpoints the Google `reason` verbatim (`quotaExceeded`,
//! `rateLimitExceeded`, `uploadLimitExceeded`, `forbidden`, `invalidTitle`, `uploadTooLarge`,
//! `backendError`, …), plus `expired` for a 401 saying the access token expired; on
//! `oauth.token` the OAuth `error` (`invalid_grant`, `invalid_client`, …).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Form;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, Request, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{Api, DropMidway, State, drop_connection, lock};

/// The endpoint name of one PUT of bytes to a resumable upload session.
pub const UPLOAD_CHUNK: &str = "upload.chunk";

const SCOPE_UPLOAD: &str = "https://www.googleapis.com/auth/youtube.upload";
const SCOPE_READONLY: &str = "https://www.googleapis.com/auth/youtube.readonly";
const SCOPE_YOUTUBE: &str = "https://www.googleapis.com/auth/youtube";
const KNOWN_SCOPES: [&str; 4] = [
    SCOPE_UPLOAD,
    SCOPE_READONLY,
    SCOPE_YOUTUBE,
    "https://www.googleapis.com/auth/youtube.force-ssl",
];
/// Google's access tokens live an hour; `expires_in` is sent one second short of it.
const ACCESS_TOKEN_SECONDS: u64 = 3599;
/// `thumbnails.set`'s `maxSize` in the API's discovery document.
const MAX_THUMBNAIL_BYTES: usize = 2 * 1024 * 1024;
/// `videos.insert`'s `maxSize` (256 GB).
const MAX_VIDEO_BYTES: u64 = 256 * 1024 * 1024 * 1024;
const MAX_METADATA_BYTES: usize = 1024 * 1024;
const VIDEO_PARTS: [&str; 13] = [
    "id",
    "snippet",
    "status",
    "contentDetails",
    "fileDetails",
    "liveStreamingDetails",
    "localizations",
    "player",
    "processingDetails",
    "recordingDetails",
    "statistics",
    "suggestions",
    "topicDetails",
];
/// A channel of the fake's accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FakeChannel {
    pub id: &'static str,
    pub title: &'static str,
}

/// The accounts a login can consent as: the first by default, the other by `login_hint`.
pub const CHANNELS: [FakeChannel; 2] = [
    FakeChannel {
        id: CHANNEL_ID,
        title: CHANNEL_TITLE,
    },
    FakeChannel {
        id: "UCytmakerFakeChannel0002",
        title: "ytmaker second fake channel",
    },
];
pub const CHANNEL_ID: &str = "UCytmakerFakeChannel0001";
pub const CHANNEL_TITLE: &str = "ytmaker fake channel";

/// The YouTube module's data: grants, upload sessions, finished videos and thumbnails.
#[derive(Default)]
pub struct YoutubeState {
    books: Mutex<Books>,
    deny_consent: AtomicBool,
    body_bytes: AtomicU64,
}

#[derive(Default)]
struct Books {
    codes: HashMap<String, PendingCode>,
    access: HashMap<String, AccessGrant>,
    refresh: HashMap<String, RefreshGrant>,
    sessions: HashMap<String, UploadSession>,
    videos: Vec<StoredVideo>,
    thumbnails: HashMap<String, Vec<u8>>,
}

struct PendingCode {
    channel: FakeChannel,
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
}

struct AccessGrant {
    channel: FakeChannel,
    scope: String,
    expires_at: Instant,
}

struct RefreshGrant {
    channel: FakeChannel,
    client_id: String,
    scope: String,
}

struct UploadSession {
    channel: FakeChannel,
    total: u64,
    metadata: Value,
    received: Vec<u8>,
    video: Option<Value>,
}

/// A finished upload.
#[derive(Clone, Debug)]
pub struct StoredVideo {
    pub id: String,
    /// The channel whose token uploaded it.
    pub channel_id: String,
    /// The `video` resource the upload was started with, as the client sent it.
    pub metadata: Value,
    /// The `video` resource the API answered with.
    pub resource: Value,
    pub content: Vec<u8>,
    /// Lowercase hex SHA-256 of `content`.
    pub sha256: String,
}

/// Tokens issued without a login, for tests.
#[derive(Clone, Debug)]
pub struct GrantedTokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
    pub scope: String,
}

impl YoutubeState {
    /// Issues an access and a refresh token for `client_id` with the upload and read-only scopes,
    /// as a completed login as the first channel would.
    pub fn grant(&self, client_id: &str) -> GrantedTokens {
        self.grant_as(client_id, CHANNELS[0])
    }

    /// [`Self::grant`] for a login as `channel`.
    pub fn grant_as(&self, client_id: &str, channel: FakeChannel) -> GrantedTokens {
        let scope = format!("{SCOPE_UPLOAD} {SCOPE_READONLY}");
        let mut books = lock(&self.books);
        let (access_token, refresh_token) = books.issue(client_id, &scope, channel);
        GrantedTokens {
            access_token,
            refresh_token,
            expires_in: ACCESS_TOKEN_SECONDS,
            scope,
        }
    }

    /// Every access token issued so far expires now (API calls with them get a 401).
    pub fn expire_access_tokens(&self) {
        let now = Instant::now();
        for grant in lock(&self.books).access.values_mut() {
            grant.expires_at = now;
        }
    }

    /// Every refresh token is revoked (refreshing answers `invalid_grant`).
    pub fn revoke_refresh_tokens(&self) {
        lock(&self.books).refresh.clear();
    }

    /// While set, the consent page redirects with `error=access_denied`.
    pub fn set_deny_consent(&self, deny: bool) {
        self.deny_consent.store(deny, Ordering::SeqCst);
    }

    /// Every upload session is forgotten, as when a session URI expires (its PUTs get a 404).
    pub fn expire_upload_sessions(&self) {
        lock(&self.books).sessions.clear();
    }

    pub fn videos(&self) -> Vec<StoredVideo> {
        lock(&self.books).videos.clone()
    }

    pub fn thumbnail(&self, video_id: &str) -> Option<Vec<u8>> {
        lock(&self.books).thumbnails.get(video_id).cloned()
    }

    /// Body bytes received by all upload-session PUTs together, dropped chunks included.
    pub fn body_bytes_received(&self) -> u64 {
        self.body_bytes.load(Ordering::SeqCst)
    }
}

impl Books {
    fn issue(&mut self, client_id: &str, scope: &str, channel: FakeChannel) -> (String, String) {
        let access = self.issue_access(scope, channel);
        let refresh = format!("1//fake-{}", uuid::Uuid::new_v4().simple());
        self.refresh.insert(
            refresh.clone(),
            RefreshGrant {
                channel,
                client_id: client_id.to_owned(),
                scope: scope.to_owned(),
            },
        );
        (access, refresh)
    }

    fn issue_access(&mut self, scope: &str, channel: FakeChannel) -> String {
        let token = format!("ya29.fake-{}", uuid::Uuid::new_v4().simple());
        self.access.insert(
            token.clone(),
            AccessGrant {
                channel,
                scope: scope.to_owned(),
                expires_at: Instant::now() + Duration::from_secs(ACCESS_TOKEN_SECONDS + 1),
            },
        );
        token
    }
}

pub(crate) fn endpoint_of(method: &str, path: &str) -> Option<(Api, &'static str)> {
    match (method, path) {
        ("GET", "/o/oauth2/v2/auth") => Some((Api::Oauth, "oauth.authorize")),
        ("POST", "/token") => Some((Api::Oauth, "oauth.token")),
        ("GET", "/youtube/v3/channels") => Some((Api::Youtube, "channels.list")),
        ("POST", "/upload/youtube/v3/videos") => Some((Api::Youtube, "videos.insert")),
        ("PUT", "/upload/youtube/v3/videos") => Some((Api::Youtube, UPLOAD_CHUNK)),
        ("POST", "/upload/youtube/v3/thumbnails/set") => Some((Api::Youtube, "thumbnails.set")),
        _ => None,
    }
}

pub(crate) fn error_response(endpoint: &str, status: u16, reason: Option<&str>) -> Response {
    match endpoint {
        "oauth.token" => {
            let error = reason.unwrap_or(match status {
                401 => "invalid_client",
                429 => "rate_limit_exceeded",
                500.. => "internal_failure",
                _ => "invalid_grant",
            });
            oauth_error(status, error, oauth_description(error))
        }
        "oauth.authorize" => {
            consent_error_page(status, reason.unwrap_or("invalid_request"), "Bad request")
        }
        _ if status == 401 => unauthenticated(if reason == Some("expired") {
            Credentials::Expired
        } else {
            Credentials::Invalid
        }),
        _ => {
            let reason = reason.unwrap_or(match (endpoint, status) {
                ("videos.insert", 400) => "invalidVideoMetadata",
                ("thumbnails.set", 400) => "invalidImage",
                ("thumbnails.set", 404) => "videoNotFound",
                (_, 400) => "badRequest",
                (_, 403) => "forbidden",
                (_, 404) => "notFound",
                (_, 413) => "uploadTooLarge",
                (_, 429) => "rateLimitExceeded",
                (_, 503) => "backendError",
                _ => "backendError",
            });
            google_error(status, reason, api_message(reason))
        }
    }
}

pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
        .route("/o/oauth2/v2/auth", get(authorize))
        .route("/token", post(token))
        .route("/youtube/v3/channels", get(list_channels))
        .route(
            "/upload/youtube/v3/videos",
            post(start_upload).put(upload_chunk),
        )
        .route("/upload/youtube/v3/thumbnails/set", post(set_thumbnail))
}

// ---- Error bodies ----

/// Google's JSON error body.
fn google_error(status: u16, reason: &str, message: &str) -> Response {
    google_error_with(status, reason, message, None)
}

fn google_error_with(status: u16, reason: &str, message: &str, details: Option<Value>) -> Response {
    let domain = match reason {
        "quotaExceeded" => "youtube.quota",
        "rateLimitExceeded" | "userRateLimitExceeded" => "usageLimits",
        "uploadLimitExceeded" | "forbiddenPrivacySetting" | "forbiddenLicenseSetting" => {
            "youtube.video"
        }
        r if r.starts_with("invalid") && r != "invalidImage" => "youtube.video",
        "invalidImage" | "videoNotFound" | "uploadRateLimitExceeded" => "youtube.thumbnail",
        _ => "global",
    };
    let rpc_status = match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        413 => "OUT_OF_RANGE",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
    let mut error = json!({
        "code": status,
        "message": message,
        "errors": [{ "message": message, "domain": domain, "reason": reason }],
        "status": rpc_status,
    });
    if let Some(details) = details {
        error["details"] = details;
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json; charset=UTF-8")],
        json!({ "error": error }).to_string(),
    )
        .into_response()
}

/// The messages Google sends with each reason (the API's error reference).
fn api_message(reason: &str) -> &'static str {
    match reason {
        "quotaExceeded" => {
            "The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>."
        }
        "rateLimitExceeded" | "userRateLimitExceeded" => "Rate Limit Exceeded",
        "uploadLimitExceeded" => "The user has exceeded the number of videos they may upload.",
        "uploadRateLimitExceeded" => {
            "The channel has uploaded too many thumbnails recently. Please try the request later."
        }
        "forbidden" => "Access forbidden. The request may not be properly authorized.",
        "forbiddenPrivacySetting" => "The video's privacy setting is not allowed.",
        "youtubeSignupRequired" => "The user must sign up for a YouTube channel.",
        "insufficientPermissions" => "Request had insufficient authentication scopes.",
        "invalidTitle" => "The request metadata specifies an invalid or empty video title.",
        "invalidDescription" => "The request metadata specifies an invalid video description.",
        "invalidTags" => "The request metadata specifies invalid video keywords.",
        "invalidPublishAt" => {
            "The request metadata specifies an invalid scheduled publishing time."
        }
        "invalidCategoryId" => "The snippet.categoryId property specifies an invalid category ID.",
        "invalidVideoMetadata" => "The request metadata is invalid.",
        "invalidImage" => "The provided image content is invalid.",
        "mediaBodyRequired" => "The request does not include the image content.",
        "videoNotFound" => {
            "The video that you are trying to insert a thumbnail image for cannot be found."
        }
        "uploadTooLarge" => "Media larger than the maximum allowed size.",
        "missingRequiredParameter" => "The request is missing a required parameter.",
        "unknownPart" => "The request specifies an unknown part.",
        "badContent" => "Media type is not supported.",
        "parseError" => "Parse Error",
        "notFound" => "Not Found",
        "backendError" => "Backend Error",
        _ => "The request failed.",
    }
}

enum Credentials {
    Missing,
    Invalid,
    Expired,
}

/// A 401 as Google sends it; the `ErrorInfo` detail tells an expired token from an unknown one.
fn unauthenticated(credentials: Credentials) -> Response {
    let (reason, info_reason, message) = match credentials {
        Credentials::Missing => (
            "required",
            "CREDENTIALS_MISSING",
            "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        ),
        Credentials::Invalid => (
            "authError",
            "ACCESS_TOKEN_TYPE_UNSUPPORTED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        ),
        Credentials::Expired => (
            "authError",
            "ACCESS_TOKEN_EXPIRED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
        ),
    };
    let details = json!([{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": info_reason,
        "domain": "googleapis.com",
        "metadata": { "service": "youtube.googleapis.com" },
    }]);
    let mut response = google_error_with(401, reason, message, Some(details));
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"https://accounts.google.com/\""),
    );
    response
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        json!({ "error": error, "error_description": description }).to_string(),
    )
        .into_response()
}

fn oauth_description(error: &str) -> &'static str {
    match error {
        "invalid_grant" => "Token has been expired or revoked.",
        "invalid_client" => "The OAuth client was not found.",
        "unauthorized_client" => "Unauthorized",
        "rate_limit_exceeded" => "Rate limit exceeded.",
        _ => "Internal failure.",
    }
}

/// What Google's consent page shows for a request it cannot serve (no redirect happens).
fn consent_error_page(status: u16, error: &str, what: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!DOCTYPE html><html><head><title>Error {status} ({error})</title></head>\
             <body><h1>Access blocked: authorization error</h1><p>{what}</p>\
             <p>Error {status}: {error}</p></body></html>"
        ),
    )
        .into_response()
}

// ---- OAuth ----

fn param<'a>(q: &'a HashMap<String, String>, key: &str) -> &'a str {
    q.get(key).map_or("", String::as_str)
}

/// Google accepts `http://127.0.0.1:PORT`, `http://[::1]:PORT` and `http://localhost:PORT` for
/// installed apps.
fn is_loopback(uri: &str) -> bool {
    let Some(rest) = uri.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or_default()
    } else {
        authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host)
    };
    matches!(host, "127.0.0.1" | "[::1]" | "localhost")
}

fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    let mut location = redirect_uri.to_owned();
    let mut separator = if location.contains('?') { '&' } else { '?' };
    for (key, value) in params {
        location.push(separator);
        location.push_str(key);
        location.push('=');
        location.push_str(&percent_encode(value));
        separator = '&';
    }
    match HeaderValue::from_str(&location) {
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => consent_error_page(
            400,
            "redirect_uri_mismatch",
            "The redirect URI is not valid.",
        ),
    }
}

/// The consent page, consenting at once: redirects to the loopback URI with a code.
async fn authorize(
    AxumState(state): AxumState<Arc<State>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let client_id = param(&q, "client_id");
    if client_id.is_empty() {
        return consent_error_page(
            400,
            "invalid_request",
            "Missing required parameter: client_id",
        );
    }
    if client_id.starts_with("invalid") {
        return consent_error_page(401, "invalid_client", "The OAuth client was not found.");
    }
    let redirect_uri = param(&q, "redirect_uri");
    if !is_loopback(redirect_uri) {
        return consent_error_page(
            400,
            "redirect_uri_mismatch",
            "Installed apps must redirect to a loopback address.",
        );
    }
    if param(&q, "response_type") != "code" {
        return consent_error_page(
            400,
            "unsupported_response_type",
            "response_type must be code",
        );
    }
    let scope = param(&q, "scope");
    let scopes: Vec<&str> = scope.split_whitespace().collect();
    if scopes.is_empty() || scopes.iter().any(|s| !KNOWN_SCOPES.contains(s)) {
        return consent_error_page(400, "invalid_scope", "Some requested scopes were invalid.");
    }
    let challenge = param(&q, "code_challenge");
    let challenge_ok = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if param(&q, "code_challenge_method") != "S256" || !challenge_ok {
        return consent_error_page(
            400,
            "invalid_request",
            "code_challenge must be a S256 challenge (code_challenge_method=S256).",
        );
    }
    let hint = param(&q, "login_hint");
    let channel = if hint.is_empty() {
        CHANNELS[0]
    } else {
        match CHANNELS.iter().find(|c| c.id == hint) {
            Some(c) => *c,
            None => {
                return consent_error_page(
                    400,
                    "invalid_request",
                    "login_hint names no account of this fake (give a channel id of CHANNELS).",
                );
            }
        }
    };
    let returned_state = param(&q, "state");
    if state.youtube.deny_consent.load(Ordering::SeqCst) {
        return redirect_with(
            redirect_uri,
            &[("error", "access_denied"), ("state", returned_state)],
        );
    }
    let code = format!("4/0fake-{}", uuid::Uuid::new_v4().simple());
    lock(&state.youtube.books).codes.insert(
        code.clone(),
        PendingCode {
            channel,
            client_id: client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            challenge: challenge.to_owned(),
            scope: scopes.join(" "),
        },
    );
    redirect_with(
        redirect_uri,
        &[
            ("state", returned_state),
            ("code", &code),
            ("scope", &scopes.join(" ")),
        ],
    )
}

/// `POST /token`: the authorization-code exchange (with the PKCE verifier) and refreshes.
async fn token(
    AxumState(state): AxumState<Arc<State>>,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let Ok(Form(f)) = form else {
        return oauth_error(400, "invalid_request", "Invalid request body.");
    };
    let client_id = param(&f, "client_id");
    if client_id.is_empty() || client_id.starts_with("invalid") {
        return oauth_error(401, "invalid_client", "The OAuth client was not found.");
    }
    if param(&f, "client_secret").starts_with("invalid") {
        return oauth_error(401, "invalid_client", "Unauthorized");
    }
    let mut books = lock(&state.youtube.books);
    match param(&f, "grant_type") {
        "authorization_code" => {
            let Some(pending) = books.codes.remove(param(&f, "code")) else {
                return oauth_error(400, "invalid_grant", "Malformed auth code.");
            };
            if pending.client_id != client_id {
                return oauth_error(400, "invalid_grant", "Bad Request");
            }
            if pending.redirect_uri != param(&f, "redirect_uri") {
                return oauth_error(400, "redirect_uri_mismatch", "Bad Request");
            }
            let verifier = param(&f, "code_verifier");
            if verifier.is_empty() {
                return oauth_error(400, "invalid_grant", "Missing code verifier.");
            }
            if !(43..=128).contains(&verifier.len())
                || pkce_challenge(verifier) != pending.challenge
            {
                return oauth_error(400, "invalid_grant", "Invalid code verifier.");
            }
            let (access, refresh) = books.issue(client_id, &pending.scope, pending.channel);
            axum::Json(json!({
                "access_token": access,
                "expires_in": ACCESS_TOKEN_SECONDS,
                "refresh_token": refresh,
                "scope": pending.scope,
                "token_type": "Bearer",
            }))
            .into_response()
        }
        "refresh_token" => {
            let Some(grant) = books.refresh.get(param(&f, "refresh_token")) else {
                return oauth_error(400, "invalid_grant", "Token has been expired or revoked.");
            };
            if grant.client_id != client_id {
                return oauth_error(401, "unauthorized_client", "Unauthorized");
            }
            let (scope, channel) = (grant.scope.clone(), grant.channel);
            let access = books.issue_access(&scope, channel);
            axum::Json(json!({
                "access_token": access,
                "expires_in": ACCESS_TOKEN_SECONDS,
                "scope": scope,
                "token_type": "Bearer",
            }))
            .into_response()
        }
        other => oauth_error(
            400,
            "unsupported_grant_type",
            &format!("Invalid grant_type: {other}"),
        ),
    }
}

// ---- The API ----

enum Need {
    Upload,
    Read,
}

/// The channel the request's bearer token acts for, or the answer refusing the token.
fn bearer(state: &State, headers: &HeaderMap, need: Need) -> Result<FakeChannel, Box<Response>> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(Box::new(unauthenticated(Credentials::Missing)));
    };
    let Some(token) = value.strip_prefix("Bearer ") else {
        return Err(Box::new(unauthenticated(Credentials::Invalid)));
    };
    let books = lock(&state.youtube.books);
    let Some(grant) = books.access.get(token) else {
        return Err(Box::new(unauthenticated(Credentials::Invalid)));
    };
    if grant.expires_at <= Instant::now() {
        return Err(Box::new(unauthenticated(Credentials::Expired)));
    }
    let has = |scope: &str| grant.scope.split(' ').any(|s| s == scope);
    let allowed = match need {
        Need::Upload => has(SCOPE_UPLOAD) || has(SCOPE_YOUTUBE),
        Need::Read => has(SCOPE_READONLY) || has(SCOPE_YOUTUBE),
    };
    if !allowed {
        return Err(Box::new(google_error(
            403,
            "insufficientPermissions",
            api_message("insufficientPermissions"),
        )));
    }
    Ok(grant.channel)
}

fn bad_request(reason: &str, message: &str) -> Response {
    google_error(400, reason, message)
}

fn etag() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn thumbnails_for(id: &str) -> Value {
    let size = |name: &str, width: u32, height: u32| json!({ "url": format!("https://i.ytimg.com/vi/{id}/{name}.jpg"), "width": width, "height": height });
    json!({
        "default": size("default", 120, 90),
        "medium": size("mqdefault", 320, 180),
        "high": size("hqdefault", 480, 360),
    })
}

/// `GET /youtube/v3/channels?part=snippet&mine=true`.
async fn list_channels(
    AxumState(state): AxumState<Arc<State>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let channel = match bearer(&state, &headers, Need::Read) {
        Ok(channel) => channel,
        Err(refused) => return *refused,
    };
    if param(&q, "part").is_empty() {
        return bad_request("missingRequiredParameter", "Required parameter: part");
    }
    if param(&q, "mine") != "true" && param(&q, "id").is_empty() {
        return bad_request(
            "missingRequiredParameter",
            "No filter selected. Expected one of: mine, id, forHandle, forUsername, managedByMe",
        );
    }
    axum::Json(json!({
        "kind": "youtube#channelListResponse",
        "etag": etag(),
        "pageInfo": { "totalResults": 1, "resultsPerPage": 5 },
        "items": [{
            "kind": "youtube#channel",
            "etag": etag(),
            "id": channel.id,
            "snippet": {
                "title": channel.title,
                "description": "",
                "customUrl": format!("@{}", channel.id.to_ascii_lowercase()),
                "publishedAt": "2024-01-01T00:00:00Z",
                "thumbnails": thumbnails_for(channel.id),
                "localized": { "title": channel.title, "description": "" },
            },
        }],
    }))
    .into_response()
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// YouTube's own checks on a new video's metadata: `(reason, message)` of the first failure.
fn check_video_metadata(video: &Value) -> Result<(), (&'static str, String)> {
    let snippet = &video["snippet"];
    let title = snippet["title"].as_str().unwrap_or("");
    if title.trim().is_empty() || title.chars().count() > 100 || title.contains(['<', '>']) {
        return Err(("invalidTitle", api_message("invalidTitle").into()));
    }
    match &snippet["description"] {
        Value::Null => {}
        Value::String(d) if d.len() <= 5000 && !d.contains(['<', '>']) => {}
        _ => {
            return Err((
                "invalidDescription",
                api_message("invalidDescription").into(),
            ));
        }
    }
    match &snippet["tags"] {
        Value::Null => {}
        Value::Array(tags) => {
            let mut total = 0;
            for tag in tags {
                let Some(tag) = tag.as_str() else {
                    return Err(("invalidTags", api_message("invalidTags").into()));
                };
                // YouTube counts a tag with a space as if quoted.
                total += tag.chars().count() + if tag.contains(' ') { 2 } else { 0 };
            }
            if total > 500 {
                return Err(("invalidTags", api_message("invalidTags").into()));
            }
        }
        _ => return Err(("invalidTags", api_message("invalidTags").into())),
    }
    match &snippet["categoryId"] {
        Value::Null => {}
        Value::String(c) if !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()) => {}
        _ => return Err(("invalidCategoryId", api_message("invalidCategoryId").into())),
    }
    let status = &video["status"];
    let privacy = status["privacyStatus"].as_str();
    if !matches!(privacy, None | Some("private" | "public" | "unlisted")) {
        return Err((
            "invalidVideoMetadata",
            "status.privacyStatus must be private, public or unlisted.".into(),
        ));
    }
    for flag in ["containsSyntheticMedia", "selfDeclaredMadeForKids"] {
        if !matches!(status[flag], Value::Null | Value::Bool(_)) {
            return Err((
                "invalidVideoMetadata",
                format!("status.{flag} must be a boolean."),
            ));
        }
    }
    if let Some(at) = status.get("publishAt") {
        let parsed = at
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok());
        let Some(parsed) = parsed else {
            return Err(("invalidPublishAt", api_message("invalidPublishAt").into()));
        };
        if privacy != Some("private") || parsed <= chrono::Utc::now() {
            return Err(("invalidPublishAt", api_message("invalidPublishAt").into()));
        }
    }
    Ok(())
}

/// `POST /upload/youtube/v3/videos?uploadType=resumable&part=…`: starts a resumable session.
async fn start_upload(
    AxumState(state): AxumState<Arc<State>>,
    Query(q): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let channel = match bearer(&state, &parts.headers, Need::Upload) {
        Ok(channel) => channel,
        Err(refused) => return *refused,
    };
    if param(&q, "uploadType") != "resumable" {
        return bad_request(
            "badRequest",
            "This server supports uploadType=resumable only.",
        );
    }
    let part = param(&q, "part");
    if part.is_empty() {
        return bad_request("missingRequiredParameter", "Required parameter: part");
    }
    if let Some(unknown) = part.split(',').find(|p| !VIDEO_PARTS.contains(&p.trim())) {
        return bad_request("unknownPart", &format!("'{unknown}'"));
    }
    let Ok(total) = header_str(&parts.headers, "x-upload-content-length").parse::<u64>() else {
        return bad_request(
            "badRequest",
            "X-Upload-Content-Length must give the size of the video.",
        );
    };
    if total > MAX_VIDEO_BYTES {
        return google_error(413, "uploadTooLarge", "Media larger than 256GB.");
    }
    let media_type = header_str(&parts.headers, "x-upload-content-type");
    if !(media_type.starts_with("video/") || media_type == "application/octet-stream") {
        return bad_request(
            "badContent",
            &format!(
                "Media type '{media_type}' is not supported. Valid media types: [video/*, application/octet-stream]"
            ),
        );
    }
    if !header_str(&parts.headers, "content-type").starts_with("application/json") {
        return bad_request("parseError", "The metadata must be application/json.");
    }
    let Ok(raw) = axum::body::to_bytes(body, MAX_METADATA_BYTES).await else {
        return bad_request("parseError", "Parse Error");
    };
    let Ok(metadata) = serde_json::from_slice::<Value>(&raw) else {
        return bad_request("parseError", "Parse Error");
    };
    if let Err((reason, message)) = check_video_metadata(&metadata) {
        return bad_request(reason, &message);
    }
    let upload_id = format!("ADPycd{}", uuid::Uuid::new_v4().simple());
    lock(&state.youtube.books).sessions.insert(
        upload_id.clone(),
        UploadSession {
            channel,
            total,
            metadata,
            received: Vec::new(),
            video: None,
        },
    );
    let location = format!(
        "{}/upload/youtube/v3/videos?uploadType=resumable&upload_id={upload_id}&part={part}",
        state.base_url()
    );
    match HeaderValue::from_str(&location) {
        Ok(location) => (
            StatusCode::OK,
            [
                (header::LOCATION, location),
                (
                    header::HeaderName::from_static("x-guploader-uploadid"),
                    HeaderValue::from_str(&upload_id).unwrap_or(HeaderValue::from_static("")),
                ),
            ],
        )
            .into_response(),
        Err(_) => google_error(500, "backendError", "Backend Error"),
    }
}

enum ContentRange {
    /// `bytes */TOTAL`: how much has arrived?
    Query { total: u64 },
    /// `bytes FIRST-LAST/TOTAL`.
    Bytes { first: u64, last: u64, total: u64 },
}

fn parse_content_range(value: &str) -> Option<ContentRange> {
    let spec = value.trim().strip_prefix("bytes ")?;
    let (range, total) = spec.split_once('/')?;
    let total = total.parse().ok()?;
    if range == "*" {
        return Some(ContentRange::Query { total });
    }
    let (first, last) = range.split_once('-')?;
    let (first, last) = (first.parse().ok()?, last.parse().ok()?);
    (first <= last && last < total).then_some(ContentRange::Bytes { first, last, total })
}

/// What the session answers after a PUT: `308` with `Range` while bytes are missing, the video
/// resource once all have arrived.
fn session_answer(books: &mut Books, upload_id: &str) -> Response {
    let Some(session) = books.sessions.get_mut(upload_id) else {
        return google_error(404, "notFound", "Not Found");
    };
    let received = session.received.len() as u64;
    if received < session.total {
        let mut response = StatusCode::PERMANENT_REDIRECT.into_response();
        if received > 0
            && let Ok(range) = HeaderValue::from_str(&format!("bytes=0-{}", received - 1))
        {
            response.headers_mut().insert(header::RANGE, range);
        }
        return response;
    }
    if let Some(video) = &session.video {
        return (StatusCode::OK, axum::Json(video.clone())).into_response();
    }
    let id: String = URL_SAFE_NO_PAD
        .encode(uuid::Uuid::new_v4().as_bytes())
        .chars()
        .take(11)
        .collect();
    let metadata = session.metadata.clone();
    let snippet = &metadata["snippet"];
    let status = &metadata["status"];
    let mut resource = json!({
        "kind": "youtube#video",
        "etag": etag(),
        "id": id,
        "snippet": {
            "publishedAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "channelId": session.channel.id,
            "title": snippet["title"],
            "description": snippet["description"].as_str().unwrap_or(""),
            "thumbnails": thumbnails_for(&id),
            "channelTitle": session.channel.title,
            "tags": snippet["tags"].as_array().cloned().unwrap_or_default(),
            "categoryId": snippet["categoryId"].as_str().unwrap_or("22"),
            "liveBroadcastContent": "none",
            "localized": { "title": snippet["title"], "description": snippet["description"].as_str().unwrap_or("") },
        },
        "status": {
            "uploadStatus": "uploaded",
            "privacyStatus": status["privacyStatus"].as_str().unwrap_or("public"),
            "license": "youtube",
            "embeddable": true,
            "publicStatsViewable": true,
            "madeForKids": status["selfDeclaredMadeForKids"].as_bool().unwrap_or(false),
            "selfDeclaredMadeForKids": status["selfDeclaredMadeForKids"].as_bool().unwrap_or(false),
            "containsSyntheticMedia": status["containsSyntheticMedia"].as_bool().unwrap_or(false),
        },
    });
    if let Some(at) = status.get("publishAt") {
        resource["status"]["publishAt"] = at.clone();
    }
    for key in ["defaultLanguage", "defaultAudioLanguage"] {
        if let Some(lang) = snippet.get(key) {
            resource["snippet"][key] = lang.clone();
        }
    }
    session.video = Some(resource.clone());
    let content = session.received.clone();
    let sha256 = Sha256::digest(&content)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let channel_id = session.channel.id.to_owned();
    books.videos.push(StoredVideo {
        id,
        channel_id,
        metadata,
        resource: resource.clone(),
        content,
        sha256,
    });
    (StatusCode::OK, axum::Json(resource)).into_response()
}

/// Keeps the first half of a chunk as received, for the `DropMidway` fault (a network failure
/// in the middle of a chunk) to drop the connection after.
async fn receive_half(state: &State, upload_id: &str, first: u64, declared: usize, body: Body) {
    let half = declared / 2;
    let mut kept = Vec::with_capacity(half);
    let mut stream = body.into_data_stream();
    while kept.len() < half {
        match stream.next().await {
            Some(Ok(bytes)) => kept.extend_from_slice(&bytes),
            Some(Err(_)) | None => break,
        }
    }
    kept.truncate(half);
    state
        .youtube
        .body_bytes
        .fetch_add(kept.len() as u64, Ordering::SeqCst);
    {
        let mut books = lock(&state.youtube.books);
        if let Some(session) = books.sessions.get_mut(upload_id)
            && session.received.len() as u64 == first
        {
            session.received.extend_from_slice(&kept);
        }
    }
}

/// `PUT {session URI}`: a chunk of the video, or a status query (`Content-Range: bytes */N`).
async fn upload_chunk(
    AxumState(state): AxumState<Arc<State>>,
    Query(q): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    if let Err(refused) = bearer(&state, &parts.headers, Need::Upload) {
        return *refused;
    }
    let upload_id = param(&q, "upload_id").to_owned();
    let Some(range) = parse_content_range(header_str(&parts.headers, "content-range")) else {
        return bad_request(
            "badRequest",
            "Content-Range must be 'bytes */TOTAL' or 'bytes FIRST-LAST/TOTAL'.",
        );
    };
    let (first, total, length) = match range {
        ContentRange::Query { total } => (None, total, 0),
        ContentRange::Bytes { first, last, total } => (Some(first), total, last - first + 1),
    };
    match lock(&state.youtube.books).sessions.get(&upload_id) {
        None => return google_error(404, "notFound", "Not Found"),
        Some(session) if session.total != total => {
            return bad_request(
                "badRequest",
                "The total in Content-Range differs from X-Upload-Content-Length.",
            );
        }
        Some(_) => {}
    }
    if parts.extensions.get::<DropMidway>().is_some() {
        let declared = usize::try_from(length).unwrap_or(usize::MAX);
        receive_half(&state, &upload_id, first.unwrap_or(0), declared, body).await;
        drop_connection();
    }
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return bad_request("badRequest", "The request body could not be read.");
    };
    state
        .youtube
        .body_bytes
        .fetch_add(bytes.len() as u64, Ordering::SeqCst);
    if bytes.len() as u64 != length {
        return bad_request(
            "badRequest",
            "Content-Range does not match the length of the body.",
        );
    }
    let mut books = lock(&state.youtube.books);
    // Bytes that do not continue what arrived are not kept; the answer's Range tells the client
    // where to continue, as Google's session does.
    if let Some(first) = first
        && let Some(session) = books.sessions.get_mut(&upload_id)
        && session.received.len() as u64 == first
        && session.video.is_none()
    {
        session.received.extend_from_slice(&bytes);
    }
    session_answer(&mut books, &upload_id)
}

/// `POST /upload/youtube/v3/thumbnails/set?videoId=…` with the image as the body.
async fn set_thumbnail(
    AxumState(state): AxumState<Arc<State>>,
    Query(q): Query<HashMap<String, String>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let channel = match bearer(&state, &parts.headers, Need::Upload) {
        Ok(channel) => channel,
        Err(refused) => return *refused,
    };
    let video_id = param(&q, "videoId").to_owned();
    if video_id.is_empty() {
        return bad_request("missingRequiredParameter", "Required parameter: videoId");
    }
    let content_type = header_str(&parts.headers, "content-type");
    if !matches!(
        content_type,
        "image/jpeg" | "image/png" | "application/octet-stream"
    ) {
        return bad_request(
            "badContent",
            &format!(
                "Media type '{content_type}' is not supported. Valid media types: [image/jpeg, image/png, application/octet-stream]"
            ),
        );
    }
    let Ok(image) = axum::body::to_bytes(body, 4 * MAX_THUMBNAIL_BYTES).await else {
        return google_error(413, "uploadTooLarge", "Media larger than 2097152 bytes.");
    };
    if image.len() > MAX_THUMBNAIL_BYTES {
        return google_error(413, "uploadTooLarge", "Media larger than 2097152 bytes.");
    }
    if image.is_empty() {
        return bad_request("mediaBodyRequired", api_message("mediaBodyRequired"));
    }
    if !(image.starts_with(&[0xFF, 0xD8, 0xFF]) || image.starts_with(b"\x89PNG\r\n\x1a\n")) {
        return bad_request("invalidImage", api_message("invalidImage"));
    }
    let mut books = lock(&state.youtube.books);
    let Some(video) = books.videos.iter().find(|v| v.id == video_id) else {
        return google_error(404, "videoNotFound", api_message("videoNotFound"));
    };
    // Only the channel that owns a video may set its thumbnail.
    if video.channel_id != channel.id {
        return google_error(403, "forbidden", api_message("forbidden"));
    }
    books.thumbnails.insert(video_id.clone(), image.to_vec());
    axum::Json(json!({
        "kind": "youtube#thumbnailSetResponse",
        "etag": etag(),
        "items": [thumbnails_for(&video_id)],
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_only() {
        assert!(is_loopback("http://127.0.0.1:8765/callback"));
        assert!(is_loopback("http://[::1]:8765"));
        assert!(is_loopback("http://localhost:9000/"));
        assert!(!is_loopback("https://127.0.0.1:8765/"));
        assert!(!is_loopback("http://example.com/callback"));
        assert!(!is_loopback("http://127.0.0.1.example.com/"));
    }

    #[test]
    fn content_ranges_parse() {
        assert!(matches!(
            parse_content_range("bytes */100"),
            Some(ContentRange::Query { total: 100 })
        ));
        assert!(matches!(
            parse_content_range("bytes 0-49/100"),
            Some(ContentRange::Bytes {
                first: 0,
                last: 49,
                total: 100
            })
        ));
        assert!(parse_content_range("bytes 50-100/100").is_none());
        assert!(parse_content_range("bytes 10-5/100").is_none());
        assert!(parse_content_range("0-5/100").is_none());
    }
}
