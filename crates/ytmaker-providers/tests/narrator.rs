//! The espeak-ng narrator: real audio for both languages, and every failure with its code.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::tools;
use ytmaker_core::ErrorCode;
use ytmaker_core::config::{NarrationSettings, VoiceGender};
use ytmaker_core::script::Language;
use ytmaker_providers::local::EspeakNarrator;
use ytmaker_providers::{NarrationRequest, Narrator};

fn request<'a>(
    text: &'a str,
    language: Language,
    settings: &'a NarrationSettings,
    dir: &'a std::path::Path,
) -> NarrationRequest<'a> {
    NarrationRequest {
        text,
        language,
        settings,
        out_dir: dir,
        file_stem: "line",
    }
}

/// Narrates with a freshly written fake program. Another test thread forking at the moment the
/// script was written can hold it open for an instant ("Text file busy"); that is retried.
async fn narrate_with_fake(
    narrator: &EspeakNarrator,
    req: &NarrationRequest<'_>,
) -> ytmaker_core::YtError {
    for _ in 0..20 {
        let err = narrator.narrate(req).await.unwrap_err();
        let busy = err
            .details
            .get("os_error")
            .and_then(|v| v.as_str())
            .is_some_and(|e| e.contains("busy"));
        if !busy {
            return err;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the fake program stayed busy");
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn chinese_and_english_lines_become_wav_files_with_measured_durations() {
    let dir = tempfile::tempdir().unwrap();
    let narrator = EspeakNarrator::with_program("espeak-ng", tools());
    let settings = NarrationSettings::default();
    let zh = narrator
        .narrate(&request(
            "颱風眼的直徑大約在10到50公里之間，溫度高於26.5°C。",
            Language::ZhTw,
            &settings,
            dir.path(),
        ))
        .await
        .unwrap();
    assert_eq!(zh.path, dir.path().join("line.wav"));
    assert!(
        zh.duration_s > 3.0 && zh.duration_s < 15.0,
        "{}",
        zh.duration_s
    );

    let male = NarrationSettings {
        voice: VoiceGender::Male,
        speaking_rate: 1.2,
        pitch: 3.0,
    };
    let en = narrator
        .narrate(&NarrationRequest {
            text: "Dr. Ames could not cross for nine days, e.g. in 1703.",
            language: Language::En,
            settings: &male,
            out_dir: dir.path(),
            file_stem: "en",
        })
        .await
        .unwrap();
    assert!(
        en.duration_s > 1.5 && en.duration_s < 10.0,
        "{}",
        en.duration_s
    );
    assert_eq!(
        files_in(dir.path()),
        ["en.wav", "line.wav"],
        "no temporary files are left behind"
    );
}

#[tokio::test]
async fn a_missing_program_is_tts_engine_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let narrator = EspeakNarrator::with_program(dir.path().join("no-such-espeak"), tools());
    let settings = NarrationSettings::default();
    let err = narrator
        .narrate(&request("你好。", Language::ZhTw, &settings, dir.path()))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TTS_ENGINE_NOT_FOUND);
    assert_eq!(err.details["tool"], "espeak-ng");
}

#[tokio::test]
async fn a_failing_program_is_tts_engine_failed_with_its_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake-espeak");
    std::fs::write(
        &fake,
        "#!/bin/sh\ncat >/dev/null\necho 'voice cmn-latn-pinyin+f3 not found' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let narrator = EspeakNarrator::with_program(&fake, tools());
    let settings = NarrationSettings::default();
    let err = narrate_with_fake(
        &narrator,
        &request("你好。", Language::ZhTw, &settings, dir.path()),
    )
    .await;
    assert_eq!(err.code, ErrorCode::TTS_ENGINE_FAILED);
    assert!(
        err.details["stderr_tail"]
            .as_str()
            .unwrap()
            .contains("not found"),
        "{:?}",
        err.details
    );
    assert_eq!(err.details["exit_status"], "1");
    assert_eq!(
        files_in(dir.path()),
        ["fake-espeak"],
        "nothing is left under the final name"
    );
}

#[tokio::test]
async fn a_program_that_writes_no_audio_is_tts_engine_failed() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("silent-espeak");
    std::fs::write(&fake, "#!/bin/sh\ncat >/dev/null\nexit 0\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let narrator = EspeakNarrator::with_program(&fake, tools());
    let settings = NarrationSettings::default();
    let err = narrate_with_fake(
        &narrator,
        &request("Hello there.", Language::En, &settings, dir.path()),
    )
    .await;
    assert_eq!(err.code, ErrorCode::TTS_ENGINE_FAILED);
}

#[tokio::test]
async fn empty_text_is_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let narrator = EspeakNarrator::with_program("espeak-ng", tools());
    let settings = NarrationSettings::default();
    for text in ["", "   ", "。，……"] {
        let err = narrator
            .narrate(&request(text, Language::ZhTw, &settings, dir.path()))
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::TTS_INVALID_INPUT, "{text:?}");
    }
}
