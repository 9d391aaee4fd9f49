//! The offline providers (SPEC §3, "local" column): they need no API key and no network, and are
//! chosen explicitly in the project configuration — never as a fallback for a failed cloud call.

mod espeak;
mod keywords;
mod paint;
pub(crate) mod portrait;
mod presenter;
mod publisher;
mod script_writer;
mod title_card;

pub use espeak::{ESPEAK_ENV, EspeakNarrator};
pub(crate) use presenter::portrait_invalid;
pub use presenter::{LocalPresenter, PRESENTER_FPS, PRESENTER_SIZE};
pub use publisher::{LocalPublisher, PUBLISH_MANIFEST};
pub use script_writer::{KEY_PHRASE_MAX_CJK, KEY_PHRASE_MAX_LATIN, RuleBasedScriptWriter};
/// Shared with the cloud script writers, so every script is measured and warned about alike.
pub(crate) use script_writer::{
    article_language, check_settings, length_warnings, line_seconds, narration_line,
};
pub use title_card::{CARD_HEIGHT, CARD_WIDTH, DEFAULT_CARD_FONT, TitleCardIllustrator};

/// FNV-1a, 64 bit: a stable hash (unlike std's, which is seeded per process) for colours and
/// cache keys that must be the same on every run.
pub(crate) fn stable_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
