//! The layers requests pass: [`observe`] (trace id, request log line, metrics, and rendering of
//! every error body), [`guard`] (Host/Origin check, SPEC §8) and [`require_token`] (the access
//! token, on the routes but not on the UI's files).

use std::time::Instant;

use axum::Json;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;
use ytmaker_core::error::Lang;
use ytmaker_core::{ErrorCode, TraceId, YtError};

use crate::AppState;
use crate::error::{ApiError, PendingError, error_body, error_for_bare_status};

pub const TRACE_HEADER: &str = "x-trace-id";

/// The trace id of the request being served; handlers take it as an extension.
#[derive(Clone, Debug)]
pub struct RequestTrace(pub TraceId);

/// The caller's language for solutions and messages (from `Accept-Language`).
#[derive(Clone, Copy, Debug)]
pub struct RequestLang(pub Lang);

/// `X-Trace-Id` if it is a well-formed id, else the trace-id field of a W3C `traceparent`
/// (`00-<32 hex>-<16 hex>-<2 hex>`), else a new one.
pub fn trace_from_headers(headers: &HeaderMap) -> TraceId {
    let header_str = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(id) = header_str(TRACE_HEADER).and_then(TraceId::parse) {
        return id;
    }
    if let Some(tp) = header_str("traceparent") {
        let parts: Vec<&str> = tp.trim().split('-').collect();
        if parts.len() == 4
            && parts[1].len() == 32
            && parts[1].chars().all(|c| c.is_ascii_hexdigit())
            && parts[1] != "00000000000000000000000000000000"
            && let Some(id) = TraceId::parse(&parts[1].to_ascii_lowercase())
        {
            return id;
        }
    }
    TraceId::generate()
}

fn lang_from_headers(headers: &HeaderMap, default: Lang) -> Lang {
    let Some(raw) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return default;
    };
    let first = raw
        .split(',')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if first.starts_with("zh") {
        Lang::ZhTw
    } else if first.starts_with("en") {
        Lang::En
    } else {
        default
    }
}

pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let trace = trace_from_headers(req.headers());
    let lang = lang_from_headers(req.headers(), state.lang);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    req.extensions_mut().insert(RequestTrace(trace.clone()));
    req.extensions_mut().insert(RequestLang(lang));
    let span = tracing::info_span!("http", trace_id = %trace, method = %method, path = %path);
    let mut response = match check_request_size(&req) {
        Ok(()) => next.run(req).instrument(span.clone()).await,
        Err(err) => ApiError(err).into_response(),
    };

    let route = response
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let status = response.status();
    let pending = response.extensions_mut().remove::<PendingError>();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let error = match pending {
        Some(PendingError(err)) => Some(err),
        None if (status.is_client_error() || status.is_server_error()) && !is_json => {
            Some(error_for_bare_status(status, &path))
        }
        None => None,
    };
    let error_code = error.as_ref().map(|e| e.code);
    if let Some(err) = error {
        let body = error_body(&err, &trace, lang);
        let keep = response.headers().clone();
        response = (status, Json(body)).into_response();
        for name in [
            header::ALLOW,
            header::CONTENT_RANGE,
            header::WWW_AUTHENTICATE,
        ] {
            if let Some(v) = keep.get(&name) {
                response.headers_mut().insert(name, v.clone());
            }
        }
    }
    if let Ok(v) = HeaderValue::from_str(trace.as_str()) {
        response.headers_mut().insert(TRACE_HEADER, v);
    }

    let elapsed = started.elapsed();
    // Unmatched paths are one label, so a scan of random URLs cannot blow up the metric.
    let route_label = route.unwrap_or_else(|| "unmatched".into());
    metrics::counter!(ytmaker_core::metric::HTTP_REQUESTS_TOTAL, "method" => method.to_string(), "route" => route_label.clone(), "status" => status.as_u16().to_string()).increment(1);
    metrics::histogram!(ytmaker_core::metric::HTTP_REQUEST_DURATION_SECONDS, "method" => method.to_string(), "route" => route_label).record(elapsed.as_secs_f64());
    let _enter = span.enter();
    let duration_ms = elapsed.as_millis() as u64;
    match error_code {
        Some(code) if status.is_server_error() => {
            tracing::error!(status = status.as_u16(), duration_ms, error_code = %code, "request failed")
        }
        Some(code) => {
            tracing::warn!(status = status.as_u16(), duration_ms, error_code = %code, "request refused")
        }
        None => tracing::info!(status = status.as_u16(), duration_ms, "request served"),
    }
    response
}

/// Runs after routing: hands the matched route template to [`observe`] for metric labels.
pub async fn matched_route(req: Request, next: Next) -> Response {
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(req).await;
    if let Some(m) = matched {
        response.extensions_mut().insert(m);
    }
    response
}

/// Refuses requests whose Host or Origin is not this server (DNS rebinding, cross-site
/// requests). Covers everything served, the UI's files included.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if let Err(err) = check_origin(&state, &req) {
        return ApiError(err).into_response();
    }
    next.run(req).await
}

/// Routes served without the access token: the error catalogue, which is documentation (the same
/// text as `ytmaker errors`, holding no data), so the UI can explain a refused token — the
/// UNAUTHORIZED guide included — on the sign-in screen, before it has a token.
pub(crate) const ROUTES_WITHOUT_TOKEN: [&str; 2] =
    ["/api/v1/system/errors", "/api/v1/system/errors/{code}"];

/// When the server has an access token, refuses requests without it. Layered on the routes only
/// (the API, the WebSocket, `/metrics`), not on the fallback that serves the UI's files: those
/// hold no data, and the browser must be able to load the page that asks for the token.
///
/// The token comes as `Authorization: Bearer …` or, for what a browser cannot send headers with
/// (the WebSocket, `<video src>`, download links), as the query value `access_token`. That value
/// is removed from the URI before the handler runs, so no handler sees it and none refuses it as
/// an unknown query field; the request log line holds the path only, never the query.
pub async fn require_token(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let query_token = match strip_query_token(&mut req) {
        Ok(token) => token,
        Err(err) => return ApiError(err).into_response(),
    };
    let public = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|m| ROUTES_WITHOUT_TOKEN.contains(&m.as_str()));
    if let Some(expected) = state.security.token.as_ref().filter(|_| !public) {
        // RFC 9110 §11.1: the scheme name is case-insensitive ("bearer", "BEARER").
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim().to_owned());
        let given = bearer.or(query_token).unwrap_or_default();
        if !constant_time_eq(given.as_bytes(), expected.as_bytes()) {
            let mut refused = ApiError(
                YtError::new(
                    ErrorCode::UNAUTHORIZED,
                    "this server requires its access token",
                )
                .detail("header", "Authorization"),
            )
            .into_response();
            // RFC 9110 §11.6.1: a 401 names the scheme that would be accepted.
            refused.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"ytmaker\""),
            );
            return refused;
        }
    }
    next.run(req).await
}

/// Takes `access_token` out of the request's query and answers its (percent-decoded) value.
fn strip_query_token(req: &mut Request) -> Result<Option<String>, YtError> {
    #[derive(serde::Deserialize)]
    struct TokenQuery {
        access_token: Option<String>,
    }
    let Some(query) = req.uri().query() else {
        return Ok(None);
    };
    let is_token = |kv: &&str| kv.split('=').next() == Some("access_token");
    if !query.split('&').any(|kv| is_token(&kv)) {
        return Ok(None);
    }
    // A query that does not parse as a form still has its token pair removed; the handler's own
    // query extractor reports what is wrong with the rest.
    let token = axum::extract::Query::<TokenQuery>::try_from_uri(req.uri())
        .ok()
        .and_then(|q| q.0.access_token);
    let rest: Vec<&str> = query.split('&').filter(|kv| !is_token(kv)).collect();
    let path = req.uri().path();
    let path_and_query = if rest.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", rest.join("&"))
    };
    // The rest of a query that was valid is valid; should it not be, the request is refused
    // rather than passed on with the token still in it.
    let rebuilt = path_and_query
        .parse::<axum::http::uri::PathAndQuery>()
        .map_err(|e| e.to_string())
        .and_then(|pq| {
            let mut parts = req.uri().clone().into_parts();
            parts.path_and_query = Some(pq);
            axum::http::Uri::from_parts(parts).map_err(|e| e.to_string())
        })
        .map_err(|reason| {
            YtError::new(
                ErrorCode::REQUEST_MALFORMED,
                format!("the request URI without its access token is not valid: {reason}"),
            )
        })?;
    *req.uri_mut() = rebuilt;
    Ok(token)
}

/// The longest path and query the server reads, in bytes (below hyper's own 64 KiB, so that
/// a longer one gets the JSON error, a trace id and a log line, not hyper's bare 414).
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// The most header bytes (names and values) and headers a request may carry; hyper's own
/// limits (about 400 KiB, 100 headers) are above the first, and answer a bare 431 past them.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
pub const MAX_HEADERS: usize = 96;

/// `REQUEST_URI_TOO_LONG` (414) or `REQUEST_HEADERS_TOO_LARGE` (431) for a request over the
/// limits above.
fn check_request_size(req: &Request) -> Result<(), YtError> {
    let uri_bytes = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_bytes > MAX_URI_BYTES {
        return Err(YtError::new(
            ErrorCode::REQUEST_URI_TOO_LONG,
            format!("the request's path and query are {uri_bytes} bytes; at most {MAX_URI_BYTES}"),
        )
        .detail("bytes", uri_bytes)
        .detail("limit_bytes", MAX_URI_BYTES));
    }
    let headers = req.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return Err(YtError::new(
            ErrorCode::REQUEST_HEADERS_TOO_LARGE,
            format!(
                "the request carries {} headers of {header_bytes} bytes; at most {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes",
                headers.len()
            ),
        )
        .detail("headers", headers.len())
        .detail("bytes", header_bytes)
        .detail("limit_headers", MAX_HEADERS)
        .detail("limit_bytes", MAX_HEADER_BYTES));
    }
    Ok(())
}

fn check_origin(state: &AppState, req: &Request) -> Result<(), YtError> {
    let headers = req.headers();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !state
        .security
        .allowed_hosts
        .iter()
        .any(|h| *h == host || h == "*")
    {
        return Err(YtError::new(
            ErrorCode::ORIGIN_FORBIDDEN,
            format!("requests for host {host:?} are not served here"),
        )
        .detail("header", "Host")
        .detail("value", host));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or_default().to_ascii_lowercase();
        let allowed = origin.strip_prefix("http://").is_some_and(|o| {
            state
                .security
                .allowed_hosts
                .iter()
                .any(|h| h == o || h == "*")
        });
        if !allowed {
            return Err(YtError::new(
                ErrorCode::ORIGIN_FORBIDDEN,
                format!("requests from origin {origin:?} are refused"),
            )
            .detail("header", "Origin")
            .detail("value", origin));
        }
    }
    Ok(())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Handler-side panics become `SERVER_PANICKED` errors with the panic message.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panic without a message".into());
    let mut response = ApiError(
        YtError::new(ErrorCode::SERVER_PANICKED, "a request handler panicked")
            .detail("panic", message),
    )
    .into_response();
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
