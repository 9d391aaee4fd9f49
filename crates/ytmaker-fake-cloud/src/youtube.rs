//! TODO(helper): the YouTube Data API v3 and Google OAuth wire formats.

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::{Api, State};

/// The endpoint name of one PUT of bytes to a resumable upload session.
pub const UPLOAD_CHUNK: &str = "upload.chunk";

#[derive(Default)]
pub struct YoutubeState {}

pub(crate) fn endpoint_of(_method: &str, _path: &str) -> Option<(Api, &'static str)> {
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
