//! Publishing: the resumable upload protocol of `videos.insert`, then `thumbnails.set`.
//!
//! The session URI, with the size and SHA-256 of the file it is for, is saved in the project's
//! state folder ([`UPLOAD_STATE_FILE`]) as soon as the session starts, so a later attempt — a
//! retry or a new process — asks that session how much it holds (`Content-Range: bytes */N`)
//! and sends only the rest. A session that no longer exists (404/410) has expired; a new one is
//! started, as the protocol documents. The video id is saved the moment the upload completes, so
//! nothing after it (the thumbnail) can cause a second upload.

use std::io::SeekFrom;
use std::path::Path;
use std::time::Instant;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use ytmaker_core::youtube::Privacy;
use ytmaker_core::{ErrorCode, YtError, YtResult};

use super::{
    Auth, CODES, Call, QuotaMeter, THUMBNAILS_SET_UNITS, TokenStore, UPLOAD_CODES,
    VIDEOS_INSERT_ENDPOINT, VIDEOS_INSERT_UNITS, api_error,
};
use crate::cloud::CloudContext;
use crate::cloud::http::{ApiClient, Reply};
use crate::{PublishRequest, PublishResult, atomic};

/// The upload's state in `PublishRequest::state_dir`.
pub const UPLOAD_STATE_FILE: &str = "youtube-upload.json";
/// Every chunk but the last must be a multiple of this.
pub const CHUNK_GRANULE: u64 = 256 * 1024;
pub const DEFAULT_CHUNK_SIZE: u64 = 8 * 1024 * 1024;
/// `videos.insert`'s `maxSize`: 256 GB.
const MAX_VIDEO_BYTES: u64 = 256 * 1024 * 1024 * 1024;
/// `thumbnails.set`'s `maxSize`: 2 MB.
const MAX_THUMBNAIL_BYTES: u64 = 2 * 1024 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct UploadState {
    file_size: u64,
    file_sha256: String,
    #[serde(default)]
    session_uri: Option<String>,
    #[serde(default)]
    video_id: Option<String>,
    /// The thumbnail last set on the video, so a repeated publish does not spend 50 units again.
    #[serde(default)]
    thumbnail_sha256: Option<String>,
}

async fn load_state(path: &Path) -> YtResult<Option<UploadState>> {
    let text = match tokio::fs::read(path).await {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(YtError::io("read", path, &e)),
    };
    // Written atomically, so an unreadable file was changed by hand; starting over could upload
    // the video a second time, so it is reported instead.
    serde_json::from_slice(&text).map(Some).map_err(|e| {
        YtError::new(
            ErrorCode::FILE_SYSTEM_ERROR,
            format!(
                "the YouTube upload state {} is not readable: {e}",
                path.display()
            ),
        )
        .detail("path", path.display().to_string())
    })
}

async fn save_state(path: &Path, state: &UploadState) -> YtResult<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| YtError::io("create", dir, &e))?;
    }
    let json = serde_json::to_vec_pretty(state).map_err(|e| {
        YtError::new(
            ErrorCode::FILE_SYSTEM_ERROR,
            format!("cannot encode the YouTube upload state: {e}"),
        )
    })?;
    atomic::write_file(path, &json).await.map(|_| ())
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

async fn sha256_file(path: &Path) -> YtResult<String> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| YtError::io("open", path, &e))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(|e| YtError::io("read", path, &e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

async fn read_chunk(path: &Path, offset: u64, len: u64) -> YtResult<Bytes> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| YtError::io("open", path, &e))?;
    file.seek(SeekFrom::Start(offset))
        .await
        .map_err(|e| YtError::io("seek in", path, &e))?;
    let mut buf = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
    file.read_exact(&mut buf)
        .await
        .map_err(|e| YtError::io("read", path, &e))?;
    Ok(Bytes::from(buf))
}

fn media_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("mp4") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("webm") => "video/webm",
        _ => "application/octet-stream",
    }
}

fn invalid_metadata(reason: &str, message: impl Into<String>) -> YtError {
    YtError::new(ErrorCode::YOUTUBE_INVALID_METADATA, message).detail("reason", reason)
}

/// The `video` resource sent with `videos.insert`: the project's YouTube settings, with the
/// script's title, description and tags where they are empty. ytmaker videos are narrated and
/// illustrated by generators, so `containsSyntheticMedia` is always declared.
fn video_resource(req: &PublishRequest<'_>) -> YtResult<Value> {
    let settings = req.youtube.cloned().unwrap_or_default();
    let script = req.script;
    let title = if settings.title.trim().is_empty() {
        script.title.clone()
    } else {
        settings.title
    };
    let description = if settings.description.trim().is_empty() {
        script.description.clone()
    } else {
        settings.description
    };
    let tags = if settings.tags.is_empty() {
        script.tags.clone()
    } else {
        settings.tags
    };
    let language = serde_json::to_value(script.language).unwrap_or(Value::Null);
    let mut status = json!({
        "privacyStatus": settings.privacy,
        "selfDeclaredMadeForKids": false,
        "containsSyntheticMedia": true,
    });
    if let Some(at) = settings.publish_at {
        // YouTube publishes a scheduled video by switching it from private at that time.
        if settings.privacy != Privacy::Private {
            return Err(invalid_metadata(
                "invalidPublishAt",
                "a scheduled publish time needs the privacy set to private",
            )
            .detail("field", "youtube.privacy"));
        }
        status["publishAt"] = Value::String(at);
    }
    Ok(json!({
        "snippet": {
            "title": title,
            "description": description,
            "tags": tags,
            "defaultLanguage": language,
            "defaultAudioLanguage": language,
        },
        "status": status,
    }))
}

/// Where an upload session stands.
enum Progress {
    /// The session holds the first `n` bytes.
    Received(u64),
    Complete {
        video_id: String,
    },
    /// No session yet, or the session expired.
    NoSession,
}

/// One video's upload.
struct Upload<'a, 'b> {
    ctx: &'a CloudContext,
    auth: &'b mut Auth<'a>,
    quota: &'b mut QuotaMeter,
    api: ApiClient,
    session_api: ApiClient,
    video: &'b Path,
    total: u64,
    chunk_size: u64,
}

impl Upload<'_, '_> {
    /// Reads a session's answer to a PUT: `308` (+ `Range`) while bytes are missing, the video
    /// resource when complete, 404/410 once it expired.
    fn progress(&self, reply: &Reply) -> YtResult<Progress> {
        match reply.status {
            308 => match reply.header("range") {
                None => Ok(Progress::Received(0)),
                Some(range) => range
                    .trim()
                    .strip_prefix("bytes=0-")
                    .and_then(|last| last.parse::<u64>().ok())
                    .map(|last| Progress::Received(last + 1))
                    .ok_or_else(|| {
                        self.session_api
                            .invalid(reply, format!("unreadable Range header {range:?}"))
                    }),
            },
            200 | 201 => {
                #[derive(Deserialize)]
                struct Video {
                    id: String,
                }
                let video: Video = self.session_api.json(reply)?;
                Ok(Progress::Complete { video_id: video.id })
            }
            404 | 410 => {
                tracing::warn!(
                    api = "youtube",
                    status = reply.status,
                    "the upload session expired; starting a new one"
                );
                Ok(Progress::NoSession)
            }
            _ => Err(api_error(&self.session_api, reply, Call::Upload)),
        }
    }

    /// `POST …/videos?uploadType=resumable`: a new session for the whole file.
    async fn start_session(&mut self, resource: &Value) -> YtResult<String> {
        let url = format!("{}/upload/youtube/v3/videos", self.ctx.endpoints.youtube);
        let http = &self.ctx.http;
        let total = self.total.to_string();
        let media_type = media_type(self.video);
        let reply = self
            .auth
            .send(
                &self.api,
                VIDEOS_INSERT_ENDPOINT,
                || {
                    http.post(&url)
                        .query(&[("uploadType", "resumable"), ("part", "snippet,status")])
                        .header("X-Upload-Content-Length", &total)
                        .header("X-Upload-Content-Type", media_type)
                        .json(resource)
                },
                self.ctx.timeouts.request,
            )
            .await?;
        self.quota
            .charge_reply(VIDEOS_INSERT_ENDPOINT, VIDEOS_INSERT_UNITS, &reply);
        if !reply.is_success() {
            return Err(api_error(&self.api, &reply, Call::Upload));
        }
        match reply.header("location") {
            Some(uri) if uri.starts_with("https://") || uri.starts_with("http://") => {
                Ok(uri.to_owned())
            }
            _ => Err(self
                .api
                .invalid(&reply, "no session URI in the Location header")),
        }
    }

    /// `PUT {session}` with `Content-Range: bytes */TOTAL`: how much has the session received?
    async fn query(&mut self, session: &str) -> YtResult<Progress> {
        let http = &self.ctx.http;
        let range = format!("bytes */{}", self.total);
        let reply = self
            .auth
            .send(
                &self.session_api,
                "upload.chunk",
                || {
                    http.put(session)
                        .header("Content-Range", &range)
                        .header("Content-Length", "0")
                },
                self.ctx.timeouts.request,
            )
            .await?;
        self.progress(&reply)
    }

    /// Sends the next chunk from `offset`.
    async fn send_chunk(&mut self, session: &str, offset: u64) -> YtResult<Progress> {
        let len = self.chunk_size.min(self.total - offset);
        let body = read_chunk(self.video, offset, len).await?;
        let http = &self.ctx.http;
        let range = format!("bytes {offset}-{}/{}", offset + len - 1, self.total);
        let media_type = media_type(self.video);
        let reply = self
            .auth
            .send(
                &self.session_api,
                "upload.chunk",
                || {
                    http.put(session)
                        .header("Content-Range", &range)
                        .header("Content-Type", media_type)
                        .body(body.clone())
                },
                self.ctx.timeouts.upload_chunk,
            )
            .await?;
        self.progress(&reply)
    }
}

fn stalled(message: impl Into<String>) -> YtError {
    YtError::new(ErrorCode::YOUTUBE_UPLOAD_FAILED, message)
        .detail("api", "youtube")
        .detail("endpoint", "upload.chunk")
}

/// Uploads the video (continuing the saved session if there is one) and returns its id.
async fn upload_video(
    upload: &mut Upload<'_, '_>,
    resource: &Value,
    state: &mut UploadState,
    state_path: &Path,
) -> YtResult<String> {
    let mut progress = match state.session_uri.clone() {
        Some(session) => {
            tracing::info!(
                api = "youtube",
                "asking the saved upload session where it stands"
            );
            upload.query(&session).await?
        }
        None => Progress::NoSession,
    };
    let mut sessions_started = 0;
    loop {
        progress = match progress {
            Progress::Complete { video_id } => return Ok(video_id),
            Progress::NoSession => {
                // A session that expires again within one attempt is not expiry but a fault;
                // the attempt fails (retryable) instead of starting sessions without end.
                if sessions_started > 0 {
                    return Err(stalled("the new upload session vanished during the upload"));
                }
                sessions_started += 1;
                let session = upload.start_session(resource).await?;
                state.session_uri = Some(session);
                save_state(state_path, state).await?;
                Progress::Received(0)
            }
            Progress::Received(offset) if offset >= upload.total => {
                let session = state.session_uri.clone().unwrap_or_default();
                match upload.query(&session).await? {
                    Progress::Received(_) => {
                        return Err(stalled(
                            "the session holds every byte but did not finish the upload",
                        ));
                    }
                    other => other,
                }
            }
            Progress::Received(offset) => {
                let session = state.session_uri.clone().unwrap_or_default();
                tracing::debug!(
                    api = "youtube",
                    offset,
                    total = upload.total,
                    "sending a chunk"
                );
                let next = upload.send_chunk(&session, offset).await?;
                if let Progress::Received(now) = next
                    && now <= offset
                {
                    return Err(stalled(format!(
                        "the session kept none of the chunk sent from byte {offset}"
                    )));
                }
                next
            }
        };
    }
}

async fn set_thumbnail(
    ctx: &CloudContext,
    auth: &mut Auth<'_>,
    quota: &mut QuotaMeter,
    video_id: &str,
    image: Bytes,
) -> YtResult<()> {
    #[derive(Deserialize)]
    struct ThumbnailSetResponse {
        items: Vec<Value>,
    }
    let api = ApiClient::new(ctx, &CODES);
    let url = format!("{}/upload/youtube/v3/thumbnails/set", ctx.endpoints.youtube);
    let content_type = if image.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    };
    let reply = auth
        .send(
            &api,
            "thumbnails.set",
            || {
                ctx.http
                    .post(&url)
                    .query(&[("videoId", video_id), ("uploadType", "media")])
                    .header("Content-Type", content_type)
                    .body(image.clone())
            },
            ctx.timeouts.request,
        )
        .await?;
    quota.charge_reply("thumbnails.set", THUMBNAILS_SET_UNITS, &reply);
    if !reply.is_success() {
        return Err(api_error(&api, &reply, Call::Thumbnail));
    }
    let answer: ThumbnailSetResponse = api.json(&reply)?;
    if answer.items.is_empty() {
        return Err(api.invalid(&reply, "thumbnails.set answered with no thumbnail"));
    }
    Ok(())
}

pub(super) async fn publish(
    ctx: &CloudContext,
    tokens: &dyn TokenStore,
    chunk_size: u64,
    req: &PublishRequest<'_>,
) -> YtResult<PublishResult> {
    let started = Instant::now();
    let resource = video_resource(req)?;
    let total = tokio::fs::metadata(req.video)
        .await
        .map_err(|e| YtError::io("read", req.video, &e))?
        .len();
    if total == 0 {
        return Err(
            YtError::new(ErrorCode::MEDIA_INVALID, "the video file is empty")
                .detail("path", req.video.display().to_string()),
        );
    }
    if total > MAX_VIDEO_BYTES {
        return Err(YtError::new(
            ErrorCode::YOUTUBE_VIDEO_TOO_LARGE,
            format!("the video is {total} bytes; YouTube accepts at most 256 GB"),
        )
        .detail("bytes", total));
    }
    // Checked before the upload, so a thumbnail YouTube would refuse costs no upload.
    let thumbnail = tokio::fs::read(req.thumbnail)
        .await
        .map_err(|e| YtError::io("read", req.thumbnail, &e))?;
    if thumbnail.len() as u64 > MAX_THUMBNAIL_BYTES {
        return Err(YtError::new(
            ErrorCode::THUMBNAIL_TOO_LARGE,
            format!(
                "the thumbnail is {} bytes; YouTube accepts at most 2 MB",
                thumbnail.len()
            ),
        )
        .detail("bytes", thumbnail.len())
        .detail("limit_bytes", MAX_THUMBNAIL_BYTES));
    }
    let file_sha256 = sha256_file(req.video).await?;
    let thumbnail_sha256 = hex(&Sha256::digest(&thumbnail));
    let state_path = req.state_dir.join(UPLOAD_STATE_FILE);
    // A state for another file (the video was rendered again) is not continued.
    let mut state = load_state(&state_path)
        .await?
        .filter(|s| s.file_size == total && s.file_sha256 == file_sha256)
        .unwrap_or_else(|| UploadState {
            file_size: total,
            file_sha256,
            ..UploadState::default()
        });

    let mut auth = Auth::load(ctx, tokens).await?;
    let mut quota = QuotaMeter::default();
    let video_id = match state.video_id.clone() {
        Some(id) => {
            tracing::info!(api = "youtube", video_id = %id, "the video was uploaded before; not uploading it again");
            id
        }
        None => {
            let mut upload = Upload {
                ctx,
                auth: &mut auth,
                quota: &mut quota,
                api: ApiClient::new(ctx, &CODES),
                session_api: ApiClient::new(ctx, &UPLOAD_CODES),
                video: req.video,
                total,
                chunk_size,
            };
            let id = upload_video(&mut upload, &resource, &mut state, &state_path).await?;
            state.video_id = Some(id.clone());
            state.session_uri = None;
            save_state(&state_path, &state).await?;
            id
        }
    };
    if state.thumbnail_sha256.as_deref() != Some(thumbnail_sha256.as_str()) {
        set_thumbnail(
            ctx,
            &mut auth,
            &mut quota,
            &video_id,
            Bytes::from(thumbnail),
        )
        .await?;
        state.thumbnail_sha256 = Some(thumbnail_sha256);
        save_state(&state_path, &state).await?;
    }
    tracing::info!(
        api = "youtube",
        video_id = %video_id,
        bytes = total,
        quota_units = quota.used,
        duration_ms = started.elapsed().as_millis() as u64,
        "published to YouTube"
    );
    Ok(PublishResult {
        location: format!("https://youtu.be/{video_id}"),
        video_id: Some(video_id),
    })
}
