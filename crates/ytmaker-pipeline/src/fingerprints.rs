//! Every asset kind's fingerprint, built here and nowhere else.
//!
//! A fingerprint is a hash of everything an asset is made from. [`crate::checkpoint`] reuses a
//! completed asset only while its stored fingerprint equals the one computed now, and
//! [`crate::resume`] finds the earliest stage with an asset whose fingerprint no longer matches.
//! So an input left out of a fingerprint is a change that silently never takes effect.
//!
//! The configuration is read through JSON pointers: each asset kind names the parts of
//! [`ProjectConfig`] it is made from (`*_CONFIG` below), and [`OUTPUT_NEUTRAL`] lists, with the
//! reason, the fields that change no output. A test walks every leaf of the serialised
//! configuration and fails on one that is in neither: adding a field means deciding which.

use serde_json::Value;
use sha2::{Digest, Sha256};
use ytmaker_core::config::{ProjectConfig, ProviderKind};
use ytmaker_core::script::Segment;
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_render::Cue;
use ytmaker_store::Project;

/// The script: the article, the prompt and model (see [`ScriptSource`]), the length targets and
/// the narration settings (the script is timed for the voice's speed).
pub(crate) const SCRIPT_CONFIG: &[&str] = &["/script", "/narration", "/providers/script"];
/// Also the script's, but only when `providers.script` is `openai_compatible` (the only writer
/// that reads them): the server and model that write it and how the JSON is asked for. Left out
/// for the other writers, so their projects keep their fingerprints.
pub(crate) const SCRIPT_LLM_CONFIG: &[&str] =
    &["/llm/base_url", "/llm/model", "/llm/structured_output"];
/// One narration line.
pub(crate) const NARRATION_CONFIG: &[&str] = &["/narration", "/providers/narration"];
/// One segment's image (the cloud illustrator sends all of these; the title cards draw none of
/// them, but a change of provider or style must still give a new image).
pub(crate) const IMAGE_CONFIG: &[&str] = &[
    "/images/style_preset",
    "/images/style_modifiers",
    "/images/negative_prompt",
    "/images/seed",
    "/providers/images",
];
/// The presenter's intro and outro clips.
pub(crate) const PRESENTER_CONFIG: &[&str] = &["/presenter", "/providers/avatar"];
/// One rendered clip: motion, subtitles burnt in, encoder settings, logo overlay.
pub(crate) const CLIP_CONFIG: &[&str] = &[
    "/subtitles",
    "/ken_burns",
    "/render/x264_preset",
    "/render/crf",
    "/logo",
];
/// The thumbnail: its own settings, the title font and the logo.
pub(crate) const THUMBNAIL_CONFIG: &[&str] = &["/thumbnail", "/subtitles/font_family", "/logo"];
/// Read by the publish stage, which has no asset: it runs on every continuation until the
/// project is COMPLETED, and the YouTube publisher keys its upload by the files' hashes.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "a declaration the field walk checks; the publish stage reads the configuration whole"
    )
)]
pub(crate) const PUBLISH_CONFIG: &[&str] = &["/providers/publish"];

/// Fields that change how the work is scheduled, never what is made.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "a declaration the field walk checks")
)]
pub(crate) const OUTPUT_NEUTRAL: &[(&str, &str)] = &[
    (
        "/images/concurrency",
        "how many images are requested at once",
    ),
    (
        "/images/requests_per_minute",
        "client-side pacing of image requests",
    ),
    ("/render/parallel_clips", "how many clips render at once"),
    (
        "/llm/api_key",
        "which stored key authenticates; the server and model that write are fingerprinted",
    ),
];

/// What a script is written from besides the configuration: the article, the prompt text the
/// project was given, and the language model that reads it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ScriptSource<'a> {
    pub article: &'a str,
    pub prompt: Option<&'a str>,
    /// The model actually asked: the project's choice or the provider's default; empty for the
    /// rule-based writer, which has none.
    pub model: String,
}

impl<'a> ScriptSource<'a> {
    pub fn of(project: &'a Project) -> Self {
        let model = match project.configuration.providers.script {
            ProviderKind::Gemini => project
                .llm_model
                .clone()
                .unwrap_or_else(|| ytmaker_providers::cloud::gemini::DEFAULT_MODEL.to_owned()),
            // Its model is `llm.model`, in the configuration part (`SCRIPT_LLM_CONFIG`).
            _ => String::new(),
        };
        ScriptSource {
            article: &project.content,
            prompt: project.prompt_content.as_deref(),
            model,
        }
    }
}

/// A fingerprint of `parts`, unambiguous (each part is length-prefixed).
pub(crate) fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex(&h.finalize())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> YtResult<String> {
    serde_json::to_string(value).map_err(|e| {
        YtError::new(
            ErrorCode::CONFIG_INVALID,
            format!("cannot serialise a fingerprint input: {e}"),
        )
    })
}

/// The fingerprints of one project's assets under one configuration.
pub(crate) struct Fingerprints {
    config: Value,
}

impl Fingerprints {
    pub fn new(config: &ProjectConfig) -> YtResult<Self> {
        let config = serde_json::to_value(config).map_err(|e| {
            YtError::new(
                ErrorCode::CONFIG_INVALID,
                format!("cannot serialise the configuration: {e}"),
            )
        })?;
        Ok(Fingerprints { config })
    }

    /// The configuration values at `paths`, each with its path, as one text.
    fn config_part(&self, paths: &[&str]) -> String {
        let mut out = String::new();
        for path in paths {
            out.push_str(path);
            out.push('=');
            match self.config.pointer(path) {
                Some(value) => out.push_str(&value.to_string()),
                // A path that names no field is a bug in the lists above; the walk test catches
                // it, and an absent value still hashes differently from any present one.
                None => out.push('\u{0}'),
            }
            out.push('\n');
        }
        out
    }

    pub fn script(&self, source: &ScriptSource<'_>) -> String {
        let mut config = self.config_part(SCRIPT_CONFIG);
        let openai_compatible = ProviderKind::OpenaiCompatible.as_str();
        if self.config.pointer("/providers/script") == Some(&Value::from(openai_compatible)) {
            config.push_str(&self.config_part(SCRIPT_LLM_CONFIG));
        }
        fingerprint(&[
            "script/2",
            source.article,
            source.prompt.unwrap_or("\u{0}"),
            &source.model,
            &config,
        ])
    }

    pub fn narration(&self, text: &str) -> String {
        fingerprint(&["audio/2", text, &self.config_part(NARRATION_CONFIG)])
    }

    pub fn image(&self, segment: &Segment) -> String {
        fingerprint(&[
            "image/2",
            &segment.image_description,
            segment.image_prompt.as_deref().unwrap_or(""),
            &segment.key_phrase,
            &self.config_part(IMAGE_CONFIG),
        ])
    }

    pub fn presenter(&self, audio_hash: &str) -> String {
        fingerprint(&["avatar/2", audio_hash, &self.config_part(PRESENTER_CONFIG)])
    }

    /// `cues` relative to the clip's first frame.
    pub fn clip(&self, source_hash: &str, frames: u32, cues: &[Cue]) -> YtResult<String> {
        Ok(fingerprint(&[
            "clip/2",
            source_hash,
            &frames.to_string(),
            &cue_text(cues)?,
            &self.config_part(CLIP_CONFIG),
        ]))
    }

    pub fn subtitles(&self, cues: &[Cue]) -> YtResult<String> {
        Ok(fingerprint(&["subtitles/2", &cue_text(cues)?]))
    }

    pub fn final_video(&self, clip_hashes: &[String], audio_hashes: &[String]) -> String {
        let mut parts = vec!["final/2"];
        parts.extend(clip_hashes.iter().map(String::as_str));
        parts.push("|");
        parts.extend(audio_hashes.iter().map(String::as_str));
        fingerprint(&parts)
    }

    pub fn thumbnail(&self, image_hash: &str, title: &str) -> String {
        fingerprint(&[
            "thumbnail/2",
            image_hash,
            title,
            &self.config_part(THUMBNAIL_CONFIG),
        ])
    }
}

fn cue_text(cues: &[Cue]) -> YtResult<String> {
    json_text(
        &cues
            .iter()
            .map(|c| (c.start_s, c.end_s, &c.text))
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ytmaker_core::config::LogoSettings;

    #[test]
    fn fingerprints_change_with_any_input_and_are_not_ambiguous() {
        let a = fingerprint(&["ab", "c"]);
        assert_eq!(a, fingerprint(&["ab", "c"]));
        assert_ne!(a, fingerprint(&["a", "bc"]));
        assert_ne!(a, fingerprint(&["ab", "d"]));
    }

    /// Every leaf of the serialised configuration, as JSON pointers.
    fn leaves(value: &Value, at: String, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    leaves(v, format!("{at}/{k}"), out);
                }
            }
            _ => out.push(at),
        }
    }

    /// A configuration with every optional section present, so their fields are walked too.
    fn full_config() -> ProjectConfig {
        let mut c = ProjectConfig {
            logo: Some(LogoSettings {
                upload: "a".repeat(64),
                ..LogoSettings::default()
            }),
            ..ProjectConfig::default()
        };
        c.images.style_preset = Some("anime".into());
        c.presenter.portrait = Some("/portrait.png".into());
        // The writer that reads `[llm]`, so its fields move the script's fingerprint.
        c.providers.script = ProviderKind::OpenaiCompatible;
        c.llm.model = "qwen2.5:7b".into();
        c.llm.api_key = "openai_compatible".into();
        c
    }

    fn all_lists() -> Vec<(&'static str, &'static [&'static str])> {
        vec![
            ("script", SCRIPT_CONFIG),
            ("script", SCRIPT_LLM_CONFIG),
            ("narration", NARRATION_CONFIG),
            ("image", IMAGE_CONFIG),
            ("presenter", PRESENTER_CONFIG),
            ("clip", CLIP_CONFIG),
            ("thumbnail", THUMBNAIL_CONFIG),
            ("publish", PUBLISH_CONFIG),
        ]
    }

    fn covered_by(path: &str, list: &[&str]) -> bool {
        list.iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")))
    }

    #[test]
    fn every_configuration_field_is_fingerprinted_or_declared_output_neutral() {
        let config = serde_json::to_value(full_config()).unwrap();
        let mut paths = Vec::new();
        leaves(&config, String::new(), &mut paths);
        assert!(paths.len() > 30, "the walk found too few fields: {paths:?}");
        let mut undecided = Vec::new();
        for path in &paths {
            let in_fingerprint = all_lists().iter().any(|(_, l)| covered_by(path, l));
            let neutral = OUTPUT_NEUTRAL.iter().any(|(p, _)| covered_by(path, &[p]));
            assert!(
                !(in_fingerprint && neutral),
                "{path} is both fingerprinted and declared output-neutral"
            );
            if !in_fingerprint && !neutral {
                undecided.push(path.clone());
            }
        }
        assert!(
            undecided.is_empty(),
            "configuration fields in no fingerprint and not declared output-neutral \
             (add each to a *_CONFIG list or to OUTPUT_NEUTRAL with the reason): {undecided:?}"
        );
        // Every listed path names a real field (a typo would silently cover nothing).
        for (name, list) in all_lists() {
            for p in list {
                assert!(
                    config.pointer(p).is_some(),
                    "{name} lists {p}, no such field"
                );
            }
        }
        for (p, _) in OUTPUT_NEUTRAL {
            assert!(
                config.pointer(p).is_some(),
                "OUTPUT_NEUTRAL lists {p}, no such field"
            );
        }
    }

    /// A different value of the same JSON type.
    fn changed(v: &Value) -> Value {
        match v {
            Value::Bool(b) => Value::Bool(!b),
            Value::Number(n) => match n.as_u64() {
                Some(u) => Value::from(u + 1),
                None => Value::from(n.as_f64().unwrap_or(0.0) + 0.25),
            },
            Value::String(s) => Value::String(format!("{s}x")),
            Value::Null => Value::String("set".into()),
            other => Value::String(format!("{other}x")),
        }
    }

    fn all_fingerprints(f: &Fingerprints) -> Vec<(&'static str, String)> {
        let segment = Segment {
            index: 0,
            narration: "n".into(),
            image_description: "d".into(),
            image_prompt: None,
            key_phrase: "k".into(),
            estimated_seconds: 5.0,
            description_edited: false,
        };
        let cues = [Cue {
            start_s: 0.0,
            end_s: 1.0,
            text: "t".into(),
        }];
        let source = ScriptSource {
            article: "a",
            prompt: None,
            model: String::new(),
        };
        vec![
            ("script", f.script(&source)),
            ("narration", f.narration("n")),
            ("image", f.image(&segment)),
            ("presenter", f.presenter("h")),
            ("clip", f.clip("h", 30, &cues).unwrap()),
            ("thumbnail", f.thumbnail("h", "t")),
        ]
    }

    #[test]
    fn changing_a_fingerprinted_field_changes_its_assets_fingerprint() {
        let base_config = serde_json::to_value(full_config()).unwrap();
        let base = all_fingerprints(&Fingerprints {
            config: base_config.clone(),
        });
        let mut paths = Vec::new();
        leaves(&base_config, String::new(), &mut paths);
        for path in paths {
            let lists: Vec<&str> = all_lists()
                .into_iter()
                .filter(|(name, l)| *name != "publish" && covered_by(&path, l))
                .map(|(name, _)| name)
                .collect();
            let mut config = base_config.clone();
            let slot = config.pointer_mut(&path).unwrap();
            *slot = changed(slot);
            let now = all_fingerprints(&Fingerprints { config });
            for ((name, before), (_, after)) in base.iter().zip(&now) {
                assert_eq!(
                    lists.contains(name),
                    before != after,
                    "changing {path}: the {name} fingerprint {} change",
                    if lists.contains(name) {
                        "did not"
                    } else {
                        "should not"
                    }
                );
            }
        }
    }

    #[test]
    fn the_llm_section_moves_the_script_only_when_it_writes_it() {
        let source = ScriptSource {
            article: "a",
            prompt: None,
            model: String::new(),
        };
        let script = |c: &ProjectConfig| Fingerprints::new(c).unwrap().script(&source);
        let mut other = ProjectConfig::default();
        other.llm.base_url = "http://elsewhere:8000/v1".into();
        other.llm.model = "another".into();
        assert_eq!(
            script(&ProjectConfig::default()),
            script(&other),
            "a Gemini or local project's script does not depend on [llm]"
        );
        let mut llm = ProjectConfig::default();
        llm.providers.script = ProviderKind::OpenaiCompatible;
        llm.llm.model = "qwen2.5:7b".into();
        let base = script(&llm);
        for change in [
            |c: &mut ProjectConfig| c.llm.model = "llama3.2:3b".into(),
            |c: &mut ProjectConfig| c.llm.base_url = "http://localhost:8000/v1".into(),
            |c: &mut ProjectConfig| {
                c.llm.structured_output = ytmaker_core::config::StructuredOutput::JsonObject
            },
        ] {
            let mut changed = llm.clone();
            change(&mut changed);
            assert_ne!(base, script(&changed));
        }
        let mut key = llm.clone();
        key.llm.api_key = "openai_compatible".into();
        assert_eq!(base, script(&key), "the key name is output-neutral");
    }

    #[test]
    fn the_prompt_and_the_model_are_in_the_script_fingerprint() {
        let f = Fingerprints::new(&ProjectConfig::default()).unwrap();
        let base = ScriptSource {
            article: "article",
            prompt: Some("prompt"),
            model: "gemini-2.5-flash".into(),
        };
        let other_prompt = ScriptSource {
            prompt: Some("another prompt"),
            ..base.clone()
        };
        let no_prompt = ScriptSource {
            prompt: None,
            ..base.clone()
        };
        let other_model = ScriptSource {
            model: "gemini-2.5-pro".into(),
            ..base.clone()
        };
        let other_article = ScriptSource {
            article: "another article",
            ..base.clone()
        };
        let all = [
            f.script(&base),
            f.script(&other_prompt),
            f.script(&no_prompt),
            f.script(&other_model),
            f.script(&other_article),
        ];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
