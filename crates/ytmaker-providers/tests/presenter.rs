//! The local presenter: an H.264 clip as long as the narration, for the built-in and a user's
//! portrait; an unreadable portrait is refused.

mod common;

use std::path::Path;

use common::tools;
use ytmaker_core::ErrorCode;
use ytmaker_core::config::{NarrationSettings, PresenterSettings};
use ytmaker_core::script::Language;
use ytmaker_providers::local::{EspeakNarrator, LocalPresenter, PRESENTER_SIZE};
use ytmaker_providers::{NarrationAudio, NarrationRequest, Narrator, Presenter, PresenterRequest};

async fn narration(dir: &Path) -> NarrationAudio {
    EspeakNarrator::with_program("espeak-ng", tools())
        .narrate(&NarrationRequest {
            text: "歡迎收看。今天要談的是颱風。",
            language: Language::ZhTw,
            settings: &NarrationSettings::default(),
            out_dir: dir,
            file_stem: "intro",
        })
        .await
        .unwrap()
}

async fn present(
    dir: &Path,
    audio: &NarrationAudio,
    settings: &PresenterSettings,
    stem: &str,
) -> ytmaker_core::YtResult<ytmaker_providers::PresenterClip> {
    LocalPresenter::new(tools())
        .present(&PresenterRequest {
            audio: &audio.path,
            duration_s: audio.duration_s,
            settings,
            out_dir: dir,
            file_stem: stem,
        })
        .await
}

#[tokio::test]
async fn the_built_in_presenter_speaks_for_exactly_the_narration() {
    let dir = tempfile::tempdir().unwrap();
    let audio = narration(dir.path()).await;
    let clip = present(
        dir.path(),
        &audio,
        &PresenterSettings::default(),
        "avatar-intro",
    )
    .await
    .unwrap();
    assert_eq!(clip.path, dir.path().join("avatar-intro.mp4"));
    let info = ytmaker_render::probe(&tools(), &clip.path).await.unwrap();
    let video = info.video.expect("video stream");
    assert_eq!(video.codec, "h264");
    assert_eq!(
        (video.width, video.height),
        (PRESENTER_SIZE, PRESENTER_SIZE)
    );
    assert!((video.fps - 30.0).abs() < 0.01);
    assert_eq!(
        info.audio.expect("the narration is in the clip").codec,
        "aac"
    );
    assert!(
        (clip.duration_s - audio.duration_s).abs() <= 0.1,
        "clip {} s, audio {} s",
        clip.duration_s,
        audio.duration_s
    );
    assert!(
        (video.duration_s - audio.duration_s).abs() <= 0.1,
        "video {} s, audio {} s",
        video.duration_s,
        audio.duration_s
    );

    // The frames are drawn once and reused; no temporary files remain.
    let names = |d: &Path| {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let before = names(dir.path());
    assert!(before.iter().all(|n| !n.starts_with('.')), "{before:?}");
    assert_eq!(
        before
            .iter()
            .filter(|n| n.starts_with("presenter-builtin"))
            .count(),
        2,
        "{before:?}"
    );
    let again = present(
        dir.path(),
        &audio,
        &PresenterSettings::default(),
        "avatar-outro",
    )
    .await
    .unwrap();
    assert!((again.duration_s - audio.duration_s).abs() <= 0.1);
    assert_eq!(names(dir.path()).len(), before.len() + 1);
}

#[tokio::test]
async fn a_user_portrait_is_used_and_a_corrupt_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let audio = narration(dir.path()).await;

    let photo = dir.path().join("me.jpg");
    image::RgbImage::from_fn(400, 600, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 3) as u8, 160])
    })
    .save(&photo)
    .unwrap();
    let settings = PresenterSettings {
        enabled: true,
        portrait: Some(photo),
    };
    let clip = present(dir.path(), &audio, &settings, "avatar-intro")
        .await
        .unwrap();
    assert!((clip.duration_s - audio.duration_s).abs() <= 0.1);

    let corrupt = dir.path().join("broken.png");
    std::fs::write(&corrupt, b"\x89PNG\r\n\x1a\nthis is not really a png").unwrap();
    let settings = PresenterSettings {
        enabled: true,
        portrait: Some(corrupt),
    };
    let err = present(dir.path(), &audio, &settings, "avatar-outro")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::PRESENTER_PORTRAIT_INVALID);
    assert!(!dir.path().join("avatar-outro.mp4").exists());

    let missing = PresenterSettings {
        enabled: true,
        portrait: Some(dir.path().join("nobody.png")),
    };
    let err = present(dir.path(), &audio, &missing, "avatar-outro")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::PRESENTER_PORTRAIT_INVALID);
}
