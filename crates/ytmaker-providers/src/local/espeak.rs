//! Local narration with espeak-ng.
//!
//! Mandarin uses the `cmn-latn-pinyin` voice: plain `cmn` reads Latin text as English letter by
//! letter and speaks pinyin tone digits aloud. espeak-ng 1.51 pronounces Traditional characters
//! (all 1,393 distinct ones of the test articles were checked) and pauses at full-width
//! punctuation; numbers and a few symbols it reads badly are written out first
//! ([`crate::speech::spoken_form`]). The duration is measured from the WAV with ffprobe.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use ytmaker_core::config::VoiceGender;
use ytmaker_core::script::Language;
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_render::Toolchain;

use crate::atomic::PendingFile;
use crate::process::{ToolRun, run_tool};
use crate::speech::{espeak_words_per_minute, spoken_form};
use crate::{NarrationAudio, NarrationRequest, Narrator};

/// Environment variable naming the espeak-ng binary (default: `espeak-ng` on `PATH`).
pub const ESPEAK_ENV: &str = "YTMAKER_ESPEAK";

/// espeak-ng speaks a segment in well under a second; a run this long is hung.
const ESPEAK_TIMEOUT: Duration = Duration::from_secs(120);

/// A WAV header is 44 bytes; a file no larger holds no sound.
const WAV_HEADER_BYTES: u64 = 44;

pub struct EspeakNarrator {
    program: PathBuf,
    tools: Toolchain,
}

impl EspeakNarrator {
    /// Uses `$YTMAKER_ESPEAK` when set, else `espeak-ng` from `PATH`; `tools` measure the audio.
    pub fn new(tools: Toolchain) -> Self {
        let program = std::env::var_os(ESPEAK_ENV)
            .filter(|v| !v.is_empty())
            .map_or_else(|| PathBuf::from("espeak-ng"), PathBuf::from);
        EspeakNarrator { program, tools }
    }

    /// Uses the given binary.
    pub fn with_program(program: impl Into<PathBuf>, tools: Toolchain) -> Self {
        EspeakNarrator {
            program: program.into(),
            tools,
        }
    }

    /// The espeak-ng voice: language plus a female or male variant.
    pub fn voice(language: Language, gender: VoiceGender) -> String {
        let base = match language {
            Language::ZhTw => "cmn-latn-pinyin",
            Language::En => "en-us",
        };
        let variant = match gender {
            VoiceGender::Female => "f3",
            VoiceGender::Male => "m3",
        };
        format!("{base}+{variant}")
    }

    /// espeak-ng's `-p` (0–99, 50 normal) from a pitch in semitones (−20–20).
    pub fn pitch(semitones: f64) -> u32 {
        (50.0 + semitones * 2.5).round().clamp(0.0, 99.0) as u32
    }
}

#[async_trait]
impl Narrator for EspeakNarrator {
    fn id(&self) -> &'static str {
        "espeak-ng"
    }

    async fn check(&self) -> YtResult<String> {
        let program = self.program.display().to_string();
        let listed = tokio::time::timeout(
            ESPEAK_TIMEOUT,
            tokio::process::Command::new(&self.program)
                .arg("--voices=cmn")
                .kill_on_drop(true)
                .output(),
        )
        .await
        .map_err(|_| {
            YtError::new(ErrorCode::TTS_ENGINE_FAILED, "espeak-ng did not answer")
                .detail("program", program.clone())
        })?
        .map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                ErrorCode::TTS_ENGINE_NOT_FOUND
            } else {
                ErrorCode::TTS_ENGINE_FAILED
            };
            YtError::new(code, format!("cannot start espeak-ng: {e}"))
                .detail("program", program.clone())
                .detail("os_error", e.to_string())
        })?;
        if !listed.status.success() {
            return Err(YtError::new(
                ErrorCode::TTS_ENGINE_FAILED,
                format!("espeak-ng --voices failed: {}", listed.status),
            )
            .detail("program", program));
        }
        let voices = String::from_utf8_lossy(&listed.stdout);
        let voice = Self::voice(Language::ZhTw, VoiceGender::Female);
        let base = voice.split('+').next().unwrap_or(&voice);
        if !voices.contains(base) {
            return Err(YtError::new(
                ErrorCode::TTS_ENGINE_NOT_FOUND,
                format!("espeak-ng has no {base} voice"),
            )
            .detail("program", program)
            .detail("voice", base));
        }
        Ok(format!("espeak-ng with voice {base}"))
    }

    async fn narrate(&self, req: &NarrationRequest<'_>) -> YtResult<NarrationAudio> {
        let spoken = spoken_form(req.text.trim(), req.language);
        if !spoken.chars().any(char::is_alphanumeric) {
            return Err(YtError::new(
                ErrorCode::TTS_INVALID_INPUT,
                "the narration line has nothing to speak",
            )
            .detail("text", req.text)
            .detail("file_stem", req.file_stem));
        }
        let target = req.out_dir.join(format!("{}.wav", req.file_stem));
        let pending = PendingFile::new(&target);
        let voice = Self::voice(req.language, req.settings.voice);
        let wpm = espeak_words_per_minute(req.language, req.settings.speaking_rate);
        let args: Vec<OsString> = vec![
            "-v".into(),
            voice.clone().into(),
            "-s".into(),
            wpm.to_string().into(),
            "-p".into(),
            Self::pitch(req.settings.pitch).to_string().into(),
            // Input is UTF-8.
            "-b".into(),
            "1".into(),
            "-w".into(),
            pending.path().as_os_str().to_owned(),
            "--stdin".into(),
        ];
        run_tool(ToolRun {
            tool: "espeak-ng",
            program: &self.program,
            args: &args,
            stdin: Some(spoken.as_bytes()),
            timeout: ESPEAK_TIMEOUT,
            not_found: ErrorCode::TTS_ENGINE_NOT_FOUND,
            failed: ErrorCode::TTS_ENGINE_FAILED,
        })
        .await
        .map_err(|e| e.detail("voice", voice.clone()))?;

        let no_audio = |reason: &str| {
            YtError::new(
                ErrorCode::TTS_ENGINE_FAILED,
                format!("espeak-ng produced no audio: {reason}"),
            )
            .detail("voice", voice.clone())
            .detail("file_stem", req.file_stem)
        };
        let size = match tokio::fs::metadata(pending.path()).await {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(no_audio("no file was written"));
            }
            Err(e) => return Err(YtError::io("read", pending.path(), &e)),
        };
        if size <= WAV_HEADER_BYTES {
            return Err(no_audio("the file holds no samples").detail("bytes", size));
        }
        let info = ytmaker_render::probe(&self.tools, pending.path()).await?;
        let duration_s = info.audio.as_ref().map_or(0.0, |a| a.duration_s);
        if duration_s <= 0.0 {
            return Err(no_audio("the audio lasts zero seconds"));
        }
        let path = pending.commit().await?;
        tracing::debug!(path = %path.display(), duration_s, voice = voice.as_str(), wpm, "narration written");
        Ok(NarrationAudio { path, duration_s })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voices_and_pitch() {
        assert_eq!(
            EspeakNarrator::voice(Language::ZhTw, VoiceGender::Female),
            "cmn-latn-pinyin+f3"
        );
        assert_eq!(
            EspeakNarrator::voice(Language::En, VoiceGender::Male),
            "en-us+m3"
        );
        assert_eq!(EspeakNarrator::pitch(0.0), 50);
        assert_eq!(EspeakNarrator::pitch(20.0), 99);
        assert_eq!(EspeakNarrator::pitch(-20.0), 0);
        assert_eq!(EspeakNarrator::pitch(4.0), 60);
    }
}
