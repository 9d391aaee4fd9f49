//! Google OAuth 2.0 for installed apps: authorization code with PKCE (S256) and a loopback
//! redirect, then refresh-token renewals. Implemented on the one `ApiClient` (two form POSTs)
//! rather than with the `oauth2` crate, so the token calls get the same timeout, log line,
//! metrics and error mapping as every other call.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};

use super::{OAUTH_CODES, YoutubeTokens, now_ms};
use crate::cloud::CloudContext;
use crate::cloud::http::{ApiClient, Reply};

/// Upload videos and thumbnails; read the channel (for `channels.list mine=true`).
pub const SCOPES: [&str; 2] = [
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
];

/// One login in progress: the URL to open in the browser, and what proves the answer belongs
/// to it (the `state`) and to this process (the PKCE verifier).
#[derive(Clone, Debug)]
pub struct LoginRequest {
    pub authorize_url: String,
    pub redirect_uri: String,
    state: String,
    verifier: Secret,
}

impl LoginRequest {
    /// The `state` Google sends back with the answer: what a server with several logins in
    /// flight finds this one by.
    pub fn state(&self) -> &str {
        &self.state
    }
}

/// What the browser brought back to the loopback redirect.
#[derive(Clone, Debug, PartialEq)]
pub struct LoginCallback {
    pub state: String,
    pub code: String,
}

/// 32 random bytes, base64url: UUID v4 takes its randomness from the OS generator.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    bytes[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
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

/// Starts a login: `redirect_uri` is the loopback address (`http://127.0.0.1:PORT/…`) the caller
/// listens on for the browser's return.
pub fn begin_login(ctx: &CloudContext, client_id: &str, redirect_uri: &str) -> LoginRequest {
    let state = random_token();
    let verifier = Secret::new(random_token());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.expose().as_bytes()));
    let scope = SCOPES.join(" ");
    let params = [
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", scope.as_str()),
        // A refresh token is what keeps the account linked; `prompt=consent` makes Google issue
        // one even when the user consented before.
        ("access_type", "offline"),
        ("prompt", "consent"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", state.as_str()),
    ];
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    let base = &ctx.endpoints.oauth_authorize;
    let separator = if base.contains('?') { '&' } else { '?' };
    LoginRequest {
        authorize_url: format!("{base}{separator}{}", query.join("&")),
        redirect_uri: redirect_uri.to_owned(),
        state,
        verifier,
    }
}

fn login_failed(message: impl Into<String>) -> YtError {
    YtError::new(ErrorCode::YOUTUBE_LOGIN_FAILED, message)
}

/// Reads the loopback redirect: a full URL, or the request target (`/callback?code=…&state=…`).
/// Google's `error=access_denied` (consent refused) and a missing code are `YOUTUBE_LOGIN_FAILED`.
pub fn parse_redirect(target: &str) -> YtResult<LoginCallback> {
    let absolute = if target.starts_with('/') {
        format!("http://127.0.0.1{target}")
    } else {
        target.to_owned()
    };
    let url = reqwest::Url::parse(&absolute)
        .map_err(|e| login_failed(format!("the login redirect is not a URL: {e}")))?;
    let mut state = None;
    let mut code = None;
    let mut error = None;
    for (key, value) in url.query_pairs() {
        match key.as_ref() {
            "state" => state = Some(value.into_owned()),
            "code" => code = Some(value.into_owned()),
            "error" => error = Some(value.into_owned()),
            _ => {}
        }
    }
    if let Some(error) = error {
        let what = if error == "access_denied" {
            "the access was not approved on Google's consent page".to_owned()
        } else {
            format!("Google answered the login with {error}")
        };
        return Err(login_failed(what).detail("error", error));
    }
    match (state, code) {
        (Some(state), Some(code)) if !code.is_empty() => Ok(LoginCallback { state, code }),
        _ => Err(login_failed(
            "the login redirect carries no authorization code",
        )),
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: i64,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scope: Option<String>,
}

/// The token endpoint's error body (`{"error": "invalid_grant", "error_description": …}`).
#[derive(Default, Deserialize)]
struct OauthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Maps a token-endpoint refusal: 429 and 5xx are the service's; any other refusal is `refused`.
fn token_error(api: &ApiClient, reply: &Reply, refused: ErrorCode, what: &str) -> YtError {
    let body: OauthError = serde_json::from_slice(&reply.body).unwrap_or_default();
    let code = match reply.status {
        429 => ErrorCode::YOUTUBE_RATE_LIMIT,
        500.. => ErrorCode::YOUTUBE_SERVER_ERROR,
        _ => refused,
    };
    let mut message = format!("Google's token endpoint refused {what}");
    if !body.error.is_empty() {
        message.push_str(&format!(": {}", body.error));
    }
    let mut err = api.error(code, reply, message);
    if body.error.is_empty() {
        err = reply.describe_body(err);
    } else {
        err = err
            .detail("error", body.error)
            .detail("error_description", body.error_description);
    }
    err
}

async fn post_token(ctx: &CloudContext, form: &[(&str, &str)]) -> YtResult<(ApiClient, Reply)> {
    let api = ApiClient::new(ctx, &OAUTH_CODES);
    let request = ctx.http.post(&ctx.endpoints.oauth_token).form(form);
    let reply = api
        .send("oauth.token", request, ctx.timeouts.request)
        .await?;
    Ok((api, reply))
}

/// Completes a login: checks the `state` Google sent back, then exchanges the code (with the
/// PKCE verifier) for tokens.
pub async fn finish_login(
    ctx: &CloudContext,
    login: &LoginRequest,
    client_id: &str,
    client_secret: Option<&Secret>,
    returned_state: &str,
    code: &str,
) -> YtResult<YoutubeTokens> {
    if returned_state != login.state {
        return Err(login_failed(
            "the login answer does not belong to this login (state mismatch); start the login again",
        ));
    }
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", client_id),
        ("redirect_uri", login.redirect_uri.as_str()),
        ("code_verifier", login.verifier.expose()),
    ];
    if let Some(secret) = client_secret {
        form.push(("client_secret", secret.expose()));
    }
    let (api, reply) = post_token(ctx, &form).await?;
    if !reply.is_success() {
        return Err(token_error(
            &api,
            &reply,
            ErrorCode::YOUTUBE_LOGIN_FAILED,
            "the authorization code",
        ));
    }
    let answer: TokenResponse = api.json(&reply)?;
    let Some(refresh_token) = answer.refresh_token else {
        return Err(api.invalid(&reply, "no refresh_token in the code exchange"));
    };
    Ok(YoutubeTokens {
        client_id: client_id.to_owned(),
        client_secret: client_secret.cloned(),
        access_token: Secret::new(answer.access_token),
        refresh_token: Secret::new(refresh_token),
        expires_at_ms: now_ms() + answer.expires_in.saturating_mul(1000),
        scope: answer.scope.unwrap_or_else(|| SCOPES.join(" ")),
    })
}

/// A new access token from the refresh token; a refusal (revoked or expired grant, deleted
/// client) is `YOUTUBE_REFRESH_FAILED`: the account must be linked again.
pub(super) async fn refresh(ctx: &CloudContext, tokens: &YoutubeTokens) -> YtResult<YoutubeTokens> {
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", tokens.refresh_token.expose()),
        ("client_id", tokens.client_id.as_str()),
    ];
    if let Some(secret) = &tokens.client_secret {
        form.push(("client_secret", secret.expose()));
    }
    let (api, reply) = post_token(ctx, &form).await?;
    if !reply.is_success() {
        return Err(token_error(
            &api,
            &reply,
            ErrorCode::YOUTUBE_REFRESH_FAILED,
            "the refresh token",
        ));
    }
    let answer: TokenResponse = api.json(&reply)?;
    Ok(YoutubeTokens {
        client_id: tokens.client_id.clone(),
        client_secret: tokens.client_secret.clone(),
        access_token: Secret::new(answer.access_token),
        // Google may rotate the refresh token; otherwise the old one stays valid.
        refresh_token: answer
            .refresh_token
            .map_or_else(|| tokens.refresh_token.clone(), Secret::new),
        expires_at_ms: now_ms() + answer.expires_in.saturating_mul(1000),
        scope: answer.scope.unwrap_or_else(|| tokens.scope.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::{Endpoints, Timeouts};

    #[test]
    fn login_url_carries_pkce_and_scopes() {
        let ctx = CloudContext::new(Endpoints::default(), Timeouts::default()).unwrap();
        let login = begin_login(&ctx, "client.apps", "http://127.0.0.1:8765/cb");
        let url = reqwest::Url::parse(&login.authorize_url).unwrap();
        assert_eq!(url.host_str(), Some("accounts.google.com"));
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:8765/cb");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(
            q["code_challenge"],
            URL_SAFE_NO_PAD.encode(Sha256::digest(login.verifier.expose().as_bytes()))
        );
        assert_eq!(q["scope"], SCOPES.join(" "));
        assert_eq!(q["state"], login.state);
        assert_eq!(login.verifier.expose().len(), 43);
        let other = begin_login(&ctx, "client.apps", "http://127.0.0.1:8765/cb");
        assert_ne!(other.state, login.state);
        assert_ne!(other.verifier, login.verifier);
    }

    #[test]
    fn redirects_are_read() {
        let ok = parse_redirect("/cb?state=s%2B1&code=4%2F0abc&scope=x").unwrap();
        assert_eq!(ok.state, "s+1");
        assert_eq!(ok.code, "4/0abc");
        let denied =
            parse_redirect("http://127.0.0.1:1/cb?error=access_denied&state=s").unwrap_err();
        assert_eq!(denied.code, ErrorCode::YOUTUBE_LOGIN_FAILED);
        assert_eq!(denied.details["error"], "access_denied");
        assert_eq!(
            parse_redirect("/cb?state=s").unwrap_err().code,
            ErrorCode::YOUTUBE_LOGIN_FAILED
        );
    }
}
