//! `YTMAKER_ESPEAK` overrides the espeak-ng binary. This file holds a single test because it
//! changes the process environment, which is only safe while no other test thread runs.

mod common;

use common::tools;
use ytmaker_core::ErrorCode;
use ytmaker_core::config::NarrationSettings;
use ytmaker_core::script::Language;
use ytmaker_providers::local::{ESPEAK_ENV, EspeakNarrator};
use ytmaker_providers::{NarrationRequest, Narrator};

#[tokio::test(flavor = "current_thread")]
async fn the_override_pointing_to_a_missing_file_is_tts_engine_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing-espeak-ng");
    // SAFETY: the only test of this binary, on a current-thread runtime: no other thread reads
    // the environment while it changes.
    unsafe { std::env::set_var(ESPEAK_ENV, &missing) };
    let narrator = EspeakNarrator::new(tools());
    let settings = NarrationSettings::default();
    let err = narrator
        .narrate(&NarrationRequest {
            text: "你好。",
            language: Language::ZhTw,
            settings: &settings,
            out_dir: dir.path(),
            file_stem: "x",
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::TTS_ENGINE_NOT_FOUND);
    assert_eq!(err.details["program"], missing.display().to_string());
}
