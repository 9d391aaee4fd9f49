//! Helpers shared by the integration tests (each test file is its own binary and uses a subset).
#![allow(dead_code)]

use std::path::PathBuf;

use ytmaker_core::config::{NarrationSettings, ScriptSettings};
use ytmaker_core::script::Script;
use ytmaker_providers::ScriptRequest;
use ytmaker_providers::local::RuleBasedScriptWriter;
use ytmaker_render::Toolchain;

pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A test article: `tests/fixtures/<name>`, or the repository's sample for `article-zh-TW.txt`.
pub fn article(name: &str) -> String {
    let path = if name == "article-zh-TW.txt" {
        crate_dir().join("../../samples").join(name)
    } else {
        crate_dir().join("tests/fixtures").join(name)
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

pub fn write_script(text: &str) -> Script {
    write_script_with(
        text,
        &ScriptSettings::default(),
        &NarrationSettings::default(),
    )
}

pub fn write_script_with(
    text: &str,
    settings: &ScriptSettings,
    narration: &NarrationSettings,
) -> Script {
    RuleBasedScriptWriter::new()
        .write(&ScriptRequest {
            text,
            settings,
            narration,
            name_hint: None,
            prompt: None,
        })
        .unwrap_or_else(|e| panic!("script writer failed: {e} {:?}", e.details))
}

pub fn tools() -> Toolchain {
    Toolchain::locate().expect("ffmpeg and ffprobe are installed for these tests")
}
