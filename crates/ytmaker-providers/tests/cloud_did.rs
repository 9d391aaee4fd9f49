//! The D-ID presenter against the fake cloud over real HTTP: the clip it downloads is a real MP4
//! as long as the narration, a retry never pays for a second talk, and every failure D-ID can
//! report ends as its catalogued code after exactly the attempts the catalogue allows.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::tools;
use ytmaker_core::config::PresenterSettings;
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};
use ytmaker_fake_cloud::{Api, FakeCloud, Fault, FaultAction};
use ytmaker_providers::cloud::did::{self, DidPresenter};
use ytmaker_providers::cloud::{CloudContext, Endpoints, Timeouts};
use ytmaker_providers::retry::{self, DelayScale};
use ytmaker_providers::{Presenter, PresenterClip, PresenterRequest};

const KEY: &str = "ZGlkLXRlc3RAZXhhbXBsZS5jb20:s3cr3t-did-key";
const STEM: &str = "avatar-intro";

/// Short waits so polling tests run in milliseconds; the request timeout leaves room for the fake
/// to render the result with FFmpeg while answering a poll.
fn timeouts() -> Timeouts {
    Timeouts {
        connect: Duration::from_secs(5),
        request: Duration::from_secs(20),
        generate: Duration::from_secs(20),
        upload_chunk: Duration::from_secs(20),
        did_processing: Duration::from_secs(30),
        did_poll: Duration::from_millis(10),
    }
}

struct Rig {
    cloud: FakeCloud,
    dir: tempfile::TempDir,
    audio: PathBuf,
    audio_s: f64,
}

impl Rig {
    async fn new() -> Rig {
        let cloud = FakeCloud::start_local().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let audio = dir.path().join("intro.wav");
        let audio_s = sine_wav(&audio, 2.0).await;
        Rig {
            cloud,
            dir,
            audio,
            audio_s,
        }
    }

    fn ctx(&self, timeouts: Timeouts) -> CloudContext {
        CloudContext::new(Endpoints::all_at(&self.cloud.url()), timeouts).unwrap()
    }

    async fn present_with(
        &self,
        ctx: &CloudContext,
        key: &str,
        settings: &PresenterSettings,
    ) -> YtResult<PresenterClip> {
        DidPresenter::new(ctx, Secret::new(key), tools())
            .present(&PresenterRequest {
                audio: &self.audio,
                duration_s: self.audio_s,
                settings,
                out_dir: self.dir.path(),
                file_stem: STEM,
            })
            .await
    }

    /// `present` through the one retry loop, as the pipeline runs it.
    async fn present_with_retries(
        &self,
        ctx: &CloudContext,
        key: &str,
    ) -> Result<PresenterClip, (YtError, u32)> {
        let settings = PresenterSettings::default();
        retry::run(
            DelayScale(0.0),
            |_| self.present_with(ctx, key, &settings),
            |_, _| async { Ok(()) },
        )
        .await
    }

    fn state_file(&self) -> PathBuf {
        self.dir.path().join(format!("{STEM}.did-talk.json"))
    }

    fn count(&self, endpoint: &str) -> usize {
        self.cloud.count(Api::Did, endpoint)
    }
}

/// A mono sine WAV made by FFmpeg; returns its measured duration.
async fn sine_wav(path: &Path, seconds: f64) -> f64 {
    let status = tokio::process::Command::new(&tools().ffmpeg)
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!("sine=frequency=440:duration={seconds}"))
        .args(["-ac", "1", "-ar", "16000"])
        .arg(path)
        .status()
        .await
        .unwrap();
    assert!(status.success());
    ytmaker_render::probe(&tools(), path)
        .await
        .unwrap()
        .duration_s
}

#[tokio::test]
async fn the_clip_is_a_real_video_as_long_as_the_narration() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    let clip = rig
        .present_with(&ctx, KEY, &PresenterSettings::default())
        .await
        .unwrap();

    assert_eq!(clip.path, rig.dir.path().join(format!("{STEM}.mp4")));
    let info = ytmaker_render::probe(&tools(), &clip.path).await.unwrap();
    let video = info.video.expect("a video stream");
    assert_eq!(
        (video.codec.as_str(), video.width, video.height),
        ("h264", 512, 512)
    );
    assert!(info.audio.is_some());
    assert!(
        (clip.duration_s - rig.audio_s).abs() < 0.2,
        "clip {} s, narration {} s",
        clip.duration_s,
        rig.audio_s
    );
    assert_eq!(clip.duration_s, info.duration_s);
    // The talk record stays with the clip, naming the clip's bytes.
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(rig.state_file()).unwrap()).unwrap();
    assert_eq!(
        record["clip_sha256"],
        sha256_hex(&std::fs::read(&clip.path).unwrap())
    );
    let leftovers: Vec<_> = std::fs::read_dir(rig.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // D-ID was given only URLs it handed out for our uploads, and an audio script.
    let talk = rig.cloud.state().did.last_talk_request().unwrap();
    let base = format!("{}/_fake/did/uploads/", rig.cloud.url());
    assert!(talk["source_url"].as_str().unwrap().starts_with(&base));
    assert_eq!(talk["script"]["type"], "audio");
    assert!(
        talk["script"]["audio_url"]
            .as_str()
            .unwrap()
            .starts_with(&base)
    );
    for endpoint in [
        "images.upload",
        "audios.upload",
        "talks.create",
        "result.download",
    ] {
        assert_eq!(rig.count(endpoint), 1, "{endpoint}");
    }
    assert!(rig.count("talks.get") >= 3, "created → started → done");

    // The talk used a credit, and the key test says how many are left.
    let credits = did::credits(&ctx, &Secret::new(KEY)).await.unwrap();
    assert_eq!((credits.remaining, credits.total), (19.0, 20.0));
    assert_eq!(
        did::test_key(&ctx, &Secret::new(KEY)).await.unwrap(),
        "key works; 19 of 20 credits left"
    );
}

#[tokio::test]
async fn a_users_jpeg_portrait_is_uploaded_and_anything_else_is_refused_before_any_call() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    let portrait = rig.dir.path().join("me.jpg");
    image::RgbImage::from_pixel(320, 400, image::Rgb([200, 160, 140]))
        .save(&portrait)
        .unwrap();
    let settings = PresenterSettings {
        enabled: true,
        portrait: Some(portrait),
    };
    let clip = rig.present_with(&ctx, KEY, &settings).await.unwrap();
    assert!((clip.duration_s - rig.audio_s).abs() < 0.2);

    let not_an_image = rig.dir.path().join("notes.png");
    std::fs::write(&not_an_image, "not a picture").unwrap();
    let settings = PresenterSettings {
        enabled: true,
        portrait: Some(not_an_image),
    };
    let calls = rig.cloud.calls().len();
    let err = rig.present_with(&ctx, KEY, &settings).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::PRESENTER_PORTRAIT_INVALID);
    assert_eq!(rig.cloud.calls().len(), calls, "nothing was sent to D-ID");
}

#[tokio::test]
async fn a_retry_polls_the_talk_already_paid_for() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    rig.cloud
        .add_fault(Fault::error(Api::Did, Some("talks.get"), 500, None).times(1));

    let clip = rig.present_with_retries(&ctx, KEY).await.unwrap();

    assert!(clip.path.exists());
    assert_eq!(
        rig.count("talks.create"),
        1,
        "one talk, however many attempts"
    );
    assert_eq!(rig.cloud.state().did.talks_created(), 1);
    assert_eq!(rig.count("images.upload"), 1, "uploads are reused too");
    assert_eq!(rig.count("audios.upload"), 1);
}

/// The soak's N5: the clip was downloaded and in place, then the run ended before the pipeline
/// recorded it (its lease lost while SQLite was locked), and the next run paid for a second
/// talk, because the talk record had gone with the finished clip. The record now stays: the
/// next attempt reuses the clip as it is, or, when the clip is gone, downloads the finished
/// talk's result again; it never creates another talk.
#[tokio::test]
async fn a_clip_made_but_not_recorded_is_reused_and_never_paid_for_again() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    let first = rig
        .present_with(&ctx, KEY, &PresenterSettings::default())
        .await
        .unwrap();
    let calls = rig.cloud.calls().len();

    // The run that did not record the clip is followed by another attempt with the same inputs.
    let again = rig
        .present_with(&ctx, KEY, &PresenterSettings::default())
        .await
        .unwrap();
    assert_eq!(again.path, first.path);
    assert_eq!(again.duration_s, first.duration_s);
    assert_eq!(
        rig.cloud.calls().len(),
        calls,
        "the clip in place is used as it is"
    );

    // The clip is gone (or changed): the finished talk's result is fetched again, for free.
    std::fs::write(&first.path, b"damaged").unwrap();
    let third = rig
        .present_with(&ctx, KEY, &PresenterSettings::default())
        .await
        .unwrap();
    assert!(ytmaker_render::probe(&tools(), &third.path).await.is_ok());
    std::fs::remove_file(&third.path).unwrap();
    rig.present_with(&ctx, KEY, &PresenterSettings::default())
        .await
        .unwrap();
    assert_eq!(rig.count("talks.create"), 1, "one talk paid for");
    assert_eq!(rig.cloud.state().did.talks_created(), 1);
    assert_eq!(rig.count("result.download"), 3);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Defect 8: D-ID accepted `POST /talks` (the talk exists and is charged) but its answer never
/// arrived — the connection was reset, or nothing came back before the timeout. The retry must
/// find that talk by its `user_data` and use it, not create and pay for a second one.
#[tokio::test]
async fn a_talk_whose_create_answer_was_lost_is_found_and_used_not_paid_for_twice() {
    for (name, lost) in [
        (
            "connection reset after the talk was created",
            FaultAction::DropReply,
        ),
        (
            "no answer after the talk was created",
            FaultAction::HangReply,
        ),
    ] {
        let rig = Rig::new().await;
        // Short enough for the hanging answer to time out, long enough for the fake to render
        // the result while answering a poll.
        let ctx = rig.ctx(Timeouts {
            request: Duration::from_secs(5),
            ..timeouts()
        });
        rig.cloud
            .add_fault(Fault::new(Api::Did, Some("talks.create"), lost).times(1));

        let clip = rig.present_with_retries(&ctx, KEY).await;

        assert_eq!(
            rig.count("talks.create"),
            1,
            "{name}: calls to talks.create in the fake cloud's record"
        );
        assert_eq!(rig.cloud.state().did.talks_created(), 1, "{name}");
        let clip = clip.unwrap_or_else(|(e, n)| panic!("{name}: {e} after {n} attempts"));
        assert!(clip.path.exists(), "{name}: the presenter clip is made");
        assert!(
            (clip.duration_s - rig.audio_s).abs() < 0.2,
            "{name}: the clip speaks this narration"
        );
        assert!(
            rig.count("talks.list") >= 1,
            "{name}: the talk was looked up"
        );
        // The talk carries the fingerprint of its inputs.
        let audio_sha = sha256_hex(&std::fs::read(&rig.audio).unwrap());
        let user_data = rig.cloud.state().did.talk_user_data();
        assert_eq!(user_data.len(), 1, "{name}");
        let user_data = user_data[0].clone().unwrap_or_default();
        assert!(
            user_data.contains(&audio_sha) && user_data.chars().count() <= 500,
            "{name}: user_data {user_data:?}"
        );
        // The record now holds the finished clip and no open create.
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(rig.state_file()).unwrap()).unwrap();
        assert!(record["create"].is_null(), "{name}: {record}");
        assert!(record["clip_sha256"].is_string(), "{name}: {record}");
    }
}

/// The lost talk is found on a later page of `GET /talks`, past another clip's talk with other
/// inputs, which is not taken for it.
#[tokio::test]
async fn the_lost_talk_is_found_past_the_first_page_and_another_clips_talk_is_not_taken() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    let settings = PresenterSettings::default();
    rig.cloud.state().did.cap_list_page(1);
    rig.cloud
        .add_fault(Fault::new(Api::Did, Some("talks.create"), FaultAction::DropReply).times(1));
    let err = rig.present_with(&ctx, KEY, &settings).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::DID_NETWORK_ERROR, "{err}");

    // Meanwhile the outro gets its own talk, which is now the newest.
    let outro = rig.dir.path().join("outro.wav");
    let outro_s = sine_wav(&outro, 1.0).await;
    DidPresenter::new(&ctx, Secret::new(KEY), tools())
        .present(&PresenterRequest {
            audio: &outro,
            duration_s: outro_s,
            settings: &settings,
            out_dir: rig.dir.path(),
            file_stem: "avatar-outro",
        })
        .await
        .unwrap();
    assert_eq!(rig.count("talks.list"), 0, "a clean start looks nothing up");

    let clip = rig.present_with(&ctx, KEY, &settings).await.unwrap();
    assert_eq!(rig.count("talks.create"), 2, "one talk per clip");
    assert_eq!(rig.cloud.state().did.talks_created(), 2);
    assert_eq!(rig.count("talks.list"), 2, "the second page held the talk");
    assert!((clip.duration_s - rig.audio_s).abs() < 0.2);
}

#[tokio::test]
async fn a_damaged_talk_record_stops_before_paying_for_another_talk() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    std::fs::write(rig.state_file(), b"{\"talk_id\": \"tlk_").unwrap();
    let (err, attempts) = rig.present_with_retries(&ctx, KEY).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::FILE_SYSTEM_ERROR);
    assert_eq!(attempts, 1);
    assert_eq!(rig.count("talks.create"), 0);
    assert!(
        rig.state_file().exists(),
        "the record is left for the user to look at"
    );
}

#[tokio::test]
async fn changed_inputs_make_a_new_talk_instead_of_reusing_the_old_one() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    rig.cloud
        .add_fault(Fault::error(Api::Did, Some("talks.get"), 500, None).times(1));
    let settings = PresenterSettings::default();
    let first = rig.present_with(&ctx, KEY, &settings).await.unwrap_err();
    assert_eq!(first.code, ErrorCode::DID_SERVER_ERROR);
    assert!(rig.state_file().exists(), "the created talk is remembered");

    // The narration was regenerated: the remembered talk speaks the old one.
    sine_wav(&rig.audio, 2.5).await;
    let new_s = ytmaker_render::probe(&tools(), &rig.audio)
        .await
        .unwrap()
        .duration_s;
    let clip = DidPresenter::new(&ctx, Secret::new(KEY), tools())
        .present(&PresenterRequest {
            audio: &rig.audio,
            duration_s: new_s,
            settings: &settings,
            out_dir: rig.dir.path(),
            file_stem: STEM,
        })
        .await
        .unwrap();
    assert_eq!(rig.count("talks.create"), 2);
    assert_eq!(rig.count("audios.upload"), 2);
    assert!((clip.duration_s - new_s).abs() < 0.2);
}

/// How a row sets up its failure.
enum Setup {
    Fault(Fault),
    Key(&'static str),
    StallTalks,
    FailTalks(&'static str, &'static str),
    RejectTalks(&'static str),
}

struct Row {
    name: &'static str,
    setup: Setup,
    timeouts: Timeouts,
    code: ErrorCode,
    /// The endpoint whose calls are counted, and how many there must be.
    endpoint: &'static str,
    calls: usize,
    /// How many talks may be created over all attempts (1 unless D-ID reported the talk failed).
    talks: usize,
}

fn row(name: &'static str, setup: Setup, code: ErrorCode, endpoint: &'static str) -> Row {
    Row {
        name,
        setup,
        timeouts: timeouts(),
        code,
        endpoint,
        calls: 0,
        talks: 1,
    }
}

fn error_at(endpoint: &str, status: u16, reason: Option<&str>) -> Setup {
    Setup::Fault(Fault::error(Api::Did, Some(endpoint), status, reason))
}

fn action_at(endpoint: &str, action: FaultAction) -> Setup {
    Setup::Fault(Fault::new(Api::Did, Some(endpoint), action))
}

fn rows() -> Vec<Row> {
    use ErrorCode::*;
    let short_request = Timeouts {
        request: Duration::from_millis(300),
        ..timeouts()
    };
    let short_processing = Timeouts {
        did_processing: Duration::from_millis(300),
        ..timeouts()
    };
    let no_talk = |mut r: Row| {
        r.talks = 0;
        r
    };
    vec![
        no_talk(row(
            "wrong key",
            Setup::Key("invalid-did-key"),
            DID_INVALID_API_KEY,
            "images.upload",
        )),
        no_talk(row(
            "credits used up (402)",
            error_at("talks.create", 402, None),
            DID_QUOTA_EXCEEDED,
            "talks.create",
        )),
        no_talk(row(
            "credits used up (429 naming the quota)",
            error_at("talks.create", 429, Some("quota")),
            DID_QUOTA_EXCEEDED,
            "talks.create",
        )),
        no_talk(row(
            "rate limit",
            error_at("talks.create", 429, None),
            DID_RATE_LIMIT,
            "talks.create",
        )),
        no_talk(row(
            "no face in the image",
            error_at("talks.create", 400, Some("face")),
            DID_INVALID_IMAGE,
            "talks.create",
        )),
        no_talk(row(
            "image upload refused",
            error_at("images.upload", 400, None),
            DID_INVALID_IMAGE,
            "images.upload",
        )),
        no_talk(row(
            "audio upload refused",
            error_at("audios.upload", 400, Some("audio")),
            DID_INVALID_AUDIO,
            "audios.upload",
        )),
        row(
            "server error while polling",
            error_at("talks.get", 500, None),
            DID_SERVER_ERROR,
            "talks.get",
        ),
        no_talk(row(
            "HTML error page",
            action_at("images.upload", FaultAction::Html { status: 502 }),
            DID_SERVER_ERROR,
            "images.upload",
        )),
        no_talk(row(
            "dropped connection",
            action_at("audios.upload", FaultAction::Drop),
            DID_NETWORK_ERROR,
            "audios.upload",
        )),
        no_talk(Row {
            timeouts: short_request,
            ..row(
                "a call that hangs",
                action_at("images.upload", FaultAction::Hang),
                DID_NETWORK_ERROR,
                "images.upload",
            )
        }),
        row(
            "malformed JSON",
            action_at("talks.get", FaultAction::MalformedJson),
            DID_INVALID_RESPONSE,
            "talks.get",
        ),
        row(
            "a result that is not a video",
            action_at("result.download", FaultAction::MalformedJson),
            DID_INVALID_RESPONSE,
            "result.download",
        ),
        Row {
            timeouts: short_processing,
            ..row(
                "a talk that never finishes",
                Setup::StallTalks,
                DID_PROCESSING_TIMEOUT,
                "talks.create",
            )
        },
        no_talk(row(
            "moderation refuses the create (451)",
            error_at("talks.create", 451, None),
            DID_CONTENT_REJECTED,
            "talks.create",
        )),
        row(
            "moderation rejects the talk while processing",
            Setup::RejectTalks("the image violates the content policy"),
            DID_CONTENT_REJECTED,
            "talks.create",
        ),
        row(
            "D-ID finds no face while processing",
            Setup::FailTalks("FaceError", "no face detected"),
            DID_INVALID_IMAGE,
            "talks.create",
        ),
        // A failed talk costs nothing (D-ID returns its credits), so each retry starts a new one.
        Row {
            talks: 3,
            ..row(
                "D-ID fails the talk",
                Setup::FailTalks("UnknownError", "internal error"),
                DID_SERVER_ERROR,
                "talks.create",
            )
        },
    ]
}

#[tokio::test]
async fn every_did_failure_ends_as_its_code_after_the_catalogues_attempts() {
    let rows = rows();
    for code in ErrorCode::ALL
        .iter()
        .filter(|c| c.as_str().starts_with("DID_"))
    {
        assert!(rows.iter().any(|r| r.code == *code), "no row for {code}");
    }
    for mut row in rows {
        let policy = row.code.spec().retry;
        let attempts = policy.max_retries + 1;
        if row.calls == 0 {
            row.calls = match row.code {
                // The talk is created once; the retries poll it.
                ErrorCode::DID_PROCESSING_TIMEOUT => 1,
                _ => attempts as usize,
            };
        }
        let rig = Rig::new().await;
        let ctx = rig.ctx(row.timeouts);
        let mut key = KEY;
        match row.setup {
            Setup::Fault(fault) => rig.cloud.add_fault(fault),
            Setup::Key(k) => key = k,
            Setup::StallTalks => rig.cloud.state().did.stall_talks(true),
            Setup::FailTalks(kind, description) => {
                rig.cloud.state().did.fail_talks(kind, description)
            }
            Setup::RejectTalks(description) => rig.cloud.state().did.reject_talks(description),
        }

        let (err, made) = rig.present_with_retries(&ctx, key).await.unwrap_err();

        let name = row.name;
        assert_eq!(err.code, row.code, "{name}: {err} {:?}", err.details);
        assert_eq!(
            err.code.spec().retry.is_retryable(),
            policy.is_retryable(),
            "{name}"
        );
        assert_eq!(made, attempts, "{name}: attempts");
        assert_eq!(
            rig.count(row.endpoint),
            row.calls,
            "{name}: calls to {}",
            row.endpoint
        );
        assert_eq!(
            rig.cloud.state().did.talks_created() as usize,
            row.talks,
            "{name}: talks created"
        );
        assert!(
            !rig.dir.path().join(format!("{STEM}.mp4")).exists(),
            "{name}: no clip"
        );
        let shown = format!(
            "{} {}",
            err.message,
            serde_json::to_string(&err.details).unwrap()
        );
        assert!(
            !shown.contains(key),
            "{name}: the key leaked into the error"
        );
        assert_eq!(err.details["api"], "did", "{name}");
    }
}

/// A talk D-ID's moderation rejected is about the content, not a face: its own code, whose
/// guide says to change the portrait or the words, and the talk is not polled again.
#[tokio::test]
async fn a_talk_rejected_by_moderation_is_content_rejected_not_a_face_problem() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    rig.cloud
        .state()
        .did
        .reject_talks("the request was rejected by content moderation");
    let err = rig
        .present_with(&ctx, KEY, &PresenterSettings::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DID_CONTENT_REJECTED, "{err}");
    assert_eq!(err.details["kind"], "ContentModerationError");
    assert_eq!(err.details["talk_status"], "rejected");
    assert!(!err.code.spec().retry.is_retryable());
    let guide = &err.code.spec().en;
    let text = format!(
        "{} {} {:?}",
        guide.title, guide.explanation, guide.solutions
    );
    assert!(text.contains("moderation"), "{text}");
    assert!(!text.to_lowercase().contains("face"), "{text}");
    assert!(
        !rig.state_file().exists(),
        "a rejected talk is never polled again"
    );
}

/// The clip-length check refuses the downloaded MP4: the details say how big it was and of which
/// type, and never carry its binary bytes (which the CLI would print); a text answer still has
/// its head.
#[tokio::test]
async fn a_refused_binary_answer_is_described_not_copied_into_the_details() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    let settings = PresenterSettings::default();
    let presenter = DidPresenter::new(&ctx, Secret::new(KEY), tools());
    let err = presenter
        .present(&PresenterRequest {
            audio: &rig.audio,
            duration_s: rig.audio_s + 3.0,
            settings: &settings,
            out_dir: rig.dir.path(),
            file_stem: STEM,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DID_INVALID_RESPONSE, "{err}");
    assert!(err.details.contains_key("clip_duration_s"), "{err}");
    assert!(
        !err.details.contains_key("body_head"),
        "binary bytes in the details: {:?}",
        err.details.get("body_head")
    );
    assert_eq!(err.details["content_type"], "video/mp4");
    let body_bytes = err.details["body_bytes"].as_u64().unwrap_or(0);
    assert!(body_bytes > 1000, "body_bytes {body_bytes}");
    let shown = serde_json::to_string(&err.details).unwrap();
    assert!(
        !shown.contains('\u{FFFD}') && !shown.contains("ftyp"),
        "{shown}"
    );

    // A text answer (an error page) keeps its first bytes.
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    rig.cloud.add_fault(Fault::new(
        Api::Did,
        Some("result.download"),
        FaultAction::Html { status: 403 },
    ));
    let err = rig.present_with(&ctx, KEY, &settings).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::DID_INVALID_RESPONSE, "{err}");
    assert!(
        err.details["body_head"]
            .as_str()
            .is_some_and(|h| h.starts_with("<!DOCTYPE html>")),
        "{:?}",
        err.details
    );
}

#[tokio::test]
async fn retry_after_reaches_the_details() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    rig.cloud
        .add_fault(Fault::error(Api::Did, Some("talks.create"), 429, None).retry_after(7));
    let (err, made) = rig.present_with_retries(&ctx, KEY).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::DID_RATE_LIMIT);
    assert_eq!(err.details["retry_after_ms"], 7000);
    assert_eq!(err.details["http_status"], 429);
    assert_eq!(err.details["kind"], "TooManyRequestsError");
    assert_eq!(made, 4);
}

#[tokio::test]
async fn a_failed_talk_is_forgotten_and_a_wrong_key_fails_the_key_test() {
    let rig = Rig::new().await;
    let ctx = rig.ctx(timeouts());
    rig.cloud
        .state()
        .did
        .fail_talks("FaceError", "no face detected");
    let err = rig
        .present_with(&ctx, KEY, &PresenterSettings::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DID_INVALID_IMAGE);
    assert_eq!(err.details["kind"], "FaceError");
    assert!(
        !rig.state_file().exists(),
        "a failed talk is never polled again"
    );

    let err = did::test_key(&ctx, &Secret::new("invalid-did-key"))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DID_INVALID_API_KEY);
    assert_eq!(err.details["kind"], "AuthorizationError");

    let calls = rig.cloud.calls().len();
    let err = did::test_key(&ctx, &Secret::new("pasted-with-a-newline\n"))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DID_INVALID_API_KEY);
    assert_eq!(rig.cloud.calls().len(), calls, "refused before any call");
}
