//! Provider traits — one per capability of SPEC §3 — and the offline ("local") implementations.
//!
//! The pipeline picks one implementation per capability from the project's configuration and
//! holds it as a trait object; nothing here ever switches to another provider because one failed.
//! Every provider writes its output under a temporary name and renames it into place
//! ([`atomic`]), so a crash never leaves a half-written file under the final name, and every
//! failure is a [`YtError`] with a catalogued code.
//!
//! What lives here: the traits and their request/result types, and [`local`] (rule-based script
//! writer, espeak-ng narrator, title-card illustrator, FFmpeg presenter, output-folder publisher).
//! Also here: [`cloud`], the clients of the real services, and [`retry`], the one retry loop.
//! What does not: the database.

use async_trait::async_trait;
use std::path::{Path, PathBuf};

use ytmaker_core::YtResult;
use ytmaker_core::config::{NarrationSettings, PresenterSettings, ScriptSettings};
use ytmaker_core::script::{Language, Script, Segment};

pub mod atomic;
pub mod cloud;
mod html_entities;
pub mod local;
mod process;
pub mod retry;
pub mod speech;
pub mod text;

#[doc(no_inline)]
pub use ytmaker_core::YtError;

/// What a script writer works from.
pub struct ScriptRequest<'a> {
    /// The article as the user gave it (markup and all).
    pub text: &'a str,
    pub settings: &'a ScriptSettings,
    /// The narration settings decide the speech rate the segment lengths are estimated with.
    pub narration: &'a NarrationSettings,
    /// The project's name, a candidate for the video title.
    pub name_hint: Option<&'a str>,
    /// The project's prompt template (with `{article}`); LLM writers use it, the local one does not.
    pub prompt: Option<&'a str>,
}

/// Turns an article into a [`Script`] (SPEC §2 stage 1).
#[async_trait]
pub trait ScriptWriter: Send + Sync {
    /// Stable identifier recorded on the script asset (`local`, `gemini`, …).
    fn id(&self) -> &'static str;
    async fn write_script(&self, req: &ScriptRequest<'_>) -> YtResult<Script>;
}

/// One line to speak.
pub struct NarrationRequest<'a> {
    pub text: &'a str,
    pub language: Language,
    pub settings: &'a NarrationSettings,
    /// Directory the audio file is written into; must exist.
    pub out_dir: &'a Path,
    /// File name without extension; the narrator picks the extension of its format.
    pub file_stem: &'a str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NarrationAudio {
    pub path: PathBuf,
    /// Measured from the audio file with ffprobe, never estimated.
    pub duration_s: f64,
}

/// Text-to-speech.
#[async_trait]
pub trait Narrator: Send + Sync {
    fn id(&self) -> &'static str;
    async fn narrate(&self, req: &NarrationRequest<'_>) -> YtResult<NarrationAudio>;
    /// Checks that the narrator can work (engine and voices present, key valid) without making
    /// a narration; returns what was checked. Used by `doctor` and the health endpoint.
    async fn check(&self) -> YtResult<String>;
}

/// One segment to illustrate.
pub struct ImageRequest<'a> {
    pub segment: &'a Segment,
    pub language: Language,
    pub out_dir: &'a Path,
    pub file_stem: &'a str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ImageAsset {
    pub path: PathBuf,
    pub width: u32,
    pub height: u32,
}

/// One image per segment; the renderer scales and crops it to the frame.
#[async_trait]
pub trait Illustrator: Send + Sync {
    fn id(&self) -> &'static str;
    async fn illustrate(&self, req: &ImageRequest<'_>) -> YtResult<ImageAsset>;
}

/// An intro or outro narration to be spoken by the presenter.
pub struct PresenterRequest<'a> {
    pub audio: &'a Path,
    /// The narration's measured duration; the clip lasts exactly this long.
    pub duration_s: f64,
    pub settings: &'a PresenterSettings,
    pub out_dir: &'a Path,
    pub file_stem: &'a str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PresenterClip {
    pub path: PathBuf,
    pub duration_s: f64,
}

/// The talking head that opens and closes the video.
#[async_trait]
pub trait Presenter: Send + Sync {
    fn id(&self) -> &'static str;
    async fn present(&self, req: &PresenterRequest<'_>) -> YtResult<PresenterClip>;
}

/// The finished video and everything published with it.
pub struct PublishRequest<'a> {
    pub video: &'a Path,
    pub thumbnail: &'a Path,
    pub subtitles: &'a Path,
    pub script: &'a Script,
    pub output_dir: &'a Path,
    /// Title, description, tags, privacy and schedule as the user set them; the script's
    /// title, description and tags fill what is left empty.
    pub youtube: Option<&'a ytmaker_core::youtube::YoutubeSettings>,
    /// A folder the publisher may keep state in across attempts and restarts (the resumable
    /// upload session), so a retry continues instead of starting over.
    pub state_dir: &'a Path,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PublishResult {
    /// Where the video can be found: a path for the local export, a URL for YouTube.
    pub location: String,
    pub video_id: Option<String>,
}

/// The last stage: export or upload.
#[async_trait]
pub trait Publisher: Send + Sync {
    fn id(&self) -> &'static str;
    async fn publish(&self, req: &PublishRequest<'_>) -> YtResult<PublishResult>;
}
