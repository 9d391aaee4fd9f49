//! The FFmpeg runner, ffprobe and fontconfig against the real binaries.

use std::ffi::OsString;
use std::sync::Mutex;
use ytmaker_core::ErrorCode;
use ytmaker_render::{Toolchain, probe, resolve_font, run_ffmpeg};

fn args(list: &[&str]) -> Vec<OsString> {
    list.iter().map(OsString::from).collect()
}

#[tokio::test]
async fn versions_are_the_first_line_of_version() {
    let tools = Toolchain::locate().unwrap();
    let (ffmpeg, ffprobe) = tools.versions().await.unwrap();
    assert!(ffmpeg.starts_with("ffmpeg version"), "{ffmpeg}");
    assert!(ffprobe.starts_with("ffprobe version"), "{ffprobe}");
}

#[tokio::test]
async fn bad_arguments_fail_with_the_stderr_tail() {
    let tools = Toolchain::locate().unwrap();
    let err = run_ffmpeg(
        &tools,
        "test bad args",
        &args(&["-i", "/nonexistent/in.mp4", "/tmp/never.mp4"]),
        &|_| {},
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::FFMPEG_EXECUTION_FAILED);
    assert_eq!(err.details["purpose"], "test bad args");
    assert!(
        err.details["stderr_tail"]
            .as_str()
            .unwrap()
            .contains("No such file"),
        "{:?}",
        err.details
    );
    assert_eq!(err.details["args"][1], "/nonexistent/in.mp4");
    assert!(err.details["exit_status"].as_str().unwrap().contains('1'));
}

#[tokio::test]
async fn progress_reports_output_seconds_and_probe_reads_the_result() {
    let tools = Toolchain::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tone.wav");
    let seen = Mutex::new(Vec::new());
    let on_progress = |s: f64| seen.lock().unwrap().push(s);
    let argv = [
        args(&[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=2",
        ]),
        vec![out.clone().into_os_string()],
    ]
    .concat();
    run_ffmpeg(&tools, "test tone", &argv, &on_progress)
        .await
        .unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(
        seen.last().is_some_and(|s| (s - 2.0).abs() < 0.05),
        "{seen:?}"
    );
    assert!(seen.windows(2).all(|w| w[0] <= w[1]));

    let info = probe(&tools, &out).await.unwrap();
    assert!(info.video.is_none());
    let audio = info.audio.unwrap();
    assert_eq!(
        (audio.codec.as_str(), audio.sample_rate, audio.channels),
        ("pcm_s16le", 48000, 1)
    );
    assert!((info.duration_s - 2.0).abs() < 0.01);
    assert!(info.size_bytes > 190_000);
}

#[tokio::test]
async fn probing_a_missing_file_is_file_not_found() {
    let tools = Toolchain::locate().unwrap();
    let err = probe(&tools, "/nonexistent/clip.mp4".as_ref())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FILE_NOT_FOUND);
}

#[tokio::test]
async fn probing_a_text_file_is_media_invalid() {
    let tools = Toolchain::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.mp4");
    std::fs::write(&path, "this is not a video, just some words\n").unwrap();
    let err = probe(&tools, &path).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::MEDIA_INVALID);
    assert!(
        err.details["stderr_tail"]
            .as_str()
            .unwrap()
            .contains("Invalid data"),
        "{:?}",
        err.details
    );
}

#[test]
fn the_cjk_family_resolves_to_a_collection_face() {
    let regular = resolve_font("Noto Sans CJK TC", false).unwrap();
    assert_eq!(regular.family, "Noto Sans CJK TC");
    assert!(
        regular.path.extension().is_some_and(|e| e == "ttc"),
        "{regular:?}"
    );
    assert!(regular.path.exists());
    let bold = resolve_font("Noto Sans CJK TC", true).unwrap();
    assert_ne!(bold.path, regular.path);
}

#[test]
fn an_unknown_family_is_font_not_found_never_a_substitute() {
    let err = resolve_font("No Such Font Family", false).unwrap_err();
    assert_eq!(err.code, ErrorCode::FONT_NOT_FOUND);
    assert_eq!(err.details["family"], "No Such Font Family");
}
