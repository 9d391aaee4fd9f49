//! A project's outputs and asset files over HTTP: the result links, downloads with byte ranges
//! (RFC 9110), and the files of single assets.

use super::*;

#[derive(Serialize, ToSchema)]
pub struct ProjectResult {
    pub video_url: String,
    pub thumbnail_url: String,
    pub subtitles_url: String,
    /// Where the video was published (a folder for the local publisher, a YouTube URL later).
    pub location: Option<String>,
    pub video_bytes: u64,
    pub youtube_video_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/result", tag = "projects",
    params(("id" = Uuid, Path, description = "project id")),
    responses((status = 200, body = ProjectResult), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn project_result(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<ProjectResult>> {
    let p = state.store.get_project(id).await?;
    if p.status != ProjectStatus::Completed {
        return Err(ApiError(
            YtError::new(
                ErrorCode::INVALID_STATE_TRANSITION,
                format!(
                    "the project is {}; its result exists once it is COMPLETED",
                    p.status
                ),
            )
            .detail("status", p.status.as_str())
            .detail("action", "result"),
        ));
    }
    let video = state.data.project(id).final_video();
    let meta = tokio::fs::metadata(&video)
        .await
        .map_err(|e| YtError::io("read", &video, &e))?;
    let events = state.store.events_since(id, 0).await?;
    let location = events.iter().rev().find_map(|e| match &e.event {
        ProjectEvent::Complete { location, .. } => Some(location.clone()),
        _ => None,
    });
    let [video_url, thumbnail_url, subtitles_url] = ytmaker_pipeline::file_urls(id);
    Ok(Json(ProjectResult {
        video_url,
        thumbnail_url,
        subtitles_url,
        location,
        video_bytes: meta.len(),
        youtube_video_id: p.youtube_video_id,
    }))
}

/// Files a client may download; the path comes from this table, never from the request.
pub(crate) fn file_for(
    state: &AppState,
    id: Uuid,
    name: &str,
) -> Option<(std::path::PathBuf, &'static str, &'static str)> {
    let dir = state.data.project(id);
    Some(match name {
        "video" => (dir.final_video(), "video/mp4", "final_video.mp4"),
        "thumbnail" => (dir.thumbnail(), "image/jpeg", "thumbnail.jpg"),
        "subtitles" => (
            dir.subtitles(),
            "application/x-subrip; charset=utf-8",
            "subtitles.srt",
        ),
        "script" => (dir.script(), "application/json", "script.json"),
        _ => return None,
    })
}

/// Parses a single `bytes=a-b`, `bytes=a-` or `bytes=-n` range against `size`.
/// What a `Range` header asks of a file of `size` bytes.
#[derive(Debug, PartialEq)]
enum RangeRequest {
    /// One satisfiable byte range, inclusive.
    Bytes(u64, u64),
    /// Well-formed but outside the file: 416.
    Unsatisfiable,
    /// Not a single well-formed byte range (bad syntax, another unit, several ranges): RFC 9110
    /// §14.2 lets a server ignore it and send the whole file, which is what clients expect.
    Ignored,
}

fn parse_range(raw: &str, size: u64) -> RangeRequest {
    let parsed = || -> Option<(Option<u64>, Option<u64>)> {
        let spec = raw.trim().strip_prefix("bytes=")?;
        if spec.contains(',') {
            return None;
        }
        let (a, b) = spec.split_once('-')?;
        let number = |t: &str| -> Option<Option<u64>> {
            let t = t.trim();
            if t.is_empty() {
                Some(None)
            } else if t.bytes().all(|c| c.is_ascii_digit()) {
                t.parse().ok().map(Some)
            } else {
                None
            }
        };
        let (a, b) = (number(a)?, number(b)?);
        match (a, b) {
            (None, None) => None,
            (Some(s), Some(e)) if s > e => None,
            other => Some(other),
        }
    };
    let Some(spec) = parsed() else {
        return RangeRequest::Ignored;
    };
    let Some(last) = size.checked_sub(1) else {
        return RangeRequest::Unsatisfiable;
    };
    match spec {
        (None, Some(0)) => RangeRequest::Unsatisfiable,
        (None, Some(n)) => RangeRequest::Bytes(size.saturating_sub(n), last),
        (Some(s), _) if s > last => RangeRequest::Unsatisfiable,
        (Some(s), None) => RangeRequest::Bytes(s, last),
        (Some(s), Some(e)) => RangeRequest::Bytes(s, e.min(last)),
        (None, None) => RangeRequest::Ignored,
    }
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/files/{name}", tag = "projects",
    params(("id" = Uuid, Path, description = "project id"),
           ("name" = String, Path, description = "video, thumbnail, subtitles or script")),
    responses((status = 200, description = "the file"), (status = 206, description = "a byte range of the file (video seeking)"), (status = 304, description = "not modified since If-Modified-Since"),
              (status = 404, body = ErrorBody), (status = 416, body = ErrorBody)))]
pub(super) async fn project_file(
    State(state): State<AppState>,
    ApiPath((id, name)): ApiPath<(Uuid, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    state.store.get_project(id).await?;
    let (path, content_type, file_name) = file_for(&state, id, &name).ok_or_else(|| {
        ApiError(
            YtError::new(ErrorCode::NOT_FOUND, format!("no file named {name:?}"))
                .detail("resource", "file")
                .detail("name", name.clone())
                .detail("known", "video, thumbnail, subtitles, script"),
        )
    })?;
    match tokio::fs::metadata(&path).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError(
                YtError::new(
                    ErrorCode::NOT_FOUND,
                    format!("the project has no {name} yet"),
                )
                .detail("resource", "file")
                .detail("name", name),
            ));
        }
        Err(e) => return Err(ApiError(YtError::io("open", &path, &e))),
    }
    send_file(&path, content_type, file_name, &headers).await
}

/// Serves a file with tower-http's `ServeFile` (byte ranges, `Last-Modified` and the conditional
/// headers), after deciding the one thing it decides differently from RFC 9110: a `Range` that is
/// not a single well-formed byte range (another unit, several ranges, bad syntax) is ignored and
/// the whole file sent (§14.2), where `ServeFile` would answer 416. A well-formed range outside
/// the file is our typed `RANGE_NOT_SATISFIABLE`.
async fn send_file(
    path: &std::path::Path,
    content_type: &'static str,
    file_name: &str,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let size = tokio::fs::metadata(path)
        .await
        .map_err(|e| YtError::io("read", path, &e))?
        .len();
    let mut request = axum::http::Request::new(Body::empty());
    for name in [
        header::RANGE,
        header::IF_RANGE,
        header::IF_MODIFIED_SINCE,
        header::IF_UNMODIFIED_SINCE,
    ] {
        if let Some(v) = headers.get(&name) {
            request.headers_mut().insert(name, v.clone());
        }
    }
    let range = headers
        .get(header::RANGE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    if let Some(raw) = range {
        match parse_range(&raw, size) {
            RangeRequest::Bytes(..) => {}
            RangeRequest::Ignored => {
                request.headers_mut().remove(header::RANGE);
            }
            RangeRequest::Unsatisfiable => {
                let mut r = ApiError(
                    YtError::new(
                        ErrorCode::RANGE_NOT_SATISFIABLE,
                        format!("range {raw:?} is outside the file"),
                    )
                    .detail("range", raw)
                    .detail("size", size),
                )
                .into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                    r.headers_mut().insert(header::CONTENT_RANGE, v);
                }
                return Ok(r);
            }
        }
    }
    let mime: mime::Mime = content_type.parse().map_err(|e| {
        ApiError(YtError::new(
            ErrorCode::SERVER_PANICKED,
            format!("the content type {content_type:?} does not parse: {e}"),
        ))
    })?;
    let mut serve = tower_http::services::ServeFile::new_with_mime(path, &mime);
    // `ServeFile` cannot fail (its error type is `Infallible`); an I/O error is its 500 response.
    let Ok(()) = std::future::poll_fn(|cx| {
        tower_service::Service::<axum::http::Request<Body>>::poll_ready(&mut serve, cx)
    })
    .await;
    let Ok(response) = tower_service::Service::call(&mut serve, request).await;
    let mut response = response.map(Body::new);
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{file_name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// Content type of an asset file by its extension (the pipeline names every file).
fn asset_content_type(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("wav") => "audio/wav",
        Some("mp3") => "audio/mpeg",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("mp4") => "video/mp4",
        Some("json") => "application/json",
        Some("srt") => "application/x-subrip; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/assets/{asset_id}/file", tag = "projects",
    params(("id" = Uuid, Path, description = "project id"), ("asset_id" = Uuid, Path, description = "asset id")),
    responses((status = 200, description = "the asset's file"), (status = 206, description = "a byte range of the file"), (status = 304, description = "not modified since If-Modified-Since"),
              (status = 404, body = ErrorBody), (status = 410, description = "ASSET_FILE_REMOVED: deleted by the retention policy", body = ErrorBody)))]
pub(super) async fn asset_file(
    State(state): State<AppState>,
    ApiPath((id, asset_id)): ApiPath<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    state.store.get_project(id).await?;
    let asset = state
        .store
        .assets(id)
        .await?
        .into_iter()
        .find(|a| a.id == asset_id)
        .ok_or_else(|| {
            ApiError(
                YtError::new(
                    ErrorCode::NOT_FOUND,
                    format!("the project has no asset {asset_id}"),
                )
                .detail("resource", "asset")
                .detail("asset_id", asset_id.to_string()),
            )
        })?;
    if let Some(removed_at) = &asset.removed_at {
        return Err(ApiError(
            YtError::new(
                ErrorCode::ASSET_FILE_REMOVED,
                format!(
                    "the {} file was removed by the retention policy on {removed_at}",
                    asset.key.kind.as_str()
                ),
            )
            .detail("asset_id", asset_id.to_string())
            .detail("kind", asset.key.kind.as_str())
            .detail("removed_at", removed_at.clone()),
        ));
    }
    let relative = match (&asset.path, asset.is_completed()) {
        (Some(p), true) => std::path::PathBuf::from(p),
        _ => {
            return Err(ApiError(
                YtError::new(
                    ErrorCode::NOT_FOUND,
                    format!("the asset is {} and has no file", asset.status.as_str()),
                )
                .detail("resource", "file")
                .detail("asset_id", asset_id.to_string())
                .detail("status", asset.status.as_str()),
            ));
        }
    };
    // Stored paths are relative to the project folder and written by the pipeline; one that
    // would leave the folder is a corrupt row, never followed.
    if !relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        return Err(ApiError(
            YtError::new(
                ErrorCode::DATABASE_ERROR,
                "a stored asset path leaves the project folder",
            )
            .detail("column", "assets.path")
            .detail("asset_id", asset_id.to_string()),
        ));
    }
    let path = state.data.project(id).root().join(&relative);
    let file_name = relative
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("asset")
        .to_owned();
    send_file(&path, asset_content_type(&path), &file_name, &headers).await
}

#[cfg(test)]
mod tests {
    use super::{RangeRequest, parse_range};

    #[test]
    fn ranges_follow_rfc_9110() {
        use RangeRequest::*;
        assert_eq!(parse_range("bytes=0-99", 1000), Bytes(0, 99));
        assert_eq!(parse_range("bytes=900-", 1000), Bytes(900, 999));
        assert_eq!(parse_range("bytes=-100", 1000), Bytes(900, 999));
        assert_eq!(parse_range("bytes=500-5000", 1000), Bytes(500, 999));
        // Well-formed but outside the file: 416.
        assert_eq!(parse_range("bytes=1000-", 1000), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 1000), Unsatisfiable);
        // Malformed, several ranges, another unit: ignored, the whole file is sent (§14.2).
        assert_eq!(parse_range("bytes=5-1", 1000), Ignored);
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), Ignored);
        assert_eq!(parse_range("items=0-1", 1000), Ignored);
        assert_eq!(parse_range("bytes=abc", 1000), Ignored);
        assert_eq!(parse_range("bytes=-", 1000), Ignored);
        assert_eq!(parse_range("bytes=+5-9", 1000), Ignored);
    }
}
