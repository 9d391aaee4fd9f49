//! Every failure the API reports has the shape of SPEC §5:
//! `{"error": {code, message, is_retryable, details, solutions, trace_id, timestamp}}` with the
//! catalogue's HTTP status. Handlers return [`ApiError`]; the response carries the `YtError` as an
//! extension and [`crate::middleware::observe`] — which knows the trace id and the caller's
//! language — writes the body. Responses that axum produces on its own (unknown route, wrong
//! method, a body over the limit) are mapped to catalogued codes there too, so no error leaves the
//! server in another shape.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use ytmaker_core::error::{Lang, now_rfc3339};
use ytmaker_core::{ErrorCode, TraceId, YtError};

#[derive(Debug)]
pub struct ApiError(pub YtError);

impl From<YtError> for ApiError {
    fn from(e: YtError) -> Self {
        ApiError(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Carried from the handler to the observing middleware inside the response.
#[derive(Clone, Debug)]
pub(crate) struct PendingError(pub YtError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.code.spec().http_status)
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = status.into_response();
        response.extensions_mut().insert(PendingError(self.0));
        response
    }
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorObject {
    /// A code from the catalogue (`GET /api/v1/system/errors`).
    pub code: String,
    pub message: String,
    pub is_retryable: bool,
    #[schema(value_type = Object)]
    pub details: Map<String, Value>,
    /// What the user can do, in the request's language.
    pub solutions: Vec<String>,
    pub trace_id: String,
    pub timestamp: String,
}

pub(crate) fn error_body(err: &YtError, trace: &TraceId, lang: Lang) -> ErrorBody {
    let spec = err.code.spec();
    ErrorBody {
        error: ErrorObject {
            code: err.code.to_string(),
            message: err.message.clone(),
            is_retryable: spec.retry.is_retryable(),
            details: err.details.clone(),
            solutions: spec
                .guide(lang)
                .solutions
                .iter()
                .map(|s| s.to_string())
                .collect(),
            trace_id: trace.to_string(),
            timestamp: now_rfc3339(),
        },
    }
}

/// An error for a response axum made without a handler's error (no route, wrong method, …).
pub(crate) fn error_for_bare_status(status: StatusCode, path: &str) -> YtError {
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::NOT_FOUND,
        StatusCode::METHOD_NOT_ALLOWED => ErrorCode::METHOD_NOT_ALLOWED,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PAYLOAD_TOO_LARGE,
        StatusCode::RANGE_NOT_SATISFIABLE => ErrorCode::RANGE_NOT_SATISFIABLE,
        StatusCode::UNAUTHORIZED => ErrorCode::UNAUTHORIZED,
        StatusCode::FORBIDDEN => ErrorCode::ORIGIN_FORBIDDEN,
        s if s.is_client_error() => ErrorCode::REQUEST_MALFORMED,
        _ => ErrorCode::SERVER_PANICKED,
    };
    let message = match code {
        ErrorCode::NOT_FOUND => format!("no route for {path}"),
        ErrorCode::METHOD_NOT_ALLOWED => format!("{path} does not accept this method"),
        ErrorCode::PAYLOAD_TOO_LARGE => "the request body is too large".to_string(),
        _ => format!("the request failed with HTTP {}", status.as_u16()),
    };
    YtError::new(code, message)
        .detail("path", path)
        .detail("http_status", status.as_u16())
}

/// `VALIDATION_ERROR` naming the field and the rule it breaks.
pub(crate) fn invalid(field: &str, rule: &str, value: impl Into<Value>) -> ApiError {
    ApiError(YtError::invalid_field(
        ErrorCode::VALIDATION_ERROR,
        field,
        rule,
        value,
    ))
}

/// One of our own values as JSON; failing to encode it is a bug, reported, never a `null`.
pub(crate) fn json_value<T: Serialize>(what: &str, v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| {
        ApiError(
            YtError::new(
                ErrorCode::SERVER_PANICKED,
                format!("cannot encode {what}: {e}"),
            )
            .detail("value", what),
        )
    })
}

pub(crate) fn malformed(what: &str, message: String) -> YtError {
    YtError::new(ErrorCode::REQUEST_MALFORMED, format!("{what}: {message}"))
        .detail("part", what)
        .detail("parser_message", message)
}

/// `Json<T>` whose rejections are catalogued errors.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(ApiError(json_rejection(rejection))),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> YtError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return YtError::new(
            ErrorCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        )
        .detail("limit_bytes", crate::MAX_BODY_BYTES);
    }
    match rejection {
        JsonRejection::MissingJsonContentType(_) => malformed(
            "content-type",
            "expected Content-Type: application/json".into(),
        ),
        other => malformed("body", other.body_text()),
    }
}

/// `Query<T>` whose rejections are catalogued errors.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|r: QueryRejection| ApiError(malformed("query", r.body_text())))
    }
}

/// `Path<T>` whose rejections are catalogued errors (a malformed id is a 404 NOT_FOUND-style
/// validation error naming the parameter).
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|r: PathRejection| {
                ApiError(
                    YtError::new(
                        ErrorCode::VALIDATION_ERROR,
                        format!("invalid path parameter: {}", r.body_text()),
                    )
                    .detail("field", "path")
                    .detail("rule", "a UUID or a known name")
                    .detail("value", r.body_text()),
                )
            })
    }
}
