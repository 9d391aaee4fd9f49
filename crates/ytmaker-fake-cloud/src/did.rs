//! D-ID's talks API as ytmaker uses it: temporary uploads (`POST /images`, `POST /audios`,
//! multipart), talks (`POST /talks` with an audio script and optional `user_data`,
//! `GET /talks/{id}` moving from `created` through `started` to `done`, `error` or `rejected`),
//! the talk list (`GET /talks?limit=&token=`, newest first, `{"talks": [...], "token": "..."}`
//! with `token` only while more pages follow), the result video, and `GET /credits`. Errors use
//! D-ID's body `{"kind": "...", "description": "..."}`; the key is sent as
//! `Authorization: Basic <key>`.
//!
//! The result is a real MP4 made by FFmpeg from the uploaded image and audio (512×512, the size
//! D-ID answers with), so a client can probe it and its length follows the narration. It is served
//! below `/_fake/did/results/` without a key, as D-ID's result URLs are pre-signed storage URLs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path as UrlPath, Query, State as AxumState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::{State, lock};

pub const IMAGES_UPLOAD: &str = "images.upload";
pub const AUDIOS_UPLOAD: &str = "audios.upload";
pub const TALKS_CREATE: &str = "talks.create";
pub const TALKS_GET: &str = "talks.get";
pub const TALKS_LIST: &str = "talks.list";
pub const RESULT_DOWNLOAD: &str = "result.download";
pub const CREDITS: &str = "credits";

/// Credits a fresh fake account has; each talk uses one.
pub const TOTAL_CREDITS: u32 = 20;

/// D-ID accepts audio files up to 15 MB; axum's default limit (2 MB) would refuse a long intro.
const UPLOAD_LIMIT_BYTES: usize = 15 * 1024 * 1024;
const RESULTS_PREFIX: &str = "/_fake/did/results/";
/// D-ID's documented bounds of a talk's `user_data`: "length between 1 and 1000".
const USER_DATA_MAX_CHARS: usize = 1000;
/// `GET /talks` answers 100 talks per page unless `limit` says otherwise.
const DEFAULT_LIST_LIMIT: usize = 100;

/// The fake D-ID account: uploads, talks and rendered results, plus the switches tests use to
/// make talks stall or fail the way D-ID reports processing failures.
#[derive(Default)]
pub struct DidState {
    data: std::sync::Mutex<DidData>,
    stall: AtomicBool,
    /// At most this many talks per `GET /talks` page, whatever `limit` asks (0: no cap).
    list_page_cap: AtomicUsize,
}

#[derive(Default)]
struct DidData {
    /// Uploads by the URL handed out for them.
    images: HashMap<String, Upload>,
    audios: HashMap<String, Upload>,
    talks: HashMap<String, Talk>,
    results: HashMap<String, Bytes>,
    /// Talk ids in creation order, for the list.
    talk_order: Vec<String>,
    talks_created: u32,
    failure: Option<TalkFailure>,
    last_talk_request: Option<Value>,
}

struct Upload {
    bytes: Bytes,
    extension: &'static str,
}

#[derive(Clone)]
struct TalkFailure {
    /// `error`, or `rejected` for content moderation.
    status: &'static str,
    kind: String,
    description: String,
}

struct Talk {
    source_url: String,
    audio_url: String,
    user_data: Option<String>,
    created_at: String,
    polls: u32,
    failure: Option<TalkFailure>,
}

impl Talk {
    /// The status after `polls` polls: `created`, `started`, then `done` or the failure's status.
    fn status(&self, stalled: bool) -> &'static str {
        match self.polls {
            0 | 1 => "created",
            _ if stalled => "started",
            2 => "started",
            _ => self.failure.as_ref().map_or("done", |f| f.status),
        }
    }
}

impl DidState {
    /// While on, every talk stays `started` (a talk D-ID never finishes).
    pub fn stall_talks(&self, on: bool) {
        self.stall.store(on, Ordering::SeqCst);
    }

    /// Talks created from now on end in `status: "error"` with this error kind and description
    /// (D-ID's asynchronous errors: `FaceError`, `SourceError`, `DriverError`, `UnknownError`, …).
    pub fn fail_talks(&self, kind: &str, description: &str) {
        lock(&self.data).failure = Some(TalkFailure {
            status: "error",
            kind: kind.into(),
            description: description.into(),
        });
    }

    /// Talks created from now on end in `status: "rejected"` with a `ContentModerationError`:
    /// D-ID's moderation refused the image or the speech.
    pub fn reject_talks(&self, description: &str) {
        lock(&self.data).failure = Some(TalkFailure {
            status: "rejected",
            kind: "ContentModerationError".into(),
            description: description.into(),
        });
    }

    /// The `user_data` of every talk, in creation order.
    pub fn talk_user_data(&self) -> Vec<Option<String>> {
        let data = lock(&self.data);
        data.talk_order
            .iter()
            .filter_map(|id| data.talks.get(id))
            .map(|t| t.user_data.clone())
            .collect()
    }

    /// `GET /talks` answers at most `n` talks per page from now on, as a server may return fewer
    /// than `limit`; a client must follow `token` to the end.
    pub fn cap_list_page(&self, n: usize) {
        self.list_page_cap.store(n, Ordering::SeqCst);
    }

    /// The JSON body of the last accepted `POST /talks`.
    pub fn last_talk_request(&self) -> Option<Value> {
        lock(&self.data).last_talk_request.clone()
    }

    pub fn talks_created(&self) -> u32 {
        lock(&self.data).talks_created
    }

    fn remaining_credits(&self) -> u32 {
        TOTAL_CREDITS.saturating_sub(lock(&self.data).talks_created)
    }
}

pub(crate) fn endpoint_of(method: &str, path: &str) -> Option<&'static str> {
    match (method, path) {
        ("POST", "/images") => Some(IMAGES_UPLOAD),
        ("POST", "/audios") => Some(AUDIOS_UPLOAD),
        ("POST", "/talks") => Some(TALKS_CREATE),
        ("GET", "/talks") => Some(TALKS_LIST),
        ("GET", "/credits") => Some(CREDITS),
        ("GET", p) if one_segment_below(p, "/talks/") => Some(TALKS_GET),
        ("GET", p) if one_segment_below(p, RESULTS_PREFIX) => Some(RESULT_DOWNLOAD),
        _ => None,
    }
}

fn one_segment_below(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
}

/// D-ID's error answers. Reasons: 400 `validation` (default), `face` (no face in the source
/// image), `audio` (unusable audio); 429 `rate` (default) or `quota` (the account's credits are
/// used up).
pub(crate) fn error_response(_endpoint: &str, status: u16, reason: Option<&str>) -> Response {
    let (kind, description) = match (status, reason) {
        (400, Some("face")) => ("FaceError", "no face detected in the source image"),
        (400, Some("audio")) => ("ValidationError", "the audio file is invalid or too long"),
        (400, _) => ("ValidationError", "bad request"),
        (401, _) => ("AuthorizationError", "user unauthenticated"),
        (402, _) => ("InsufficientCreditsError", "not enough credits"),
        (403, _) => ("PermissionError", "permission denied"),
        (404, _) => ("NotFoundError", "not found"),
        (429, Some("quota")) => (
            "TooManyRequestsError",
            "account quota exceeded: no credits left",
        ),
        (429, _) => ("TooManyRequestsError", "Too Many Requests"),
        (451, _) => (
            "ContentModerationError",
            "the request was rejected by content moderation",
        ),
        _ => ("UnknownError", "Internal Server Error"),
    };
    error(status, kind, description)
}

fn error(status: u16, kind: &str, description: &str) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        Json(json!({ "kind": kind, "description": description })),
    )
        .into_response()
}

fn validation(description: &str) -> Response {
    error(400, "ValidationError", description)
}

/// The 401 for a request without `Authorization: Basic <key>`, or with a key starting with
/// `invalid`.
fn refusal(headers: &HeaderMap) -> Option<Response> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .map(str::trim)
        .unwrap_or("");
    (key.is_empty() || key.starts_with("invalid")).then(|| error_response(CREDITS, 401, None))
}

pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
        .route("/images", post(upload_image))
        .route("/audios", post(upload_audio))
        .route("/talks", post(create_talk).get(list_talks))
        .route("/talks/{id}", get(get_talk))
        .route("/credits", get(credits))
        .route("/_fake/did/results/{file}", get(result))
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT_BYTES))
}

#[derive(Clone, Copy)]
enum Media {
    Image,
    Audio,
}

async fn upload_image(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    upload(&state, &headers, form, Media::Image).await
}

async fn upload_audio(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    upload(&state, &headers, form, Media::Audio).await
}

/// Stores the `image` / `audio` part and answers `201 {"id", "url"}`, as D-ID does.
async fn upload(
    state: &State,
    headers: &HeaderMap,
    form: Result<Multipart, MultipartRejection>,
    media: Media,
) -> Response {
    if let Some(refused) = refusal(headers) {
        return refused;
    }
    let field_name = match media {
        Media::Image => "image",
        Media::Audio => "audio",
    };
    let Ok(mut form) = form else {
        return validation("the body must be multipart/form-data");
    };
    let (bytes, content_type, file_name) = loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some(field_name) => {
                let content_type = field.content_type().unwrap_or("").to_owned();
                let file_name = field.file_name().map(str::to_owned);
                match field.bytes().await {
                    Ok(bytes) => break (bytes, content_type, file_name),
                    Err(e) => return validation(&format!("cannot read the {field_name}: {e}")),
                }
            }
            Ok(Some(_)) => continue,
            Ok(None) => return validation(&format!("\"{field_name}\" is required")),
            Err(e) => return validation(&format!("malformed multipart body: {e}")),
        }
    };
    if let Some(name) = &file_name {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if name.len() > 50 || !name.chars().all(allowed) {
            return validation("filename must be up to 50 characters of a-z A-Z 0-9 . _ -");
        }
    }
    let accepted = match media {
        Media::Image => matches!(content_type.as_str(), "image/jpeg" | "image/png"),
        Media::Audio => content_type.starts_with("audio/") || content_type.starts_with("video/"),
    };
    if !accepted {
        return validation(&format!("unsupported mime type \"{content_type}\""));
    }
    if bytes.is_empty() {
        return validation(&format!("the {field_name} is empty"));
    }
    let id = format!(
        "{}_{}",
        match media {
            Media::Image => "img",
            Media::Audio => "aud",
        },
        uuid::Uuid::new_v4().simple()
    );
    let extension = match content_type.as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "audio/mpeg" => "mp3",
        _ => "wav",
    };
    let url = format!(
        "{}/_fake/did/uploads/{id}/{}",
        state.base_url(),
        file_name.as_deref().unwrap_or(field_name)
    );
    let mut data = lock(&state.did.data);
    let uploads = match media {
        Media::Image => &mut data.images,
        Media::Audio => &mut data.audios,
    };
    uploads.insert(url.clone(), Upload { bytes, extension });
    (StatusCode::CREATED, Json(json!({ "id": id, "url": url }))).into_response()
}

async fn create_talk(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return validation("the body must be JSON");
    };
    let Some(source_url) = request["source_url"].as_str() else {
        return validation("\"source_url\" is required");
    };
    let script = &request["script"];
    if script["type"] != "audio" {
        return validation("the fake D-ID only accepts scripts of type \"audio\"");
    }
    let Some(audio_url) = script["audio_url"].as_str() else {
        return validation("\"script.audio_url\" is required");
    };
    let user_data = match &request["user_data"] {
        Value::Null => None,
        Value::String(text) if (1..=USER_DATA_MAX_CHARS).contains(&text.chars().count()) => {
            Some(text.clone())
        }
        _ => {
            return validation(&format!(
                "user_data must be a string of 1 to {USER_DATA_MAX_CHARS} characters"
            ));
        }
    };
    if state.did.remaining_credits() == 0 {
        return error_response(TALKS_CREATE, 402, None);
    }
    let mut data = lock(&state.did.data);
    if !data.images.contains_key(source_url) {
        return validation("source_url: the image cannot be loaded");
    }
    if !data.audios.contains_key(audio_url) {
        return validation("script.audio_url: the audio cannot be loaded");
    }
    let id = format!("tlk_{}", uuid::Uuid::new_v4().simple());
    let created_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let talk = Talk {
        source_url: source_url.to_owned(),
        audio_url: audio_url.to_owned(),
        user_data,
        created_at: created_at.clone(),
        polls: 0,
        failure: data.failure.clone(),
    };
    data.talks.insert(id.clone(), talk);
    data.talk_order.push(id.clone());
    data.talks_created += 1;
    data.last_talk_request = Some(request);
    (
        StatusCode::CREATED,
        Json(json!({
            "id": id,
            "object": "talk",
            "created_at": created_at,
            "created_by": "fake|ytmaker",
            "status": "created",
        })),
    )
        .into_response()
}

/// `GET /talks`: the account's talks, newest first, `limit` per page (100 unless given); the
/// answer's `token`, passed back as `?token=`, gives the next page and is absent on the last.
/// Listing does not move a talk along (only polling it does).
async fn list_talks(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let limit = match query.get("limit").map(|l| l.parse::<usize>()) {
        None => DEFAULT_LIST_LIMIT,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return validation("limit must be a positive number"),
    };
    let limit = match state.did.list_page_cap.load(Ordering::SeqCst) {
        0 => limit,
        cap => limit.min(cap),
    };
    // The token is opaque to clients; this one encodes where the next page starts.
    let start = match query.get("token") {
        None => 0,
        Some(token) => match token
            .strip_prefix("pg_")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(n) => n,
            None => return validation("token: invalid pagination token"),
        },
    };
    let stalled = state.did.stall.load(Ordering::SeqCst);
    let data = lock(&state.did.data);
    let newest_first: Vec<&String> = data.talk_order.iter().rev().collect();
    let page: Vec<Value> = newest_first
        .iter()
        .skip(start)
        .take(limit)
        .filter_map(|id| {
            let talk = data.talks.get(*id)?;
            let has_result = data.results.contains_key(*id);
            Some(talk_json(
                &state,
                id,
                talk,
                talk.status(stalled),
                has_result,
            ))
        })
        .collect();
    let mut answer = json!({ "talks": page });
    if start + limit < newest_first.len() {
        answer["token"] = json!(format!("pg_{}", start + limit));
    }
    Json(answer).into_response()
}

/// A talk as `GET /talks/{id}` and `GET /talks` show it.
fn talk_json(state: &State, id: &str, talk: &Talk, status: &str, has_result: bool) -> Value {
    let mut json = json!({
        "id": id,
        "object": "talk",
        "user_id": "fake|ytmaker",
        "created_by": "fake|ytmaker",
        "created_at": talk.created_at,
        "source_url": talk.source_url,
        "audio_url": talk.audio_url,
        "status": status,
        "config": { "stitch": false, "result_format": ".mp4", "fluent": false, "pad_audio": 0.0 },
    });
    if let Some(user_data) = &talk.user_data {
        json["user_data"] = json!(user_data);
    }
    match status {
        "done" if has_result => {
            json["result_url"] = json!(format!("{}{RESULTS_PREFIX}{id}.mp4", state.base_url()));
            json["metadata"] = json!({ "resolution": [512, 512] });
        }
        "error" | "rejected" => {
            if let Some(f) = &talk.failure {
                json["error"] = json!({ "kind": f.kind, "description": f.description });
            }
        }
        _ => {}
    }
    json
}

/// Each poll moves the talk one step: `created`, `started`, then `done` (rendering the result on
/// the way), `error` or `rejected`.
async fn get_talk(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let stalled = state.did.stall.load(Ordering::SeqCst);
    let (status, inputs) = {
        let mut data = lock(&state.did.data);
        let DidData {
            talks,
            images,
            audios,
            results,
            ..
        } = &mut *data;
        let Some(talk) = talks.get_mut(&id) else {
            return error_response(TALKS_GET, 404, None);
        };
        talk.polls += 1;
        let status = talk.status(stalled);
        // The video is made once, on the first poll that finds the talk done.
        let inputs = (status == "done" && !results.contains_key(&id))
            .then(|| {
                let image = images.get(&talk.source_url)?;
                let audio = audios.get(&talk.audio_url)?;
                Some((
                    (image.bytes.clone(), image.extension),
                    (audio.bytes.clone(), audio.extension),
                ))
            })
            .flatten();
        (status, inputs)
    };
    if let Some((image, audio)) = inputs {
        match render(image, audio).await {
            Ok(video) => {
                lock(&state.did.data).results.insert(id.clone(), video);
            }
            Err(why) => return error(500, "UnknownError", &why),
        }
    }
    let data = lock(&state.did.data);
    let Some(talk) = data.talks.get(&id) else {
        return error_response(TALKS_GET, 404, None);
    };
    let has_result = data.results.contains_key(&id);
    Json(talk_json(&state, &id, talk, status, has_result)).into_response()
}

/// What D-ID would render: the still image for the length of the audio, H.264 + AAC.
async fn render(
    image: (Bytes, &'static str),
    audio: (Bytes, &'static str),
) -> Result<Bytes, String> {
    let dir = std::env::temp_dir().join(format!("ytmaker-fake-did-{}", uuid::Uuid::new_v4()));
    let result = render_in(&dir, image, audio).await;
    if let Err(e) = tokio::fs::remove_dir_all(&dir).await {
        eprintln!("fake cloud: cannot remove {}: {e}", dir.display());
    }
    result
}

async fn render_in(
    dir: &Path,
    (image, image_ext): (Bytes, &'static str),
    (audio, audio_ext): (Bytes, &'static str),
) -> Result<Bytes, String> {
    let write = |name: String, bytes: Bytes| async move {
        let path: PathBuf = dir.join(name);
        tokio::fs::write(&path, &bytes)
            .await
            .map(|()| path)
            .map_err(|e| format!("cannot write a render input: {e}"))
    };
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let image_path = write(format!("source.{image_ext}"), image).await?;
    let audio_path = write(format!("audio.{audio_ext}"), audio).await?;
    let out = dir.join("result.mp4");
    let output = tokio::process::Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-loop",
            "1",
            "-i",
        ])
        .arg(&image_path)
        .arg("-i")
        .arg(&audio_path)
        .args([
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-vf",
            "scale=512:512",
            "-r",
            "25",
            "-c:a",
            "aac",
        ])
        .arg(&out)
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run ffmpeg: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "ffmpeg failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    tokio::fs::read(&out)
        .await
        .map(Bytes::from)
        .map_err(|e| format!("cannot read the rendered video: {e}"))
}

async fn result(
    AxumState(state): AxumState<Arc<State>>,
    UrlPath(file): UrlPath<String>,
) -> Response {
    let video = file
        .strip_suffix(".mp4")
        .and_then(|id| lock(&state.did.data).results.get(id).cloned());
    match video {
        Some(bytes) => ([(header::CONTENT_TYPE, "video/mp4")], bytes).into_response(),
        // Storage answers a missing object with its own XML, not D-ID's JSON.
        None => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/xml")],
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchKey</Code></Error>",
        )
            .into_response(),
    }
}

async fn credits(AxumState(state): AxumState<Arc<State>>, headers: HeaderMap) -> Response {
    if let Some(refused) = refusal(&headers) {
        return refused;
    }
    let remaining = state.did.remaining_credits();
    Json(json!({
        "credits": [{
            "owner_id": "fake|ytmaker",
            "remaining": remaining,
            "total": TOTAL_CREDITS,
            "plan_group": "trial",
        }],
        "remaining": remaining,
        "total": TOTAL_CREDITS,
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_named_by_method_and_path() {
        assert_eq!(endpoint_of("POST", "/images"), Some(IMAGES_UPLOAD));
        assert_eq!(endpoint_of("POST", "/audios"), Some(AUDIOS_UPLOAD));
        assert_eq!(endpoint_of("POST", "/talks"), Some(TALKS_CREATE));
        assert_eq!(endpoint_of("GET", "/talks/tlk_1"), Some(TALKS_GET));
        assert_eq!(
            endpoint_of("GET", "/_fake/did/results/tlk_1.mp4"),
            Some(RESULT_DOWNLOAD)
        );
        assert_eq!(endpoint_of("GET", "/credits"), Some(CREDITS));
        assert_eq!(endpoint_of("GET", "/talks"), Some(TALKS_LIST));
        assert_eq!(endpoint_of("GET", "/talks/a/b"), None);
        assert_eq!(endpoint_of("DELETE", "/talks/tlk_1"), None);
    }

    #[test]
    fn errors_have_d_ids_kind_and_description() {
        for (status, reason, kind) in [
            (401, None, "AuthorizationError"),
            (402, None, "InsufficientCreditsError"),
            (400, Some("face"), "FaceError"),
            (429, Some("quota"), "TooManyRequestsError"),
            (500, None, "UnknownError"),
        ] {
            let response = error_response(TALKS_CREATE, status, reason);
            assert_eq!(response.status().as_u16(), status);
            let body = futures_util::FutureExt::now_or_never(axum::body::to_bytes(
                response.into_body(),
                usize::MAX,
            ))
            .and_then(Result::ok)
            .expect("an in-memory body");
            let json: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(json["kind"], kind);
            assert!(json["description"].as_str().is_some_and(|d| !d.is_empty()));
        }
    }
}
