//! The OpenAPI document served at `/api/v1/openapi.json`. The operations come from the handlers'
//! `utoipa::path` attributes (collected by `utoipa-axum`); what every operation shares is added
//! here, in one place, so no handler can forget it:
//!
//! - the security schemes (`Authorization: Bearer`, or the `access_token` query value) and the
//!   global requirement; the error catalogue's routes ([`ROUTES_WITHOUT_TOKEN`]) need none;
//! - the error answers the layers and extractors give any operation, each with the [`ErrorBody`]
//!   schema: 400 `REQUEST_MALFORMED` (a body or query that does not parse), 401 `UNAUTHORIZED`,
//!   403 `ORIGIN_FORBIDDEN`, 404 for unknown ids, 413 `PAYLOAD_TOO_LARGE`, 422 `VALIDATION_ERROR`
//!   (a value that breaks a rule, a path id that is not a UUID), 500 (database, file system,
//!   panic). Handlers that call a provider add [`ProviderErrors`] themselves;
//! - the `X-Trace-Id` header on every response, and `WWW-Authenticate` on the 401s;
//! - a description on every response (the handlers give the interesting ones; the rest get the
//!   status's reason phrase, or for errors the catalogue's codes with that status).
//!
//! [`ErrorBody`]: crate::ErrorBody

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi};
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::middleware::ROUTES_WITHOUT_TOKEN;
use crate::{ErrorBody, ErrorObject};

/// The security schemes' names (also written out in `ApiDoc`'s `security(…)`).
const BEARER: &str = "bearer";
const QUERY_TOKEN: &str = "access_token";
const TRACE_HEADER_NAME: &str = "X-Trace-Id";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ytmaker API",
        description = "Local API of ytmaker: projects, templates, progress and system status. Every error has the shape {\"error\": {code, message, is_retryable, details, solutions, trace_id, timestamp}}; the codes are listed by GET /api/v1/system/errors. Every response carries X-Trace-Id (the caller's X-Trace-Id or traceparent trace id when well-formed, else a new one).",
    ),
    components(schemas(ErrorBody, ErrorObject)),
    modifiers(&Security),
    security(("bearer" = []), ("access_token" = []))
)]
pub(crate) struct ApiDoc;

/// The access token's two ways in.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The server's access token (`ytmaker serve --token`, or YTMAKER_SERVER_TOKEN; required when it listens on an address that is not loopback). A loopback server started without a token accepts requests without one. The scheme name is matched case-insensitively.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            QUERY_TOKEN,
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                QUERY_TOKEN,
                "The same token as a query value, for what a browser fetches without headers (the WebSocket, media, downloads); removed from the query before the handler reads it.",
            ))),
        );
    }
}

/// Error answers of an operation that calls a cloud provider (Gemini, Google TTS, Stability AI,
/// D-ID, YouTube): the provider's refusal or failure, under its own code. Listed in the
/// handler's `responses(…)`.
pub(crate) struct ProviderErrors;

impl IntoResponses for ProviderErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        [
            (
                400,
                "A provider refused the request (GEMINI_REQUEST_REJECTED, YOUTUBE_NOT_LINKED, …), a key is missing (PROVIDER_KEY_MISSING), or REQUEST_MALFORMED.",
            ),
            (
                402,
                "The provider's paid credit is used up (DID_QUOTA_EXCEEDED).",
            ),
            (
                429,
                "A provider's rate limit or exhausted quota (…_RATE_LIMIT, …_QUOTA_EXCEEDED), or QUOTA_INSUFFICIENT where a run is checked against the quota left today.",
            ),
            (
                502,
                "The provider answered something that is not what its API documents (…_INVALID_RESPONSE).",
            ),
            (
                503,
                "The provider could not be reached (…_NETWORK_ERROR).",
            ),
            (504, "The provider did not answer in time (…_TIMEOUT)."),
        ]
        .into_iter()
        .map(|(status, description)| (status.to_string(), error_response(description).into()))
        .collect()
    }
}

/// No error answers beyond the common ones (for a macro that takes a list).
pub(crate) struct NoExtraErrors;

impl IntoResponses for NoExtraErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        BTreeMap::new()
    }
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// The document of `api` (the merged routes), completed, as JSON.
pub(crate) fn document(api: &utoipa::openapi::OpenApi) -> YtResult<Value> {
    let mut doc = serde_json::to_value(api)
        .map_err(|e| YtError::new(ErrorCode::SERVER_PANICKED, format!("OpenAPI document: {e}")))?;
    complete(&mut doc);
    Ok(doc)
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The error answers every operation shares, when they apply to it (see the module's doc).
fn common_errors(op: &Map<String, Value>, public: bool) -> Vec<(u16, &'static str)> {
    let params = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let located = |place: &'static str| {
        params
            .iter()
            .filter(move |p| p.get("in").and_then(Value::as_str) == Some(place))
    };
    let has_body = op.contains_key("requestBody");
    let has_query = located("query").next().is_some();
    let has_path = located("path").next().is_some();
    // A path parameter parsed into a UUID or a number is refused (422) when it is not one.
    let typed_path = located("path").any(|p| {
        let schema = &p["schema"];
        schema.get("format").is_some() || schema.get("type") != Some(&json!("string"))
    });
    let mut errors = Vec::new();
    if has_body || has_query {
        errors.push((
            400,
            "REQUEST_MALFORMED: the body or the query cannot be read (not JSON, a missing Content-Type, an unknown field, a value of the wrong type).",
        ));
    }
    if !public {
        errors.push((
            401,
            "UNAUTHORIZED: the server has an access token and the request did not carry it (`Authorization: Bearer …` or `?access_token=`). Carries `WWW-Authenticate: Bearer`.",
        ));
    }
    errors.push((
        403,
        "ORIGIN_FORBIDDEN: the Host or Origin header is not this server's own address.",
    ));
    if has_path {
        errors.push((
            404,
            "No such resource: PROJECT_NOT_FOUND, or NOT_FOUND naming the resource (details.resource).",
        ));
    }
    if has_body {
        errors.push((
            413,
            "PAYLOAD_TOO_LARGE: the request body is over the size limit.",
        ));
    }
    if has_body || has_query || typed_path {
        errors.push((
            422,
            "VALIDATION_ERROR (or another input code, e.g. INPUT_TOO_SHORT, CONFIG_INVALID): a value breaks a rule; details name the field, the rule and the value. A path id that is not a UUID is one too.",
        ));
    }
    errors.push((
        500,
        "An internal failure: DATABASE_ERROR, FILE_SYSTEM_ERROR, SERVER_PANICKED, … (see error.code and the log line with this trace id).",
    ));
    errors
}

/// The description of an error status a handler listed without one: the catalogue's codes that
/// answer with it.
fn catalogue_description(status: u16) -> String {
    let codes: Vec<&str> = ErrorCode::ALL
        .iter()
        .filter(|c| c.spec().http_status == status)
        .map(|c| c.as_str())
        .collect();
    if codes.is_empty() {
        format!("An error (HTTP {status}).")
    } else {
        format!(
            "An error; error.code is one of the catalogue's HTTP {status} codes: {}.",
            codes.join(", ")
        )
    }
}

fn complete(doc: &mut Value) {
    let trace_header = json!({ "$ref": format!("#/components/headers/{TRACE_HEADER_NAME}") });
    if let Some(components) = doc.get_mut("components").and_then(Value::as_object_mut) {
        components.insert(
            "headers".into(),
            json!({
                TRACE_HEADER_NAME: {
                    "description": "The request's trace id: the caller's X-Trace-Id (8–64 characters of [0-9A-Za-z_-]) or traceparent trace id, else a new one (32 hex digits). It is in every log line of the request and in error.trace_id.",
                    "schema": { "type": "string", "pattern": "^[0-9A-Za-z_-]{8,64}$" }
                }
            }),
        );
    }
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let public = ROUTES_WITHOUT_TOKEN.contains(&path.as_str());
        for method in METHODS {
            let Some(op) = item.get_mut(method).and_then(Value::as_object_mut) else {
                continue;
            };
            let added = common_errors(op, public);
            if public {
                // No token needed: an empty requirement.
                op.insert("security".into(), json!([{}]));
            }
            let responses = op
                .entry("responses")
                .or_insert_with(|| json!({}))
                .as_object_mut();
            let Some(responses) = responses else { continue };
            for (status, description) in added {
                responses
                    .entry(status.to_string())
                    .or_insert_with(|| {
                        json!({
                            "description": description,
                            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ErrorBody" } } }
                        })
                    });
            }
            for (status, response) in responses.iter_mut() {
                let Some(response) = response.as_object_mut() else {
                    continue;
                };
                let code = status.parse::<u16>().unwrap_or(0);
                if response
                    .get("description")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
                {
                    let description = if code >= 400 {
                        catalogue_description(code)
                    } else {
                        StatusCode::from_u16(code)
                            .ok()
                            .and_then(|s| s.canonical_reason())
                            .unwrap_or("Success")
                            .to_owned()
                    };
                    response.insert("description".into(), json!(description));
                }
                let headers = response
                    .entry("headers")
                    .or_insert_with(|| json!({}))
                    .as_object_mut();
                if let Some(headers) = headers {
                    headers.insert(TRACE_HEADER_NAME.into(), trace_header.clone());
                    if code == 401 {
                        headers.insert(
                            "WWW-Authenticate".into(),
                            json!({
                                "description": "The scheme that would be accepted: `Bearer realm=\"ytmaker\"`.",
                                "schema": { "type": "string" }
                            }),
                        );
                    }
                }
            }
        }
    }
}
