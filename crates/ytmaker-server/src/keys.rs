//! `/api/v1/keys` and `/api/v1/youtube`: the cloud providers' keys and the linked YouTube
//! accounts. Keys and tokens go in and never come out: every answer carries only a masked hint,
//! and an account only its channel id, title, link time and whether it is the default.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Html;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use ytmaker_core::config::ProviderKind;
use ytmaker_core::{ErrorCode, Secret, YtError};
use ytmaker_pipeline::youtube_accounts;
use ytmaker_providers::cloud::youtube::{self, LoginRequest};

use crate::AppState;
use crate::error::{ApiJson, ApiPath, ApiResult, ErrorBody, invalid};
use crate::openapi::ProviderErrors;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys))
        .routes(routes!(set_key, delete_key))
        .routes(routes!(test_key))
        .routes(routes!(start_login))
        .routes(routes!(login_callback))
        .routes(routes!(channel, unlink))
        .routes(routes!(list_accounts))
        .routes(routes!(set_default_account))
        .routes(routes!(remove_account))
        .routes(routes!(gemini_models))
}

#[derive(Serialize, ToSchema)]
pub struct Models {
    /// What `llm_model` may name: the Gemini models that can write the script.
    #[schema(value_type = Vec<Object>)]
    models: Vec<ytmaker_providers::cloud::gemini::GeminiModel>,
    default_model: &'static str,
}

#[utoipa::path(get, path = "/api/v1/providers/gemini/models", tag = "keys",
    responses((status = 200, body = Models), ProviderErrors))]
async fn gemini_models(State(s): State<AppState>) -> ApiResult<Json<Models>> {
    let key = s.cloud.key(ProviderKind::Gemini)?;
    let models = ytmaker_providers::cloud::gemini::list_models(&s.cloud.ctx, &key).await?;
    Ok(Json(Models {
        models,
        default_model: ytmaker_providers::cloud::gemini::DEFAULT_MODEL,
    }))
}

/// Logins started through the API and not finished yet, by their `state`.
#[derive(Clone, Default)]
pub(crate) struct PendingLogins(Arc<Mutex<HashMap<String, PendingLogin>>>);

struct PendingLogin {
    request: LoginRequest,
    client_id: String,
    client_secret: Option<Secret>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyStatus {
    /// `gemini`, `openai_compatible`, `google_tts`, `stability`, `did` or `youtube`.
    provider: String,
    stored: bool,
    /// Length and last characters only; never the key.
    hint: Option<String>,
    /// `openai_compatible`: the server (`scheme://host:port`) the key is sent to, and only to.
    server: Option<String>,
}

/// The longest key or OAuth client id accepted.
const MAX_KEY_CHARS: usize = 4096;
const MAX_CLIENT_ID_CHARS: usize = 512;

fn keyed_param() -> utoipa::openapi::Object {
    crate::openapi::fields::one_of(ytmaker_pipeline::KEYED_PROVIDERS.iter().map(|k| k.as_str()))
}

fn tested_param() -> utoipa::openapi::Object {
    crate::openapi::fields::one_of(
        ytmaker_pipeline::KEYED_PROVIDERS
            .iter()
            .chain([&ProviderKind::Youtube])
            .map(|k| k.as_str()),
    )
}

fn key_value() -> utoipa::openapi::Object {
    crate::openapi::fields::text(1, MAX_KEY_CHARS).build()
}

fn client_id() -> utoipa::openapi::Object {
    crate::openapi::fields::text(1, MAX_CLIENT_ID_CHARS).build()
}

/// `{provider}` of the routes of a stored key.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct KeyedProvider {
    /// A provider that takes a key.
    #[param(schema_with = keyed_param, required = true)]
    provider: String,
}

/// `{provider}` of the key test.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct TestedProvider {
    /// A provider that takes a key, or `youtube` (the linked account).
    #[param(schema_with = tested_param, required = true)]
    provider: String,
}

fn keyed(provider: &str) -> Result<ProviderKind, crate::error::ApiError> {
    ytmaker_pipeline::KEYED_PROVIDERS
        .into_iter()
        .find(|k| k.as_str() == provider)
        .ok_or_else(|| {
            invalid(
                "provider",
                "one of gemini, openai_compatible, google_tts, stability, did",
                provider,
            )
        })
}

#[utoipa::path(get, path = "/api/v1/keys", tag = "keys",
    responses((status = 200, body = Vec<KeyStatus>)))]
async fn list_keys(State(s): State<AppState>) -> ApiResult<Json<Vec<KeyStatus>>> {
    let stored = s.cloud.secrets.list()?;
    let llm_server = s.cloud.llm_key_server()?;
    let all = ytmaker_pipeline::KEYED_PROVIDERS
        .iter()
        .chain([&ProviderKind::Youtube])
        .map(|kind| {
            // YouTube accounts are stored under `youtube:<channel id>`.
            let hint = stored.iter().find(|h| {
                h.name == kind.as_str()
                    || (*kind == ProviderKind::Youtube && h.name.starts_with("youtube:"))
            });
            KeyStatus {
                provider: kind.as_str().to_owned(),
                stored: hint.is_some(),
                server: llm_server
                    .clone()
                    .filter(|_| *kind == ProviderKind::OpenaiCompatible),
                // The linked account's tokens are not a key to hint at.
                hint: hint
                    .filter(|_| *kind != ProviderKind::Youtube)
                    .map(|h| h.hint.clone()),
            }
        })
        .collect();
    Ok(Json(all))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyBody {
    /// The API key (white space at either end is dropped); stored encrypted, never returned.
    #[schema(schema_with = key_value)]
    value: String,
    /// With `openai_compatible` only (another provider refuses it: 422): the base URL of the
    /// server the key is for (default: the server's `[llm].base_url`). The key is sent to that
    /// server (scheme, host and port) and no other, whatever a project's `llm.base_url` says.
    #[schema(schema_with = base_url_value)]
    base_url: Option<String>,
}

/// The same rule as a configuration's `llm.base_url`.
fn base_url_value() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    crate::openapi::fields::text(1, ytmaker_core::config::MAX_BASE_URL_CHARS)
        .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
        .pattern(ytmaker_core::config::Rule::BaseUrl.pattern())
        .build()
}

#[utoipa::path(put, path = "/api/v1/keys/{provider}", tag = "keys", request_body = KeyBody,
    params(KeyedProvider),
    responses((status = 200, body = KeyStatus), (status = 422, body = ErrorBody)))]
async fn set_key(
    State(s): State<AppState>,
    ApiPath(KeyedProvider { provider }): ApiPath<KeyedProvider>,
    ApiJson(body): ApiJson<KeyBody>,
) -> ApiResult<Json<KeyStatus>> {
    let kind = keyed(&provider)?;
    let chars = body.value.chars().count();
    if body.value.trim().is_empty() || chars > MAX_KEY_CHARS {
        return Err(invalid(
            "value",
            &format!("1–{MAX_KEY_CHARS} characters, not all white space"),
            chars,
        ));
    }
    let key = Secret::new(body.value.trim());
    let server = match (kind, body.base_url) {
        (ProviderKind::OpenaiCompatible, None) => Some(s.default_config.llm.base_url.clone()),
        (_, url) => url,
    };
    s.cloud.set_key(kind, &key, server.as_deref())?;
    tracing::info!(
        provider = kind.as_str(),
        server = server.as_deref(),
        "key stored"
    );
    Ok(Json(KeyStatus {
        provider,
        stored: true,
        hint: Some(key.hint()),
        server: s
            .cloud
            .llm_key_server()?
            .filter(|_| kind == ProviderKind::OpenaiCompatible),
    }))
}

#[utoipa::path(delete, path = "/api/v1/keys/{provider}", tag = "keys",
    params(KeyedProvider),
    responses((status = 204), (status = 404, body = ErrorBody, description = "NOT_FOUND: no key is stored for this provider"),
        (status = 422, body = ErrorBody, description = "VALIDATION_ERROR: not a provider that takes a key")))]
async fn delete_key(
    State(s): State<AppState>,
    ApiPath(KeyedProvider { provider }): ApiPath<KeyedProvider>,
) -> ApiResult<StatusCode> {
    let kind = keyed(&provider)?;
    if s.cloud.delete_key(kind)? {
        tracing::info!(provider = kind.as_str(), "key deleted");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(YtError::new(
            ErrorCode::NOT_FOUND,
            format!("no key is stored for {provider}"),
        )
        .detail("provider", provider)
        .into())
    }
}

#[derive(Serialize, ToSchema)]
pub struct KeyTest {
    provider: String,
    /// What the provider answered to its cheapest real call.
    message: String,
}

#[utoipa::path(post, path = "/api/v1/keys/{provider}/test", tag = "keys",
    params(TestedProvider),
    responses((status = 200, body = KeyTest), (status = 422, body = ErrorBody, description = "VALIDATION_ERROR: not a provider that can be tested"), ProviderErrors))]
async fn test_key(
    State(s): State<AppState>,
    ApiPath(TestedProvider { provider }): ApiPath<TestedProvider>,
) -> ApiResult<Json<KeyTest>> {
    let kind = if provider == ProviderKind::Youtube.as_str() {
        ProviderKind::Youtube
    } else {
        keyed(&provider)?
    };
    // The OpenAI-compatible server tested is the one of the server's configuration (`[llm]`).
    let message =
        ytmaker_pipeline::test_key(&s.cloud, &s.store, kind, &s.default_config.llm).await?;
    Ok(Json(KeyTest { provider, message }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// The OAuth client id of a Google Cloud "Desktop app" client with the YouTube Data API
    /// (white space at either end is dropped).
    #[schema(schema_with = client_id)]
    client_id: String,
    /// Its client secret, when the client has one; stored encrypted with the tokens.
    client_secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginStarted {
    /// Open this in the browser; Google sends the answer back to this server.
    authorize_url: String,
}

#[utoipa::path(post, path = "/api/v1/youtube/login", tag = "youtube", request_body = LoginBody,
    responses((status = 200, body = LoginStarted), (status = 422, body = ErrorBody)))]
async fn start_login(
    State(s): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Json<LoginStarted>> {
    let chars = body.client_id.chars().count();
    if body.client_id.trim().is_empty() || chars > MAX_CLIENT_ID_CHARS {
        return Err(invalid(
            "client_id",
            &format!("1–{MAX_CLIENT_ID_CHARS} characters, not all white space"),
            chars,
        ));
    }
    let client_id = body.client_id.trim().to_owned();
    let redirect_uri = format!("http://{}/api/v1/youtube/callback", s.addr);
    let request = youtube::begin_login(&s.cloud.ctx, &client_id, &redirect_uri);
    let authorize_url = request.authorize_url.clone();
    let mut pending = s.logins.0.lock().unwrap_or_else(|e| e.into_inner());
    pending.insert(
        request.state().to_owned(),
        PendingLogin {
            request,
            client_id,
            client_secret: body
                .client_secret
                .filter(|c| !c.is_empty())
                .map(Secret::new),
        },
    );
    Ok(Json(LoginStarted { authorize_url }))
}

#[utoipa::path(get, path = "/api/v1/youtube/callback", tag = "youtube",
    params(("state" = Option<String>, Query, description = "the login's state, as Google sends it back"),
           ("code" = Option<String>, Query, description = "the authorization code (absent when the login was refused)"),
           ("error" = Option<String>, Query, description = "Google's refusal, e.g. access_denied (YOUTUBE_LOGIN_FAILED)")),
    responses((status = 200, description = "an HTML page saying the account is linked", content_type = "text/html"), ProviderErrors))]
async fn login_callback(
    State(s): State<AppState>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult<Html<String>> {
    let target = format!(
        "/callback?{}",
        query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&")
    );
    let answer = youtube::parse_redirect(&target)?;
    let pending = s
        .logins
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&answer.state)
        .ok_or_else(|| {
            YtError::new(
                ErrorCode::YOUTUBE_LOGIN_FAILED,
                "this sign-in answer belongs to no login started here; start the login again",
            )
        })?;
    let tokens = youtube::finish_login(
        &s.cloud.ctx,
        &pending.request,
        &pending.client_id,
        pending.client_secret.as_ref(),
        &answer.state,
        &answer.code,
    )
    .await?;
    let account = youtube_accounts::link(&s.cloud, &s.store, tokens).await?;
    Ok(Html(format!(
        "<!DOCTYPE html><meta charset=utf-8><title>ytmaker</title><p>Linked to the YouTube channel {} ({}). You can close this tab.</p>",
        html_escape(&account.channel_title),
        html_escape(&account.channel_id)
    )))
}

#[derive(Serialize, ToSchema)]
pub struct Channel {
    id: String,
    title: String,
}

/// The default account's channel, as YouTube answers for its tokens (a real call).
#[utoipa::path(get, path = "/api/v1/youtube/channel", tag = "youtube",
    responses((status = 200, body = Channel), ProviderErrors))]
async fn channel(State(s): State<AppState>) -> ApiResult<Json<Channel>> {
    let tokens = s.cloud.youtube_tokens(&s.store, None);
    let c = youtube::channel(&s.cloud.ctx, tokens.as_ref()).await?;
    Ok(Json(Channel {
        id: c.id,
        title: c.title,
    }))
}

/// Unlinks the default account (the earliest linked other one becomes the default), or the
/// account an earlier version linked when YouTube refused to import it.
#[utoipa::path(delete, path = "/api/v1/youtube/channel", tag = "youtube",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn unlink(State(s): State<AppState>) -> ApiResult<StatusCode> {
    if youtube_accounts::remove_legacy(&s.cloud)? {
        return Ok(StatusCode::NO_CONTENT);
    }
    match s.store.default_youtube_account().await? {
        Some(account) => {
            youtube_accounts::remove(&s.cloud, &s.store, &account.channel_id).await?;
            Ok(StatusCode::NO_CONTENT)
        }
        None => Err(YtError::new(ErrorCode::NOT_FOUND, "no YouTube account is linked").into()),
    }
}

/// A linked YouTube account. Its tokens stay in the encrypted key store and are never shown.
#[derive(Serialize, ToSchema)]
pub struct YoutubeAccountView {
    /// `UC` and 22 characters.
    channel_id: String,
    channel_title: String,
    /// RFC 3339 UTC, when it was (last) linked.
    linked_at: String,
    /// Projects that chose no account upload with the default one.
    is_default: bool,
}

impl From<ytmaker_store::YoutubeAccount> for YoutubeAccountView {
    fn from(a: ytmaker_store::YoutubeAccount) -> Self {
        YoutubeAccountView {
            channel_id: a.channel_id,
            channel_title: a.channel_title,
            linked_at: a.linked_at,
            is_default: a.is_default,
        }
    }
}

/// The linked accounts, the earliest linked first. An account an earlier version linked is
/// imported first (one `channels.list` call).
#[utoipa::path(get, path = "/api/v1/youtube/accounts", tag = "youtube",
    responses((status = 200, body = Vec<YoutubeAccountView>), ProviderErrors))]
async fn list_accounts(State(s): State<AppState>) -> ApiResult<Json<Vec<YoutubeAccountView>>> {
    let accounts = youtube_accounts::accounts(&s.cloud, &s.store).await?;
    Ok(Json(accounts.into_iter().map(Into::into).collect()))
}

#[utoipa::path(put, path = "/api/v1/youtube/accounts/{channel_id}/default", tag = "youtube",
    params(("channel_id" = String, Path, description = "a linked account's channel id")),
    responses((status = 200, body = YoutubeAccountView), (status = 404, body = ErrorBody, description = "NOT_FOUND: no linked account has this channel id"), ProviderErrors))]
async fn set_default_account(
    State(s): State<AppState>,
    ApiPath(channel_id): ApiPath<String>,
) -> ApiResult<Json<YoutubeAccountView>> {
    youtube_accounts::account(&s.cloud, &s.store, &channel_id).await?;
    let account = s.store.set_default_youtube_account(&channel_id).await?;
    tracing::info!(
        channel_id = channel_id.as_str(),
        "default youtube account set"
    );
    Ok(Json(account.into()))
}

/// Unlinks an account: its tokens and its row. When it was the default, the earliest linked
/// other account becomes the default.
#[utoipa::path(delete, path = "/api/v1/youtube/accounts/{channel_id}", tag = "youtube",
    params(("channel_id" = String, Path, description = "a linked account's channel id")),
    responses((status = 204), (status = 404, body = ErrorBody, description = "NOT_FOUND: no linked account has this channel id"), ProviderErrors))]
async fn remove_account(
    State(s): State<AppState>,
    ApiPath(channel_id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    youtube_accounts::remove(&s.cloud, &s.store, &channel_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
