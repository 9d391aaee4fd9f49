//! D-ID talks: the presenter clip made by D-ID from a portrait and the intro/outro narration.
//!
//! The flow is D-ID's: upload the portrait (`POST /images`) and the narration (`POST /audios`) to
//! D-ID's temporary storage — D-ID is only ever given URLs it handed out, never one of ours —
//! create a talk from them (`POST /talks`, an audio script), poll `GET /talks/{id}` until it is
//! `done`, and download `result_url` (a pre-signed storage URL, fetched without the key).
//!
//! A talk costs credits, so it is never paid for twice by a retry: the created talk's id is kept
//! with the SHA-256 of the image and audio it was made from in `<stem>.did-talk.json` next to the
//! output, and an attempt with the same inputs polls that talk instead of creating another. The
//! record stays once the clip is in place, with the clip's SHA-256: the run can end before the
//! pipeline records the clip (a lost lease), and the next attempt then reuses the clip as it is.
//! It is removed when D-ID reports the talk failed (D-ID returns the credits of a failed talk,
//! and a retry has to start a new one).
//!
//! The answer to `POST /talks` can be lost after D-ID accepted the talk (a timeout, a reset
//! connection, a gateway's 5xx), leaving a paid talk whose id we never learnt. So every create
//! carries `user_data` (D-ID keeps it on the talk and shows it in `GET /talks`): the inputs'
//! fingerprint and a nonce of this clip's record, written to the record *before* the request is
//! sent and kept until D-ID's answer settles the outcome. An attempt that finds an unsettled
//! create lists the account's talks (following `token` page by page) and uses the talk with that
//! `user_data` instead of creating another; only when there is none is a talk created, with the
//! same `user_data`.
//!
//! A single call that gets no answer in time is `DID_NETWORK_ERROR`, like a failed connection:
//! `DID_PROCESSING_TIMEOUT` means a talk that was accepted and did not finish within
//! `Timeouts::did_processing`, and its guide says so.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::multipart::{Form, Part};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use ytmaker_core::config::PresenterSettings;
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};
use ytmaker_render::Toolchain;

use super::CloudContext;
use super::Timeouts;
use super::http::{ApiClient, ApiCodes, Reply};
use crate::atomic::{self, PendingFile};
use crate::local::{portrait, portrait_invalid};
use crate::{Presenter, PresenterClip, PresenterRequest};

pub static CODES: ApiCodes = ApiCodes {
    api: "did",
    timeout: ErrorCode::DID_NETWORK_ERROR,
    network: ErrorCode::DID_NETWORK_ERROR,
    invalid_response: ErrorCode::DID_INVALID_RESPONSE,
    refused: None,
};

const IMAGES_UPLOAD: &str = "images.upload";
const AUDIOS_UPLOAD: &str = "audios.upload";
const TALKS_CREATE: &str = "talks.create";
const TALKS_GET: &str = "talks.get";
const TALKS_LIST: &str = "talks.list";
const RESULT_DOWNLOAD: &str = "result.download";
const CREDITS: &str = "credits";

/// D-ID keeps uploads for 24–48 hours; an upload older than this is made again rather than
/// risking a talk on an expired URL.
const UPLOAD_REUSE_LIMIT: Duration = Duration::from_secs(12 * 3600);
/// How far the clip's length may be from the narration's before the result is refused (AAC
/// priming and the last video frame account for a few hundredths of a second).
const DURATION_TOLERANCE_S: f64 = 0.5;
/// Talks per `GET /talks` page (D-ID's default).
const LIST_PAGE_SIZE: u32 = 100;
/// How many pages of the talk list a lookup reads before it gives up and creates the talk: D-ID
/// lists the newest talks first, so a talk created minutes ago is on the first page; the bound
/// only keeps an account with thousands of talks from being read whole on every retry.
const LIST_MAX_PAGES: u32 = 20;

/// The presenter made by D-ID.
pub struct DidPresenter {
    api: ApiClient,
    base: String,
    key: Secret,
    timeouts: Timeouts,
    tools: Toolchain,
}

/// The account's credits, as `GET /credits` reports them (summed over its credit grants).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct DidCredits {
    pub remaining: f64,
    pub total: f64,
}

/// Makes the cheapest call that proves the key works: `GET /credits`.
pub async fn credits(ctx: &CloudContext, key: &Secret) -> YtResult<DidCredits> {
    let api = ApiClient::new(ctx, &CODES);
    let url = format!("{}/credits", ctx.endpoints.did.trim_end_matches('/'));
    let reply = api
        .send(
            CREDITS,
            api.http().get(url).headers(auth(key)?),
            ctx.timeouts.request,
        )
        .await?;
    if !reply.is_success() {
        return Err(reply_error(&api, &reply));
    }
    api.json(&reply)
}

pub async fn test_key(ctx: &CloudContext, key: &Secret) -> YtResult<String> {
    let credits = credits(ctx, key).await?;
    Ok(format!(
        "key works; {} of {} credits left",
        credits.remaining, credits.total
    ))
}

/// `Authorization: Basic <key>`: D-ID's keys are already the encoded `user:password` pair.
fn auth(key: &Secret) -> YtResult<HeaderMap> {
    let mut value = HeaderValue::from_str(&format!("Basic {}", key.expose())).map_err(|_| {
        YtError::new(
            ErrorCode::DID_INVALID_API_KEY,
            "the D-ID key contains characters an HTTP header cannot carry (a line break or a non-ASCII character pasted with it?)",
        )
        .detail("api", CODES.api)
    })?;
    value.set_sensitive(true);
    Ok(HeaderMap::from_iter([(AUTHORIZATION, value)]))
}

impl DidPresenter {
    pub fn new(ctx: &CloudContext, key: Secret, tools: Toolchain) -> Self {
        DidPresenter {
            api: ApiClient::new(ctx, &CODES),
            base: ctx.endpoints.did.trim_end_matches('/').to_owned(),
            key,
            timeouts: ctx.timeouts,
            tools,
        }
    }

    async fn send(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> YtResult<Reply> {
        let reply = self
            .api
            .send(
                endpoint,
                request.headers(auth(&self.key)?),
                self.timeouts.request,
            )
            .await?;
        if reply.is_success() {
            Ok(reply)
        } else {
            Err(reply_error(&self.api, &reply))
        }
    }

    /// Uploads one file to D-ID's temporary storage and returns the URL D-ID gave it.
    async fn upload(&self, endpoint: &'static str, file: &MediaFile) -> YtResult<String> {
        let mut part_headers = HeaderMap::new();
        part_headers.insert(CONTENT_TYPE, HeaderValue::from_static(file.mime));
        let part = Part::bytes(file.bytes.clone())
            .file_name(file.file_name)
            .headers(part_headers);
        let form = Form::new().part(file.field, part);
        let url = format!("{}/{}", self.base, file.path);
        let reply = self
            .send(endpoint, self.api.http().post(url).multipart(form))
            .await?;
        let uploaded: Uploaded = self.api.json(&reply)?;
        match uploaded.url {
            Some(url) if !url.is_empty() => Ok(url),
            _ => Err(self.api.invalid(&reply, "the upload answer has no url")),
        }
    }

    /// Creates the talk. The record says "create sent, outcome unknown" (with the `user_data`
    /// the talk is created with) before the request leaves, and keeps saying it unless D-ID
    /// answers: with the talk's id, or with a refusal (4xx), after which no talk exists.
    async fn create_talk(
        &self,
        talk: &mut TalkState,
        state: &StateFile,
        source_url: &str,
        audio_url: &str,
    ) -> YtResult<String> {
        let create = talk
            .create
            .get_or_insert_with(|| CreateAttempt::new(&talk.image_sha256, &talk.audio_sha256));
        create.outcome_unknown = true;
        let user_data = create.user_data.clone();
        state.save(talk).await?;
        let body = serde_json::json!({
            "source_url": source_url,
            "script": { "type": "audio", "audio_url": audio_url },
            "user_data": user_data,
        });
        let url = format!("{}/talks", self.base);
        let request = self
            .api
            .http()
            .post(url)
            .json(&body)
            .headers(auth(&self.key)?);
        // No answer: D-ID may or may not have the talk; the record keeps the question open.
        let reply = self
            .api
            .send(TALKS_CREATE, request, self.timeouts.request)
            .await
            .map_err(|err| err.detail("talk_create_outcome", "unknown"))?;
        if !reply.is_success() {
            let err = reply_error(&self.api, &reply);
            if reply.status >= 500 {
                // A gateway or server error can come after the talk was stored.
                return Err(err.detail("talk_create_outcome", "unknown"));
            }
            if let Some(create) = talk.create.as_mut() {
                create.outcome_unknown = false;
            }
            if let Err(save_err) = state.save(talk).await {
                // The next attempt then only looks the talk up once more before creating it.
                tracing::warn!(path = %state.path.display(), "could not record that D-ID refused the talk: {}", save_err.message);
            }
            return Err(err.detail("talk_create_outcome", "refused"));
        }
        let created: TalkCreated = self.api.json(&reply)?;
        match created.id {
            Some(id) if !id.is_empty() => {
                talk.talk_id = Some(id.clone());
                talk.create = None;
                state.save(talk).await?;
                Ok(id)
            }
            // Accepted, yet no id to follow: the lookup by user_data finds it.
            _ => Err(self.api.invalid(&reply, "the created talk has no id")),
        }
    }

    /// The talk created with `user_data`, from `GET /talks` page by page: one still running or
    /// done if there is one, else a failed one (whose error is then reported), else `None`.
    async fn find_talk(&self, user_data: &str) -> YtResult<Option<String>> {
        let url = format!("{}/talks", self.base);
        let limit = LIST_PAGE_SIZE.to_string();
        let mut token: Option<String> = None;
        let mut failed: Option<String> = None;
        for _ in 0..LIST_MAX_PAGES {
            let mut query = vec![("limit", limit.as_str())];
            if let Some(token) = &token {
                query.push(("token", token.as_str()));
            }
            let reply = self
                .send(TALKS_LIST, self.api.http().get(&url).query(&query))
                .await?;
            let page: TalkList = self.api.json(&reply)?;
            for listed in page.talks {
                if listed.user_data.as_deref() != Some(user_data) || listed.id.is_empty() {
                    continue;
                }
                match listed.status.as_deref() {
                    Some("error" | "rejected") => {
                        failed.get_or_insert(listed.id);
                    }
                    _ => return Ok(Some(listed.id)),
                }
            }
            match page.token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => return Ok(failed),
            }
        }
        if failed.is_none() {
            tracing::warn!(
                api = CODES.api,
                pages = LIST_MAX_PAGES,
                "the talk whose create got no answer is not among the newest {} talks; creating it",
                LIST_MAX_PAGES * LIST_PAGE_SIZE
            );
        }
        Ok(failed)
    }

    /// Polls the talk until it is done and returns its `result_url`. A talk D-ID reports failed
    /// is forgotten (`state` removed) before its error is returned.
    async fn wait_for(&self, talk_id: &str, state: &StateFile) -> YtResult<String> {
        let url = format!("{}/talks/{talk_id}", self.base);
        let started = Instant::now();
        loop {
            let request = self.api.http().get(&url).headers(auth(&self.key)?);
            let reply = self
                .api
                .send(TALKS_GET, request, self.timeouts.request)
                .await?;
            if reply.status == 404 {
                // The talk was deleted at D-ID; only a new one can give the clip.
                state.remove().await?;
                return Err(reply_error(&self.api, &reply).detail("talk_id", talk_id));
            }
            if !reply.is_success() {
                return Err(reply_error(&self.api, &reply).detail("talk_id", talk_id));
            }
            let talk: Talk = self.api.json(&reply)?;
            match talk.status.as_deref() {
                Some("done") => {
                    return match talk.result_url {
                        Some(url) if !url.is_empty() => Ok(url),
                        _ => Err(self
                            .api
                            .invalid(&reply, "the talk is done but has no result_url")),
                    };
                }
                Some(status @ ("error" | "rejected")) => {
                    state.remove().await?;
                    return Err(self.talk_failed(&reply, talk_id, status, talk.error));
                }
                Some("created" | "started") => {}
                other => {
                    return Err(self.api.invalid(
                        &reply,
                        format!("unknown talk status {:?}", other.unwrap_or("(none)")),
                    ));
                }
            }
            let waited = started.elapsed();
            if waited >= self.timeouts.did_processing {
                let err = YtError::new(
                    ErrorCode::DID_PROCESSING_TIMEOUT,
                    format!(
                        "D-ID did not finish talk {talk_id} within {} s (still {})",
                        self.timeouts.did_processing.as_secs_f64(),
                        talk.status.as_deref().unwrap_or("?")
                    ),
                )
                .detail("api", CODES.api)
                .detail("endpoint", TALKS_GET)
                .detail("talk_id", talk_id)
                .detail("waited_ms", waited.as_millis() as u64);
                tracing::warn!(api = CODES.api, talk_id, error_code = %err.code, "{}", err.message);
                return Err(err);
            }
            tokio::time::sleep(self.timeouts.did_poll).await;
        }
    }

    /// The code of a talk that ended in `error` or `rejected`, from D-ID's error kind; a
    /// `rejected` talk is one D-ID's content moderation refused.
    fn talk_failed(
        &self,
        reply: &Reply,
        talk_id: &str,
        status: &str,
        error: Option<ErrorBody>,
    ) -> YtError {
        let error = error.unwrap_or_default();
        let kind = error.kind.unwrap_or_default();
        let description = error.description.unwrap_or_default();
        let code = if status == "rejected" {
            ErrorCode::DID_CONTENT_REJECTED
        } else {
            classify(&kind, &description, ErrorCode::DID_SERVER_ERROR)
        };
        self.api
            .error(
                code,
                reply,
                format!("D-ID talk {talk_id} ended {status}: {kind}: {description}"),
            )
            .detail("talk_id", talk_id)
            .detail("talk_status", status)
            .detail("kind", kind)
            .detail("description", description)
    }

    /// Downloads the result into `<out_dir>/<stem>.mp4` and checks it is the clip asked for.
    async fn download(
        &self,
        result_url: &str,
        req: &PresenterRequest<'_>,
    ) -> YtResult<PresenterClip> {
        // A pre-signed storage URL on another host: the key is not sent there.
        let reply = self
            .api
            .send(
                RESULT_DOWNLOAD,
                self.api.http().get(result_url),
                self.timeouts.request,
            )
            .await?;
        match reply.status {
            200..=299 => {}
            500..=599 => {
                let err = self.api.error(
                    ErrorCode::DID_SERVER_ERROR,
                    &reply,
                    format!("D-ID's result storage answered HTTP {}", reply.status),
                );
                return Err(reply.describe_body(err));
            }
            // Storage answers with its own XML: an expired or missing result.
            status => {
                return Err(self.api.invalid(
                    &reply,
                    format!("the result cannot be downloaded (HTTP {status})"),
                ));
            }
        }
        let target = req.out_dir.join(format!("{}.mp4", req.file_stem));
        let pending = PendingFile::new(&target);
        tokio::fs::write(pending.path(), &reply.body)
            .await
            .map_err(|e| YtError::io("write", pending.path(), &e))?;
        let info = match ytmaker_render::probe(&self.tools, pending.path()).await {
            Ok(info) => info,
            Err(err) if err.code == ErrorCode::MEDIA_INVALID => {
                return Err(self
                    .api
                    .invalid(&reply, "the result is not a playable video")
                    .detail("probe", err.message));
            }
            Err(err) => return Err(err),
        };
        if info.video.is_none() {
            return Err(self.api.invalid(&reply, "the result has no video stream"));
        }
        if (info.duration_s - req.duration_s).abs() > DURATION_TOLERANCE_S {
            return Err(self
                .api
                .invalid(
                    &reply,
                    format!(
                        "the clip lasts {:.2} s, the narration {:.2} s",
                        info.duration_s, req.duration_s
                    ),
                )
                .detail("clip_duration_s", info.duration_s)
                .detail("narration_duration_s", req.duration_s));
        }
        let path = pending.commit().await?;
        Ok(PresenterClip {
            path,
            duration_s: info.duration_s,
        })
    }

    /// The portrait D-ID animates: the user's PNG/JPEG, or the built-in drawing as a PNG.
    async fn portrait(&self, settings: &PresenterSettings) -> YtResult<MediaFile> {
        let Some(path) = &settings.portrait else {
            let bytes = tokio::task::spawn_blocking(portrait::builtin_portrait_png)
                .await
                .map_err(|e| {
                    YtError::new(
                        ErrorCode::WORKER_PANICKED,
                        format!("drawing the built-in presenter failed: {e}"),
                    )
                })?
                .map_err(|e| {
                    YtError::new(
                        ErrorCode::IMAGE_RENDER_FAILED,
                        format!("cannot encode the built-in presenter: {e}"),
                    )
                })?;
            return Ok(MediaFile::image(bytes, ImageKind::Png));
        };
        let bytes = tokio::fs::read(path)
            .await
            .map_err(|e| portrait_invalid(path, &format!("cannot read it: {e}")))?;
        let kind = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            ImageKind::Png
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            ImageKind::Jpeg
        } else {
            return Err(portrait_invalid(path, "it is neither PNG nor JPEG"));
        };
        // The header must decode too: D-ID would refuse a truncated or mislabelled file later,
        // after the upload, with a less useful error.
        image::ImageReader::new(std::io::Cursor::new(&bytes))
            .with_guessed_format()
            .map_err(|e| portrait_invalid(path, &e.to_string()))?
            .into_dimensions()
            .map_err(|e| portrait_invalid(path, &e.to_string()))?;
        Ok(MediaFile::image(bytes, kind))
    }
}

#[async_trait]
impl Presenter for DidPresenter {
    fn id(&self) -> &'static str {
        "did"
    }

    async fn present(&self, req: &PresenterRequest<'_>) -> YtResult<PresenterClip> {
        let image = self.portrait(req.settings).await?;
        let audio = MediaFile::audio(
            tokio::fs::read(req.audio)
                .await
                .map_err(|e| YtError::io("read", req.audio, &e))?,
            req.audio,
        )?;
        let state = StateFile {
            path: req.out_dir.join(format!("{}.did-talk.json", req.file_stem)),
        };
        let mut talk = state.load(&image, &audio).await?;
        let target = req.out_dir.join(format!("{}.mp4", req.file_stem));
        if let Some(clip) = self.finished_clip(&talk, &target).await? {
            tracing::info!(
                api = CODES.api,
                path = %target.display(),
                "the clip of this talk is already in place; reusing it"
            );
            return Ok(clip);
        }
        if talk.talk_id.is_none()
            && let Some(create) = talk.create.as_ref().filter(|c| c.outcome_unknown)
        {
            let user_data = create.user_data.clone();
            if let Some(id) = self.find_talk(&user_data).await? {
                tracing::info!(
                    api = CODES.api,
                    talk_id = id,
                    "found the talk whose create got no answer; using it"
                );
                talk.talk_id = Some(id);
                talk.create = None;
                state.save(&talk).await?;
            }
        }
        let talk_id = match talk.talk_id.clone() {
            Some(id) => id,
            None => {
                let source_url = match talk.image.as_ref().and_then(Upload::reusable) {
                    Some(url) => url,
                    None => {
                        let url = self.upload(IMAGES_UPLOAD, &image).await?;
                        talk.image = Some(Upload::now(url.clone()));
                        state.save(&talk).await?;
                        url
                    }
                };
                let audio_url = match talk.audio.as_ref().and_then(Upload::reusable) {
                    Some(url) => url,
                    None => {
                        let url = self.upload(AUDIOS_UPLOAD, &audio).await?;
                        talk.audio = Some(Upload::now(url.clone()));
                        state.save(&talk).await?;
                        url
                    }
                };
                self.create_talk(&mut talk, &state, &source_url, &audio_url)
                    .await?
            }
        };
        let result_url = self.wait_for(&talk_id, &state).await?;
        let clip = self.download(&result_url, req).await?;
        // The record stays with the clip: the run can still end before the pipeline records the
        // clip as done (a lost lease, a locked database), and the next attempt must then reuse
        // this clip, or at worst poll this talk again, never pay for another one.
        let bytes = tokio::fs::read(&clip.path)
            .await
            .map_err(|e| YtError::io("read", &clip.path, &e))?;
        talk.clip_sha256 = Some(sha256_hex(&bytes));
        if let Err(err) = state.save(&talk).await {
            // The talk id is saved already: a next attempt polls the finished talk and
            // downloads its result again, which costs no credit.
            tracing::warn!(path = %state.path.display(), "could not record the finished D-ID clip: {}", err.message);
        }
        Ok(clip)
    }
}

impl DidPresenter {
    /// The clip a previous attempt downloaded for this very talk, if it is still in place
    /// unchanged.
    async fn finished_clip(
        &self,
        talk: &TalkState,
        target: &Path,
    ) -> YtResult<Option<PresenterClip>> {
        let Some(expected) = talk.clip_sha256.as_deref() else {
            return Ok(None);
        };
        let bytes = match tokio::fs::read(target).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(YtError::io("read", target, &e)),
        };
        if sha256_hex(&bytes) != expected {
            return Ok(None);
        }
        let info = ytmaker_render::probe(&self.tools, target).await?;
        Ok(Some(PresenterClip {
            path: target.to_path_buf(),
            duration_s: info.duration_s,
        }))
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The code for a D-ID error answer: by status, then by D-ID's error `kind` and `description`
/// and by which call failed (an upload's 400 is about that upload).
fn reply_error(api: &ApiClient, reply: &Reply) -> YtError {
    let body: Option<ErrorBody> = serde_json::from_slice(&reply.body).ok();
    let Some(ErrorBody {
        kind: Some(kind),
        description,
    }) = body
    else {
        let code = match reply.status {
            500..=599 => ErrorCode::DID_SERVER_ERROR,
            401 | 403 => ErrorCode::DID_INVALID_API_KEY,
            402 => ErrorCode::DID_QUOTA_EXCEEDED,
            429 => ErrorCode::DID_RATE_LIMIT,
            _ => {
                return api.invalid(
                    reply,
                    format!("HTTP {} without D-ID's error body", reply.status),
                );
            }
        };
        let err = api.error(
            code,
            reply,
            format!("D-ID {} answered HTTP {}", reply.endpoint, reply.status),
        );
        return reply.describe_body(err);
    };
    let description = description.unwrap_or_default();
    let code = match reply.status {
        // Whichever call it refused: the image or the words must change, not the format.
        _ if is_moderation(&kind) => ErrorCode::DID_CONTENT_REJECTED,
        401 | 403 => ErrorCode::DID_INVALID_API_KEY,
        402 => ErrorCode::DID_QUOTA_EXCEEDED,
        429 if mentions_credits(&kind, &description) => ErrorCode::DID_QUOTA_EXCEEDED,
        429 => ErrorCode::DID_RATE_LIMIT,
        500..=599 => ErrorCode::DID_SERVER_ERROR,
        400 | 413 | 415 | 422 | 451 => match reply.endpoint {
            IMAGES_UPLOAD => ErrorCode::DID_INVALID_IMAGE,
            AUDIOS_UPLOAD => ErrorCode::DID_INVALID_AUDIO,
            TALKS_CREATE => classify(&kind, &description, ErrorCode::DID_INVALID_IMAGE),
            _ => ErrorCode::DID_INVALID_RESPONSE,
        },
        // An account D-ID has no credit grant for.
        404 if reply.endpoint == CREDITS => ErrorCode::DID_QUOTA_EXCEEDED,
        _ => ErrorCode::DID_INVALID_RESPONSE,
    };
    api.error(
        code,
        reply,
        format!(
            "D-ID {} answered HTTP {}: {kind}: {description}",
            reply.endpoint, reply.status
        ),
    )
    .detail("kind", kind)
    .detail("description", description)
}

/// D-ID's `ContentModerationError`: its moderation refused the content.
fn is_moderation(kind: &str) -> bool {
    kind.to_ascii_lowercase().contains("moderation")
}

/// Which input a D-ID error is about: the content (moderation), the audio, the image (no face,
/// unreadable source), or neither (`otherwise`).
fn classify(kind: &str, description: &str, otherwise: ErrorCode) -> ErrorCode {
    let text = format!("{kind} {description}").to_lowercase();
    if is_moderation(kind) {
        ErrorCode::DID_CONTENT_REJECTED
    } else if text.contains("audio") {
        ErrorCode::DID_INVALID_AUDIO
    } else if ["face", "image", "source"].iter().any(|w| text.contains(w)) {
        ErrorCode::DID_INVALID_IMAGE
    } else {
        otherwise
    }
}

/// A 429 that is about the account's credits or quota rather than the request rate.
fn mentions_credits(kind: &str, description: &str) -> bool {
    let text = format!("{kind} {description}").to_lowercase();
    ["credit", "quota"].iter().any(|w| text.contains(w))
}

#[derive(Default, Deserialize)]
struct ErrorBody {
    kind: Option<String>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct Uploaded {
    url: Option<String>,
}

#[derive(Deserialize)]
struct TalkCreated {
    id: Option<String>,
}

#[derive(Deserialize)]
struct Talk {
    status: Option<String>,
    result_url: Option<String>,
    error: Option<ErrorBody>,
}

/// A page of `GET /talks`: `token` fetches the next one and is absent on the last.
#[derive(Deserialize)]
struct TalkList {
    #[serde(default)]
    talks: Vec<ListedTalk>,
    token: Option<String>,
}

#[derive(Deserialize)]
struct ListedTalk {
    #[serde(default)]
    id: String,
    status: Option<String>,
    user_data: Option<String>,
}

#[derive(Clone, Copy)]
enum ImageKind {
    Png,
    Jpeg,
}

/// One multipart upload.
struct MediaFile {
    bytes: Vec<u8>,
    /// The API path and the form field D-ID reads the file from.
    path: &'static str,
    field: &'static str,
    file_name: &'static str,
    mime: &'static str,
}

impl MediaFile {
    fn image(bytes: Vec<u8>, kind: ImageKind) -> Self {
        let (file_name, mime) = match kind {
            ImageKind::Png => ("presenter.png", "image/png"),
            ImageKind::Jpeg => ("presenter.jpg", "image/jpeg"),
        };
        MediaFile {
            bytes,
            path: "images",
            field: "image",
            file_name,
            mime,
        }
    }

    /// The narration, by its content (D-ID accepts `audio/*` and `video/*`).
    fn audio(bytes: Vec<u8>, path: &Path) -> YtResult<Self> {
        let (file_name, mime) =
            if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
                ("narration.wav", "audio/wav")
            } else if bytes.starts_with(b"ID3")
                || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0)
            {
                ("narration.mp3", "audio/mpeg")
            } else if bytes.starts_with(b"OggS") {
                ("narration.ogg", "audio/ogg")
            } else if bytes.starts_with(b"fLaC") {
                ("narration.flac", "audio/flac")
            } else if bytes.len() >= 8 && &bytes[4..8] == b"ftyp" {
                ("narration.m4a", "audio/mp4")
            } else {
                return Err(YtError::new(
                ErrorCode::DID_INVALID_AUDIO,
                format!(
                    "the narration {} is not WAV, MP3, Ogg, FLAC or MP4 audio, which D-ID needs",
                    path.display()
                ),
            )
            .detail("path", path.display().to_string()));
            };
        Ok(MediaFile {
            bytes,
            path: "audios",
            field: "audio",
            file_name,
            mime,
        })
    }

    fn sha256(&self) -> String {
        sha256_hex(&self.bytes)
    }
}

/// What one presenter clip has got from D-ID so far, for the next attempt to continue from.
#[derive(Debug, Default, Serialize, Deserialize)]
struct TalkState {
    image_sha256: String,
    audio_sha256: String,
    image: Option<Upload>,
    audio: Option<Upload>,
    talk_id: Option<String>,
    /// The create in progress, until D-ID's answer gives the talk's id.
    #[serde(default)]
    create: Option<CreateAttempt>,
    /// The SHA-256 of the clip once it is downloaded and in place.
    #[serde(default)]
    clip_sha256: Option<String>,
}

/// A `POST /talks` of this clip: the `user_data` every try of it sends, and whether the last
/// try got no settling answer (so D-ID may hold a talk made from it).
#[derive(Debug, Serialize, Deserialize)]
struct CreateAttempt {
    user_data: String,
    outcome_unknown: bool,
}

impl CreateAttempt {
    /// The inputs' fingerprint and a nonce of this record, so that only a talk made for this
    /// clip by this record is ever taken (an older talk with the same inputs may have a result
    /// that has expired). About 190 characters; D-ID takes up to 1,000.
    fn new(image_sha256: &str, audio_sha256: &str) -> Self {
        CreateAttempt {
            user_data: format!(
                "ytmaker presenter image={image_sha256} audio={audio_sha256} create={}",
                uuid::Uuid::new_v4().simple()
            ),
            outcome_unknown: false,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Upload {
    url: String,
    uploaded_at_unix_s: u64,
}

impl Upload {
    fn now(url: String) -> Self {
        Upload {
            url,
            uploaded_at_unix_s: unix_now_s(),
        }
    }

    fn reusable(&self) -> Option<String> {
        let age = unix_now_s().saturating_sub(self.uploaded_at_unix_s);
        (age < UPLOAD_REUSE_LIMIT.as_secs()).then(|| self.url.clone())
    }
}

fn unix_now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `<out_dir>/<stem>.did-talk.json`, always replaced whole.
struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// The saved state when it was made from these very inputs, else a fresh one.
    async fn load(&self, image: &MediaFile, audio: &MediaFile) -> YtResult<TalkState> {
        let fresh = TalkState {
            image_sha256: image.sha256(),
            audio_sha256: audio.sha256(),
            ..TalkState::default()
        };
        let text = match tokio::fs::read(&self.path).await {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(fresh),
            Err(e) => return Err(YtError::io("read", &self.path, &e)),
        };
        match serde_json::from_slice::<TalkState>(&text) {
            Ok(saved)
                if saved.image_sha256 == fresh.image_sha256
                    && saved.audio_sha256 == fresh.audio_sha256 =>
            {
                Ok(saved)
            }
            Ok(_) => Ok(fresh),
            // `save` only ever writes it whole, so something else damaged it. Starting over would
            // pay for a new talk without asking; the user decides by deleting the file.
            Err(e) => Err(YtError::new(
                ErrorCode::FILE_SYSTEM_ERROR,
                format!(
                    "the D-ID talk record {} is unreadable ({e}); delete it to create a new talk (charged again)",
                    self.path.display()
                ),
            )
            .detail("path", self.path.display().to_string())),
        }
    }

    async fn save(&self, state: &TalkState) -> YtResult<()> {
        let json = serde_json::to_vec_pretty(state).map_err(|e| {
            YtError::new(
                ErrorCode::FILE_SYSTEM_ERROR,
                format!("cannot encode the D-ID talk state: {e}"),
            )
        })?;
        atomic::write_file(&self.path, &json).await.map(|_| ())
    }

    async fn remove(&self) -> YtResult<()> {
        match tokio::fs::remove_file(&self.path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(YtError::io("remove", &self.path, &e)),
        }
    }
}
