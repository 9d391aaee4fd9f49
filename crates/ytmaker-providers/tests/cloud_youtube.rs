//! The YouTube client against the fake cloud over real HTTP: publishing (resumable upload,
//! resume after a dropped chunk, after a restart and after a session expiry, no second upload
//! after a thumbnail failure, the metadata sent), the OAuth login and refresh, and one row per
//! `YOUTUBE_*` code run through the one retry loop.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde_json::json;
use ytmaker_core::script::{Language, NarrationLine, Script};
use ytmaker_core::youtube::{Privacy, YoutubeSettings};
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};
use ytmaker_fake_cloud::youtube::{CHANNEL_ID, CHANNEL_TITLE};
use ytmaker_fake_cloud::{Api, FakeCloud, Fault, FaultAction};
use ytmaker_providers::cloud::http::{CallRecord, CallRecorder};
use ytmaker_providers::cloud::youtube::{
    self, TokenStore, UPLOAD_STATE_FILE, YoutubePublisher, YoutubeTokens,
};
use ytmaker_providers::cloud::{CloudContext, Endpoints, Timeouts};
use ytmaker_providers::retry::{self, DelayScale};
use ytmaker_providers::{PublishRequest, PublishResult, Publisher};

const CLIENT_ID: &str = "123-ytmaker.apps.googleusercontent.com";
const CLIENT_SECRET: &str = "GOCSPX-fake-desktop-secret";
const KIB: u64 = 1024;

// ---- Fixtures ----

struct MemoryStore {
    tokens: Mutex<Option<YoutubeTokens>>,
    saves: AtomicUsize,
}

impl MemoryStore {
    fn new(tokens: Option<YoutubeTokens>) -> Arc<MemoryStore> {
        Arc::new(MemoryStore {
            tokens: Mutex::new(tokens),
            saves: AtomicUsize::new(0),
        })
    }

    fn current(&self) -> YoutubeTokens {
        self.tokens.lock().unwrap().clone().expect("tokens stored")
    }
}

#[async_trait]
impl TokenStore for MemoryStore {
    async fn load(&self) -> YtResult<YoutubeTokens> {
        self.tokens.lock().unwrap().clone().ok_or_else(|| {
            YtError::new(
                ErrorCode::YOUTUBE_NOT_LINKED,
                "no YouTube account is linked",
            )
        })
    }

    async fn save(&self, tokens: &YoutubeTokens) -> YtResult<()> {
        *self.tokens.lock().unwrap() = Some(tokens.clone());
        self.saves.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn tokens(access: &str, refresh: &str, expires_at_ms: i64) -> YoutubeTokens {
    YoutubeTokens {
        client_id: CLIENT_ID.into(),
        client_secret: Some(Secret::new(CLIENT_SECRET)),
        access_token: Secret::new(access),
        refresh_token: Secret::new(refresh),
        expires_at_ms,
        scope: youtube::SCOPES.join(" "),
    }
}

/// An account linked at the fake, its access token valid for the next hour.
fn linked(cloud: &FakeCloud) -> Arc<MemoryStore> {
    let granted = cloud.state().youtube.grant(CLIENT_ID);
    MemoryStore::new(Some(tokens(
        &granted.access_token,
        &granted.refresh_token,
        now_ms() + granted.expires_in as i64 * 1000,
    )))
}

fn ctx_with(cloud: &FakeCloud, timeout: Duration) -> CloudContext {
    CloudContext::new(
        Endpoints::all_at(&cloud.url()),
        Timeouts {
            connect: Duration::from_secs(2),
            request: timeout,
            upload_chunk: timeout,
            ..Timeouts::default()
        },
    )
    .unwrap()
}

fn ctx(cloud: &FakeCloud) -> CloudContext {
    ctx_with(cloud, Duration::from_secs(10))
}

fn script() -> Script {
    let line = |text: &str| NarrationLine {
        text: text.into(),
        estimated_seconds: 3.0,
    };
    Script {
        language: Language::ZhTw,
        title: "台灣茶的百年故事".into(),
        description: "從山林到茶杯：台灣茶如何走向世界。".into(),
        tags: vec!["台灣".into(), "茶".into(), "歷史".into()],
        intro: line("歡迎收看。"),
        segments: Vec::new(),
        outro: line("謝謝收看。"),
        condensation: None,
        warnings: Vec::new(),
    }
}

/// A video file (bytes that are not a repeating pattern, so a misplaced chunk shows), a real
/// JPEG thumbnail and a state folder.
struct Files {
    dir: tempfile::TempDir,
    video: PathBuf,
    thumbnail: PathBuf,
    subtitles: PathBuf,
    bytes: Vec<u8>,
}

impl Files {
    fn new(size: u64) -> Files {
        let dir = tempfile::tempdir().unwrap();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let bytes: Vec<u8> = (0..size)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let video = dir.path().join("final_video.mp4");
        std::fs::write(&video, &bytes).unwrap();
        let thumbnail = dir.path().join("thumbnail.jpg");
        image::RgbImage::from_fn(128, 72, |x, y| image::Rgb([x as u8 * 2, y as u8 * 3, 90]))
            .save_with_format(&thumbnail, image::ImageFormat::Jpeg)
            .unwrap();
        let subtitles = dir.path().join("subtitles.srt");
        std::fs::write(&subtitles, "1\n00:00:00,000 --> 00:00:01,000\n茶\n").unwrap();
        Files {
            dir,
            video,
            thumbnail,
            subtitles,
            bytes,
        }
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }
}

async fn publish(
    publisher: &YoutubePublisher,
    files: &Files,
    settings: Option<&YoutubeSettings>,
) -> YtResult<PublishResult> {
    let script = script();
    let state_dir = files.state_dir();
    publisher
        .publish(&PublishRequest {
            video: &files.video,
            thumbnail: &files.thumbnail,
            subtitles: &files.subtitles,
            script: &script,
            output_dir: files.dir.path(),
            youtube: settings,
            state_dir: &state_dir,
        })
        .await
}

async fn with_retries<T, F, Fut>(mut call: F) -> Result<(T, u32), (YtError, u32)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = YtResult<T>>,
{
    let mut made = 0;
    retry::run(
        DelayScale(0.0),
        |n| {
            made = n;
            call()
        },
        |_, _| async { Ok(()) },
    )
    .await
    .map(|value| (value, made))
}

fn publisher(ctx: &CloudContext, store: &Arc<MemoryStore>) -> YoutubePublisher {
    YoutubePublisher::new(ctx, store.clone()).with_chunk_size(512 * KIB)
}

// ---- Publishing ----

#[tokio::test]
async fn publishes_with_the_script_metadata_ai_disclosure_and_schedule() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    let files = Files::new(1300 * KIB + 17);
    let settings = YoutubeSettings {
        privacy: Privacy::Private,
        publish_at: Some("2099-01-01T09:00:00Z".into()),
        ..YoutubeSettings::default()
    };
    let ctx = ctx(&cloud);
    let result = publish(&publisher(&ctx, &store), &files, Some(&settings))
        .await
        .unwrap_or_else(|e| panic!("{e} {:?}", e.details));

    let videos = cloud.state().youtube.videos();
    assert_eq!(videos.len(), 1);
    let video = &videos[0];
    assert_eq!(result.video_id.as_deref(), Some(video.id.as_str()));
    assert_eq!(result.location, format!("https://youtu.be/{}", video.id));
    assert!(
        video.content == files.bytes,
        "the stored video is the file, byte for byte"
    );

    let sent = &video.metadata;
    assert_eq!(sent["status"]["containsSyntheticMedia"], json!(true));
    assert_eq!(sent["status"]["selfDeclaredMadeForKids"], json!(false));
    assert_eq!(sent["status"]["privacyStatus"], "private");
    assert_eq!(sent["status"]["publishAt"], "2099-01-01T09:00:00Z");
    assert_eq!(
        sent["snippet"]["title"], "台灣茶的百年故事",
        "empty title: the script's"
    );
    assert_eq!(
        sent["snippet"]["description"],
        "從山林到茶杯：台灣茶如何走向世界。"
    );
    assert_eq!(sent["snippet"]["tags"], json!(["台灣", "茶", "歷史"]));
    assert_eq!(sent["snippet"]["defaultAudioLanguage"], "zh-TW");
    assert_eq!(
        video.resource["status"]["publishAt"],
        "2099-01-01T09:00:00Z"
    );

    let thumbnail = cloud
        .state()
        .youtube
        .thumbnail(&video.id)
        .expect("thumbnail set");
    assert_eq!(thumbnail, std::fs::read(&files.thumbnail).unwrap());
    assert_eq!(cloud.count(Api::Youtube, "videos.insert"), 1);
    // 1.3 MiB in 512 KiB chunks.
    assert_eq!(cloud.count(Api::Youtube, "upload.chunk"), 3);
    assert_eq!(
        cloud.state().youtube.body_bytes_received(),
        files.bytes.len() as u64
    );

    // Publishing again finds the video and the thumbnail done: no call at all.
    let calls_before = cloud.calls().len();
    let again = publish(&publisher(&ctx, &store), &files, Some(&settings))
        .await
        .unwrap();
    assert_eq!(again, result);
    assert_eq!(cloud.calls().len(), calls_before);
}

#[tokio::test]
async fn the_users_title_and_tags_win_over_the_scripts() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    let files = Files::new(300 * KIB);
    let settings = YoutubeSettings {
        title: "My tea video".into(),
        tags: vec!["tea".into()],
        privacy: Privacy::Unlisted,
        ..YoutubeSettings::default()
    };
    publish(&publisher(&ctx(&cloud), &store), &files, Some(&settings))
        .await
        .unwrap();
    let sent = &cloud.state().youtube.videos()[0].metadata;
    assert_eq!(sent["snippet"]["title"], "My tea video");
    assert_eq!(sent["snippet"]["tags"], json!(["tea"]));
    assert_eq!(
        sent["snippet"]["description"],
        "從山林到茶杯：台灣茶如何走向世界。"
    );
    assert_eq!(sent["status"]["privacyStatus"], "unlisted");
    assert!(sent["status"].get("publishAt").is_none());
}

#[tokio::test]
async fn a_schedule_without_private_is_refused_before_any_call() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    let files = Files::new(300 * KIB);
    let settings = YoutubeSettings {
        privacy: Privacy::Public,
        publish_at: Some("2099-01-01T09:00:00Z".into()),
        ..YoutubeSettings::default()
    };
    let err = publish(&publisher(&ctx(&cloud), &store), &files, Some(&settings))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::YOUTUBE_INVALID_METADATA);
    assert_eq!(err.details["reason"], "invalidPublishAt");
    assert!(cloud.calls().is_empty());
}

#[tokio::test]
async fn a_chunk_dropped_midway_resumes_from_the_servers_offset() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    let files = Files::new(1300 * KIB + 17);
    // The second chunk's connection drops after half of it arrived.
    cloud.add_fault(
        Fault::new(Api::Youtube, Some("upload.chunk"), FaultAction::Drop)
            .after(1)
            .times(1),
    );
    let ctx = ctx(&cloud);
    let publisher = publisher(&ctx, &store);
    let (result, attempts) = with_retries(|| publish(&publisher, &files, None))
        .await
        .unwrap_or_else(|(e, n)| panic!("{e} {:?} after {n}", e.details));
    assert_eq!(attempts, 2, "the retry loop made the second attempt");

    let videos = cloud.state().youtube.videos();
    assert_eq!(videos.len(), 1);
    assert!(videos[0].content == files.bytes, "byte for byte");
    assert_eq!(result.video_id.as_deref(), Some(videos[0].id.as_str()));
    assert_eq!(
        cloud.state().youtube.body_bytes_received(),
        files.bytes.len() as u64,
        "each byte was sent once: the retry continued where the session said"
    );
    assert_eq!(cloud.count(Api::Youtube, "videos.insert"), 1, "one session");
    let chunk_statuses: Vec<u16> = cloud
        .calls()
        .iter()
        .filter(|c| c.endpoint == "upload.chunk")
        .map(|c| c.status)
        .collect();
    // chunk 1, chunk 2 dropped (half kept), status query, the rest from 768 KiB.
    assert_eq!(chunk_statuses, [308, 0, 308, 308, 200]);
}

#[tokio::test]
async fn a_new_process_continues_the_saved_session() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    let files = Files::new(1300 * KIB + 17);
    cloud.add_fault(
        Fault::new(Api::Youtube, Some("upload.chunk"), FaultAction::Drop)
            .after(1)
            .times(1),
    );
    let err = publish(&publisher(&ctx(&cloud), &store), &files, None)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::YOUTUBE_UPLOAD_FAILED);
    assert!(err.code.spec().retry.is_retryable());
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(files.state_dir().join(UPLOAD_STATE_FILE)).unwrap())
            .unwrap();
    assert!(saved["session_uri"].is_string());
    assert_eq!(saved["file_size"], files.bytes.len() as u64);

    // A new context and publisher, as after a restart.
    let result = publish(&publisher(&ctx(&cloud), &store), &files, None)
        .await
        .unwrap();
    let videos = cloud.state().youtube.videos();
    assert_eq!(videos.len(), 1);
    assert!(videos[0].content == files.bytes);
    assert_eq!(result.video_id.as_deref(), Some(videos[0].id.as_str()));
    assert_eq!(cloud.count(Api::Youtube, "videos.insert"), 1);
    assert_eq!(
        cloud.state().youtube.body_bytes_received(),
        files.bytes.len() as u64
    );
}

#[tokio::test]
async fn an_expired_session_starts_a_new_one() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    let files = Files::new(1300 * KIB + 17);
    cloud.add_fault(
        Fault::new(Api::Youtube, Some("upload.chunk"), FaultAction::Drop)
            .after(1)
            .times(1),
    );
    let ctx = ctx(&cloud);
    let err = publish(&publisher(&ctx, &store), &files, None)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::YOUTUBE_UPLOAD_FAILED);
    let sent_before = cloud.state().youtube.body_bytes_received();
    cloud.state().youtube.expire_upload_sessions();

    publish(&publisher(&ctx, &store), &files, None)
        .await
        .unwrap();
    let videos = cloud.state().youtube.videos();
    assert_eq!(videos.len(), 1);
    assert!(videos[0].content == files.bytes);
    assert_eq!(
        cloud.count(Api::Youtube, "videos.insert"),
        2,
        "a second session"
    );
    assert_eq!(
        cloud.state().youtube.body_bytes_received(),
        sent_before + files.bytes.len() as u64,
        "the new session got the whole file"
    );
}

#[tokio::test]
async fn a_thumbnail_failure_never_uploads_the_video_again() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    let files = Files::new(600 * KIB);
    cloud.add_fault(Fault::error(Api::Youtube, Some("thumbnails.set"), 500, None).times(1));
    let ctx = ctx(&cloud);
    let publisher = publisher(&ctx, &store);
    let (result, attempts) = with_retries(|| publish(&publisher, &files, None))
        .await
        .unwrap_or_else(|(e, _)| panic!("{e}"));
    assert_eq!(attempts, 2);
    assert_eq!(cloud.count(Api::Youtube, "thumbnails.set"), 2);
    assert_eq!(cloud.count(Api::Youtube, "videos.insert"), 1);
    assert_eq!(
        cloud.count(Api::Youtube, "upload.chunk"),
        2,
        "600 KiB in two chunks, once"
    );
    let videos = cloud.state().youtube.videos();
    assert_eq!(videos.len(), 1);
    assert_eq!(result.video_id.as_deref(), Some(videos[0].id.as_str()));
    assert!(cloud.state().youtube.thumbnail(&videos[0].id).is_some());
}

#[tokio::test]
async fn a_thumbnail_over_2_mb_is_refused_before_the_upload() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    let files = Files::new(300 * KIB);
    let mut big = vec![0xFF, 0xD8, 0xFF, 0xE0];
    big.resize(2 * 1024 * 1024 + 1, 7);
    std::fs::write(&files.thumbnail, big).unwrap();
    let err = publish(&publisher(&ctx(&cloud), &store), &files, None)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::THUMBNAIL_TOO_LARGE);
    assert!(cloud.calls().is_empty(), "nothing was uploaded");
}

// ---- Login and tokens ----

#[tokio::test]
async fn login_end_to_end() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let ctx = ctx(&cloud);
    let secret = Secret::new(CLIENT_SECRET);
    let login = youtube::begin_login(&ctx, CLIENT_ID, "http://127.0.0.1:8765/oauth/callback");
    assert!(
        login
            .authorize_url
            .starts_with(&format!("{}/o/oauth2/v2/auth?", cloud.url()))
    );

    // The browser's part: the consent page redirects to the loopback address.
    let answer = ctx.http.get(&login.authorize_url).send().await.unwrap();
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("http://127.0.0.1:8765/oauth/callback?"));
    let callback = youtube::parse_redirect(&location).unwrap();

    let forged = youtube::finish_login(
        &ctx,
        &login,
        CLIENT_ID,
        Some(&secret),
        "forged",
        &callback.code,
    )
    .await
    .unwrap_err();
    assert_eq!(forged.code, ErrorCode::YOUTUBE_LOGIN_FAILED);
    assert_eq!(
        cloud.count(Api::Oauth, "oauth.token"),
        0,
        "refused before any exchange"
    );

    let tokens = youtube::finish_login(
        &ctx,
        &login,
        CLIENT_ID,
        Some(&secret),
        &callback.state,
        &callback.code,
    )
    .await
    .unwrap_or_else(|e| panic!("{e} {:?}", e.details));
    assert_eq!(tokens.client_id, CLIENT_ID);
    assert!(tokens.expires_at_ms > now_ms() + 3_000_000);
    for scope in youtube::SCOPES {
        assert!(tokens.scope.contains(scope));
    }

    // A code works once.
    let reused = youtube::finish_login(
        &ctx,
        &login,
        CLIENT_ID,
        Some(&secret),
        &callback.state,
        &callback.code,
    )
    .await
    .unwrap_err();
    assert_eq!(reused.code, ErrorCode::YOUTUBE_LOGIN_FAILED);
    assert_eq!(reused.details["error"], "invalid_grant");

    // The stored tokens survive the key store and work.
    let stored = YoutubeTokens::from_store_json(&tokens.to_store_json()).unwrap();
    assert_eq!(stored, tokens);
    let store = MemoryStore::new(Some(stored));
    let channel = youtube::channel(&ctx, store.as_ref()).await.unwrap();
    assert_eq!(channel.id, CHANNEL_ID);
    assert_eq!(channel.title, CHANNEL_TITLE);
    let said = youtube::test_key(&ctx, store.as_ref()).await.unwrap();
    assert!(said.contains(CHANNEL_TITLE), "{said}");
}

#[tokio::test]
async fn a_refused_consent_is_a_failed_login() {
    let cloud = FakeCloud::start_local().await.unwrap();
    cloud.state().youtube.set_deny_consent(true);
    let ctx = ctx(&cloud);
    let login = youtube::begin_login(&ctx, CLIENT_ID, "http://127.0.0.1:8765/cb");
    let answer = ctx.http.get(&login.authorize_url).send().await.unwrap();
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    let err = youtube::parse_redirect(&location).unwrap_err();
    assert_eq!(err.code, ErrorCode::YOUTUBE_LOGIN_FAILED);
    assert_eq!(err.details["error"], "access_denied");
}

/// Keeps every record the client reports.
#[derive(Debug, Default)]
struct Collect(Mutex<Vec<CallRecord>>);

impl CallRecorder for Collect {
    fn record(&self, call: CallRecord) {
        self.0.lock().unwrap().push(call);
    }
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_repeats_the_call() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    let before = store.current();
    cloud.state().youtube.expire_access_tokens();
    let records = Arc::new(Collect::default());
    let ctx = ctx(&cloud).with_recorder(records.clone());
    let channel = youtube::channel(&ctx, store.as_ref()).await.unwrap();
    // The refused call is recorded as refused (with the code of a token that is refreshed
    // automatically), not as a success.
    let seen: Vec<_> = records
        .0
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.endpoint, r.status, r.error_code))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "channels.list",
                Some(401),
                Some(ErrorCode::YOUTUBE_TOKEN_EXPIRED)
            ),
            ("oauth.token", Some(200), None),
            ("channels.list", Some(200), None),
        ]
    );
    assert_eq!(channel.id, CHANNEL_ID);
    assert_eq!(cloud.count(Api::Youtube, "channels.list"), 2);
    assert_eq!(cloud.count(Api::Oauth, "oauth.token"), 1);
    assert_eq!(
        store.saves.load(Ordering::SeqCst),
        1,
        "the new token was saved"
    );
    let after = store.current();
    assert_ne!(after.access_token, before.access_token);
    assert_eq!(after.refresh_token, before.refresh_token);
    assert!(after.expires_at_ms > now_ms() + 3_000_000);
}

#[tokio::test]
async fn a_token_about_to_expire_is_refreshed_before_the_call() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    let mut soon = store.current();
    soon.expires_at_ms = now_ms() + 30_000;
    *store.tokens.lock().unwrap() = Some(soon);
    youtube::channel(&ctx(&cloud), store.as_ref())
        .await
        .unwrap();
    assert_eq!(cloud.count(Api::Oauth, "oauth.token"), 1);
    assert_eq!(
        cloud.count(Api::Youtube, "channels.list"),
        1,
        "no 401 was needed"
    );
}

/// A token refused right after its refresh: not retried, and the guide says to link the account
/// again instead of "nothing to do".
#[tokio::test]
async fn a_token_refused_after_its_refresh_asks_to_link_again() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    cloud.add_fault(Fault::error(YT, Some("channels.list"), 401, None));
    let ctx = ctx(&cloud);
    let (err, attempts) = with_retries(|| youtube::channel(&ctx, store.as_ref()))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::YOUTUBE_AUTH_REVOKED, "{err}");
    assert_eq!(attempts, 1);
    assert_eq!(cloud.count(Api::Oauth, "oauth.token"), 1);
    let spec = err.code.spec();
    assert!(!spec.retry.is_retryable());
    assert!(
        spec.en.solutions[0].starts_with("Re-link"),
        "{:?}",
        spec.en.solutions
    );
    assert!(
        spec.en
            .solutions
            .iter()
            .all(|s| !s.contains("Nothing to do")),
        "{:?}",
        spec.en.solutions
    );
}

#[tokio::test]
async fn a_refused_refresh_asks_to_link_again() {
    let cloud = FakeCloud::start_local().await.unwrap();
    let store = linked(&cloud);
    cloud.state().youtube.expire_access_tokens();
    cloud.state().youtube.revoke_refresh_tokens();
    let ctx = ctx(&cloud);
    let (err, attempts) = with_retries(|| youtube::channel(&ctx, store.as_ref()))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::YOUTUBE_REFRESH_FAILED);
    assert_eq!(err.details["error"], "invalid_grant");
    assert_eq!(attempts, 1);
    assert_eq!(cloud.count(Api::Oauth, "oauth.token"), 1);
    assert_eq!(store.saves.load(Ordering::SeqCst), 0);
}

#[test]
fn unreadable_stored_tokens_do_not_leak_them() {
    let err = YoutubeTokens::from_store_json(
        r#"{"client_id": "c", "access_token": 5, "refresh_token": "1//secret-refresh"}"#,
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::SECRET_STORE_FAILED);
    let shown = format!(
        "{} {}",
        err.message,
        serde_json::Value::Object(err.details.clone())
    );
    assert!(!shown.contains("secret-refresh"), "{shown}");
}

// ---- One row per code ----

#[derive(Clone, Copy)]
enum Op {
    Channel,
    Publish,
}

#[derive(Clone, Copy)]
enum Account {
    Linked,
    /// Linked, with an access token that has expired locally (refreshed before the call).
    LinkedExpired,
    /// Tokens the fake never issued (`invalid…`).
    Invalid,
    NotLinked,
}

struct Row {
    name: &'static str,
    op: Op,
    account: Account,
    faults: Vec<Fault>,
    timeout: Duration,
    code: ErrorCode,
    attempts: u32,
    /// (endpoint, calls the fake recorded there).
    calls: Vec<((Api, &'static str), usize)>,
    retry_after_ms: Option<u64>,
    reason: Option<&'static str>,
}

fn row(name: &'static str, op: Op, code: ErrorCode, attempts: u32) -> Row {
    Row {
        name,
        op,
        account: Account::Linked,
        faults: Vec::new(),
        timeout: Duration::from_secs(10),
        code,
        attempts,
        calls: Vec::new(),
        retry_after_ms: None,
        reason: None,
    }
}

impl Row {
    fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }
    fn account(mut self, account: Account) -> Self {
        self.account = account;
        self
    }
    fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    fn calls(mut self, api: Api, endpoint: &'static str, n: usize) -> Self {
        self.calls.push(((api, endpoint), n));
        self
    }
    fn retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }
    fn reason(mut self, reason: &'static str) -> Self {
        self.reason = Some(reason);
        self
    }
}

const YT: Api = Api::Youtube;
const CHANNELS: (Api, &str) = (Api::Youtube, "channels.list");

fn error(endpoint: &str, status: u16, reason: Option<&str>) -> Fault {
    Fault::error(YT, Some(endpoint), status, reason)
}

fn rows() -> Vec<Row> {
    use ErrorCode as E;
    let short = Duration::from_millis(300);
    vec![
        row("daily quota", Op::Publish, E::YOUTUBE_QUOTA_EXCEEDED, 1)
            .fault(error("videos.insert", 403, Some("quotaExceeded")))
            .calls(YT, "videos.insert", 1)
            .calls(YT, "upload.chunk", 0)
            .reason("quotaExceeded"),
        row(
            "rate limit (403 rateLimitExceeded)",
            Op::Channel,
            E::YOUTUBE_RATE_LIMIT,
            5,
        )
        .fault(error("channels.list", 403, Some("rateLimitExceeded")))
        .calls(CHANNELS.0, CHANNELS.1, 5),
        row(
            "rate limit (429) with Retry-After",
            Op::Channel,
            E::YOUTUBE_RATE_LIMIT,
            5,
        )
        .fault(error("channels.list", 429, None).retry_after(7))
        .calls(CHANNELS.0, CHANNELS.1, 5)
        .retry_after_ms(7_000),
        row(
            "thumbnail rate limit: the video is not uploaded again",
            Op::Publish,
            E::YOUTUBE_RATE_LIMIT,
            5,
        )
        .fault(error(
            "thumbnails.set",
            429,
            Some("uploadRateLimitExceeded"),
        ))
        .calls(YT, "thumbnails.set", 5)
        .calls(YT, "videos.insert", 1),
        row("forbidden", Op::Publish, E::YOUTUBE_FORBIDDEN, 1)
            .fault(error("videos.insert", 403, Some("forbidden")))
            .calls(YT, "videos.insert", 1),
        row(
            "daily upload limit (400 uploadLimitExceeded)",
            Op::Publish,
            E::YOUTUBE_FORBIDDEN,
            1,
        )
        .fault(error("videos.insert", 400, Some("uploadLimitExceeded")))
        .calls(YT, "videos.insert", 1)
        .reason("uploadLimitExceeded"),
        row("missing scope", Op::Channel, E::YOUTUBE_FORBIDDEN, 1)
            .fault(error("channels.list", 403, Some("insufficientPermissions")))
            .calls(CHANNELS.0, CHANNELS.1, 1),
        row(
            "video gone before its thumbnail (404 videoNotFound)",
            Op::Publish,
            E::YOUTUBE_VIDEO_NOT_FOUND,
            1,
        )
        .fault(error("thumbnails.set", 404, None))
        .calls(YT, "thumbnails.set", 1)
        .calls(YT, "videos.insert", 1),
        row("invalid title", Op::Publish, E::YOUTUBE_INVALID_METADATA, 1)
            .fault(error("videos.insert", 400, Some("invalidTitle")))
            .calls(YT, "videos.insert", 1)
            .reason("invalidTitle"),
        row(
            "video too large (413)",
            Op::Publish,
            E::YOUTUBE_VIDEO_TOO_LARGE,
            1,
        )
        .fault(error("videos.insert", 413, None))
        .calls(YT, "videos.insert", 1),
        row(
            "5xx on every upload chunk",
            Op::Publish,
            E::YOUTUBE_UPLOAD_FAILED,
            6,
        )
        .fault(error("upload.chunk", 503, None))
        .calls(YT, "videos.insert", 1)
        .calls(YT, "upload.chunk", 6),
        row(
            "5xx starting the upload",
            Op::Publish,
            E::YOUTUBE_UPLOAD_FAILED,
            6,
        )
        .fault(error("videos.insert", 500, None))
        .calls(YT, "videos.insert", 6),
        row(
            "upload chunk hangs",
            Op::Publish,
            E::YOUTUBE_UPLOAD_FAILED,
            6,
        )
        .fault(Fault::new(YT, Some("upload.chunk"), FaultAction::Hang))
        .timeout(short)
        .calls(YT, "upload.chunk", 6),
        row("server error", Op::Channel, E::YOUTUBE_SERVER_ERROR, 4)
            .fault(error("channels.list", 500, None))
            .calls(CHANNELS.0, CHANNELS.1, 4),
        row(
            "server error on the thumbnail",
            Op::Publish,
            E::YOUTUBE_SERVER_ERROR,
            4,
        )
        .fault(error("thumbnails.set", 503, None))
        .calls(YT, "thumbnails.set", 4)
        .calls(YT, "videos.insert", 1),
        row("HTML error page", Op::Channel, E::YOUTUBE_SERVER_ERROR, 4)
            .fault(Fault::new(
                YT,
                Some("channels.list"),
                FaultAction::Html { status: 502 },
            ))
            .calls(CHANNELS.0, CHANNELS.1, 4),
        row(
            "token endpoint server error",
            Op::Channel,
            E::YOUTUBE_SERVER_ERROR,
            4,
        )
        .account(Account::LinkedExpired)
        .fault(Fault::error(Api::Oauth, Some("oauth.token"), 500, None))
        .calls(Api::Oauth, "oauth.token", 4)
        .calls(CHANNELS.0, CHANNELS.1, 0),
        row(
            "malformed JSON",
            Op::Channel,
            E::YOUTUBE_INVALID_RESPONSE,
            2,
        )
        .fault(Fault::new(
            YT,
            Some("channels.list"),
            FaultAction::MalformedJson,
        ))
        .calls(CHANNELS.0, CHANNELS.1, 2),
        row("hang past the timeout", Op::Channel, E::YOUTUBE_TIMEOUT, 2)
            .fault(Fault::new(YT, Some("channels.list"), FaultAction::Hang))
            .timeout(short)
            .calls(CHANNELS.0, CHANNELS.1, 2),
        row(
            "dropped connection",
            Op::Channel,
            E::YOUTUBE_NETWORK_ERROR,
            5,
        )
        .fault(Fault::new(YT, Some("channels.list"), FaultAction::Drop))
        .calls(CHANNELS.0, CHANNELS.1, 5),
        // A 401, a refresh, and the one repeat (401 again): a fresh token refused is an account
        // to link again, and another attempt would only refresh and be refused once more.
        row(
            "token refused even after a refresh",
            Op::Channel,
            E::YOUTUBE_AUTH_REVOKED,
            1,
        )
        .fault(error("channels.list", 401, None))
        .calls(CHANNELS.0, CHANNELS.1, 2)
        .calls(Api::Oauth, "oauth.token", 1),
        row(
            "token said expired even after a refresh",
            Op::Channel,
            E::YOUTUBE_AUTH_REVOKED,
            1,
        )
        .fault(error("channels.list", 401, Some("expired")))
        .calls(CHANNELS.0, CHANNELS.1, 2)
        .calls(Api::Oauth, "oauth.token", 1),
        row(
            "upload refused even after a refresh",
            Op::Publish,
            E::YOUTUBE_AUTH_REVOKED,
            1,
        )
        .fault(error("videos.insert", 401, None))
        .calls(YT, "videos.insert", 2)
        .calls(Api::Oauth, "oauth.token", 1),
        row(
            "invalid tokens: the refresh is refused",
            Op::Channel,
            E::YOUTUBE_REFRESH_FAILED,
            1,
        )
        .account(Account::Invalid)
        .calls(CHANNELS.0, CHANNELS.1, 1)
        .calls(Api::Oauth, "oauth.token", 1),
        row("no account linked", Op::Publish, E::YOUTUBE_NOT_LINKED, 1)
            .account(Account::NotLinked)
            .calls(YT, "videos.insert", 0),
    ]
}

#[tokio::test]
async fn every_youtube_failure_maps_to_its_code() {
    let mut failures = Vec::new();
    for row in rows() {
        let cloud = FakeCloud::start_local().await.unwrap();
        let store = match row.account {
            Account::Linked => linked(&cloud),
            Account::LinkedExpired => {
                let store = linked(&cloud);
                let mut expired = store.current();
                expired.expires_at_ms = 0;
                *store.tokens.lock().unwrap() = Some(expired);
                store
            }
            Account::Invalid => MemoryStore::new(Some(tokens(
                "invalid-access-token-value",
                "invalid-refresh-token-value",
                now_ms() + 3_600_000,
            ))),
            Account::NotLinked => MemoryStore::new(None),
        };
        let secrets: Vec<String> = store
            .tokens
            .lock()
            .unwrap()
            .iter()
            .flat_map(|t| {
                [
                    t.access_token.expose().to_owned(),
                    t.refresh_token.expose().to_owned(),
                ]
            })
            .chain([CLIENT_SECRET.to_owned()])
            .collect();
        for fault in row.faults.clone() {
            cloud.add_fault(fault);
        }
        let ctx = ctx_with(&cloud, row.timeout);
        let files = Files::new(600 * KIB);
        let publisher = YoutubePublisher::new(&ctx, store.clone()).with_chunk_size(512 * KIB);
        let outcome = match row.op {
            Op::Channel => with_retries(|| youtube::channel(&ctx, store.as_ref()))
                .await
                .map(|_| ()),
            Op::Publish => with_retries(|| publish(&publisher, &files, None))
                .await
                .map(|_| ()),
        };
        let Err((err, attempts)) = outcome else {
            failures.push(format!("{}: succeeded", row.name));
            continue;
        };
        let mut problems = Vec::new();
        if err.code != row.code {
            problems.push(format!("code {} ({})", err.code, err.message));
        }
        if attempts != row.attempts {
            problems.push(format!("{attempts} attempts, expected {}", row.attempts));
        }
        if err.code.spec().retry.is_retryable() != (row.attempts > 1) {
            problems.push("retryability differs from the attempts".into());
        }
        for ((api, endpoint), n) in &row.calls {
            let seen = cloud.count(*api, endpoint);
            if seen != *n {
                problems.push(format!("{seen} calls to {endpoint}, expected {n}"));
            }
        }
        if let Some(ms) = row.retry_after_ms
            && err.details.get("retry_after_ms") != Some(&json!(ms))
        {
            problems.push(format!(
                "retry_after_ms {:?}",
                err.details.get("retry_after_ms")
            ));
        }
        if let Some(reason) = row.reason
            && err.details.get("reason") != Some(&json!(reason))
        {
            problems.push(format!("reason {:?}", err.details.get("reason")));
        }
        let shown = format!(
            "{} {}",
            err.message,
            serde_json::Value::Object(err.details.clone())
        );
        if secrets.iter().any(|s| shown.contains(s.as_str())) {
            problems.push(format!("a secret appears in the error: {shown}"));
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", row.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
