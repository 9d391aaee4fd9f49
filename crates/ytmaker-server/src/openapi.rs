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
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder, Schema};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};
use ytmaker_core::config_schema;
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
        description = "Local API of ytmaker: projects, templates, progress and system status. Every error has the shape {\"error\": {code, message, is_retryable, details, solutions, trace_id, timestamp}}; the codes are listed by GET /api/v1/system/errors. Every response carries X-Trace-Id (the caller's X-Trace-Id or traceparent trace id when well-formed, else a new one). The progress WebSocket, GET /api/v1/projects/{id}/progress?after_seq=N (an HTTP/1.1 upgrade, so not an operation here), sends text frames that are each one ProgressMessage (components/schemas).",
    ),
    components(schemas(ErrorBody, ErrorObject, crate::ws::ProgressMessage)),
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

/// A request's project configuration overrides (`ProjectConfigOverrides`: any subset of the
/// sections and fields, merged into a base configuration), for `schema_with` and
/// `request_body(content = inline(ConfigOverrides))`.
pub(crate) struct ConfigOverrides;

impl PartialSchema for ConfigOverrides {
    fn schema() -> RefOr<Schema> {
        Ref::from_schema_name(format!(
            "{}{}",
            config_schema::CONFIG,
            config_schema::OVERRIDES_SUFFIX
        ))
        .into()
    }
}

impl ToSchema for ConfigOverrides {}

/// A complete project configuration as stored (`ProjectConfig`), for `schema_with`.
pub(crate) fn config_ref() -> RefOr<Schema> {
    Ref::from_schema_name(config_schema::CONFIG).into()
}

/// [`ConfigOverrides`]'s schema, for `schema_with`.
pub(crate) fn config_overrides_ref() -> RefOr<Schema> {
    ConfigOverrides::schema()
}

/// The document of `api` (the merged routes), completed, as JSON.
pub(crate) fn document(api: &utoipa::openapi::OpenApi) -> YtResult<Value> {
    let mut doc = serde_json::to_value(api)
        .map_err(|e| YtError::new(ErrorCode::SERVER_PANICKED, format!("OpenAPI document: {e}")))?;
    // The configuration's schemas with their rules (ytmaker_core::config::RULES), replacing the
    // bare derived ones a response type may have brought in.
    let config = config_schema::config_schemas()?;
    if let Some(schemas) = doc
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    {
        schemas.extend(config);
    }
    complete(&mut doc);
    Ok(doc)
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The error answers every operation shares, when they apply to it (see the module's doc).
fn common_errors(op: &Map<String, Value>, public: bool) -> Vec<(u16, String)> {
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
        errors.push((400, "REQUEST_MALFORMED: the body or the query cannot be read (not JSON, a missing Content-Type, an unknown field, a value of the wrong type).".into()));
    }
    if !public {
        errors.push((401, "UNAUTHORIZED: the server has an access token and the request did not carry it (`Authorization: Bearer …` or `?access_token=`). Carries `WWW-Authenticate: Bearer`.".into()));
    }
    errors.push((
        403,
        "ORIGIN_FORBIDDEN: the Host or Origin header is not this server's own address.".into(),
    ));
    if has_path {
        errors.push((404, "No such resource: PROJECT_NOT_FOUND, or NOT_FOUND naming the resource (details.resource).".into()));
    }
    if has_body {
        errors.push((
            413,
            "PAYLOAD_TOO_LARGE: the request body is over the size limit.".into(),
        ));
    }
    errors.push((
        414,
        format!(
            "REQUEST_URI_TOO_LONG: the path and query are over {} bytes.",
            crate::middleware::MAX_URI_BYTES
        ),
    ));
    errors.push((
        431,
        format!(
            "REQUEST_HEADERS_TOO_LARGE: more than {} headers, or more than {} bytes of them.",
            crate::middleware::MAX_HEADERS,
            crate::middleware::MAX_HEADER_BYTES
        ),
    ));
    if has_body || has_query || typed_path {
        errors.push((422, "VALIDATION_ERROR (or another input code, e.g. INPUT_TOO_SHORT, CONFIG_INVALID): a value breaks a rule; details name the field, the rule and the value. A path id that is not a UUID is one too.".into()));
    }
    errors.push((500, "An internal failure: DATABASE_ERROR, FILE_SYSTEM_ERROR, SERVER_PANICKED, … (see error.code and the log line with this trace id).".into()));
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
                    "schema": { "type": "string", "pattern": ytmaker_core::TraceId::PATTERN }
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
            // A path parameter is always required (OpenAPI says so; utoipa leaves it out for a
            // parameter whose schema comes from `schema_with`).
            if let Some(params) = op.get_mut("parameters").and_then(Value::as_array_mut) {
                for p in params.iter_mut().filter(|p| p["in"] == "path") {
                    p["required"] = json!(true);
                }
            }
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

/// Schemas of request fields whose rules are constants of the code that checks them, for
/// `schema_with` (utoipa's attributes take only literals, which would be a second copy).
pub(crate) mod fields {
    use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

    /// A text of `min`–`max` characters, at least one not white space when `min` > 0.
    pub(crate) fn text(min: usize, max: usize) -> ObjectBuilder {
        let builder = ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(min))
            .max_length(Some(max));
        if min > 0 {
            builder.pattern(Some(r"\S"))
        } else {
            builder
        }
    }

    /// The same, or null (an optional field `Option<String>` reads as absent).
    pub(crate) fn optional_text(min: usize, max: usize) -> Object {
        text(min, max)
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .build()
    }

    /// One of `values`.
    pub(crate) fn one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(values))
            .build()
    }

    /// One of `values`, or null.
    pub(crate) fn optional_one_of<'a>(values: impl IntoIterator<Item = &'a str>) -> Object {
        let values: Vec<serde_json::Value> = values
            .into_iter()
            .map(serde_json::Value::from)
            .chain([serde_json::Value::Null])
            .collect();
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .enum_values(Some(values))
            .build()
    }

    /// `min`–`max` characters of any kind.
    pub(crate) fn any_text(min: usize, max: usize) -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(min))
            .max_length(Some(max))
            .build()
    }

    /// An optional trace id: [`ytmaker_core::TraceId::parse`].
    pub(crate) fn optional_trace_id() -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .pattern(Some(ytmaker_core::TraceId::PATTERN))
            .build()
    }

    /// An optional error code of the catalogue.
    pub(crate) fn optional_error_code() -> Object {
        optional_one_of(ytmaker_core::ErrorCode::ALL.iter().map(|c| c.as_str()))
    }

    /// A project name or a template's: [`ytmaker_core::prompt::validate_name`].
    pub(crate) fn name() -> Object {
        text(1, ytmaker_core::prompt::MAX_NAME_CHARS).build()
    }

    /// An optional project name.
    pub(crate) fn optional_name() -> Object {
        optional_text(1, ytmaker_core::prompt::MAX_NAME_CHARS)
    }

    /// An optional Gemini model name: [`ytmaker_core::prompt::validate_model`].
    pub(crate) fn optional_model() -> Object {
        optional_text(1, ytmaker_core::prompt::MAX_MODEL_CHARS)
    }

    /// A prompt template's text: [`ytmaker_core::prompt::validate_template_content`].
    pub(crate) fn template() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(ytmaker_core::prompt::ARTICLE_PLACEHOLDER.len()))
            .max_length(Some(ytmaker_core::prompt::MAX_TEMPLATE_CHARS))
            .pattern(Some(r"\{article\}"))
    }

    pub(crate) fn template_text() -> Object {
        template().build()
    }

    pub(crate) fn optional_template_text() -> Object {
        template()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .build()
    }

    /// An article: [`ytmaker_core::article::validate_article_text`].
    pub(crate) fn article() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(ytmaker_core::article::MIN_CHARS))
            .max_length(Some(ytmaker_core::article::MAX_CHARS))
            .description(Some(format!(
                "The article: {}–{} characters, counted without the white space at either end.",
                ytmaker_core::article::MIN_CHARS,
                ytmaker_core::article::MAX_CHARS
            )))
            .build()
    }
}
