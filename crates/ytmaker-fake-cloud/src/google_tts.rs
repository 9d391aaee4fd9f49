//! TODO(helper): the google_tts wire format.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::State;

#[derive(Default)]
pub struct TtsState {}

pub(crate) fn endpoint_of(_method: &str, _path: &str) -> Option<&'static str> {
    None
}

pub(crate) fn error_response(_endpoint: &str, status: u16, _reason: Option<&str>) -> Response {
    StatusCode::from_u16(status)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
}
