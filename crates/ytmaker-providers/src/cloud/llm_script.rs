//! What every language-model script writer shares, whatever its wire format: the checks made
//! before anything is paid for, the prompt (the project's template with the cleaned article) and
//! the system instruction (the project's length rules in units the model can count), the script's
//! JSON shape in each schema dialect, and the [`Script`] built from the model's JSON — with the
//! language, segment estimates and length warnings of the local writer. A segment the model made
//! too long or too short is reported, never changed.
//!
//! Used by the Gemini writer ([`super::gemini`]) and the OpenAI-compatible one
//! ([`super::openai_compat`]), so both produce the same `Script` from the same request.

use serde::Deserialize;
use serde_json::{Value, json};

use ytmaker_core::config::ScriptSettings;
use ytmaker_core::prompt::{
    ARTICLE_PLACEHOLDER, DEFAULT_PROMPT_TEMPLATE, validate_template_content,
};
use ytmaker_core::script::{Language, Script, Segment};
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::ScriptRequest;
use crate::local::{
    article_language, check_settings, length_warnings, line_seconds, narration_line,
};
use crate::speech::estimate_seconds;
use crate::text::{self, NormalisedText};

pub(crate) const TITLE_MAX_CHARS: usize = 100;
pub(crate) const TAGS_MAX: u32 = 15;
const TEXT_HEAD_CHARS: usize = 300;

/// A request checked and turned into what a model is sent.
pub(crate) struct Prepared {
    pub language: Language,
    /// The narration's speaking rate, which the segment estimates use.
    pub rate: f64,
    /// The project's template with the cleaned article in place of `{article}`.
    pub prompt: String,
    /// The project's length rules.
    pub system: String,
}

/// Checks the request (settings, template, an article with something to narrate) and builds
/// the prompt and system instruction. Nothing is called before this passes.
pub(crate) fn prepare(req: &ScriptRequest<'_>) -> YtResult<Prepared> {
    check_settings(req.settings, req.narration)?;
    let template = req.prompt.unwrap_or(DEFAULT_PROMPT_TEMPLATE);
    validate_template_content(template)?;
    let normalised = text::normalise(req.text);
    if !normalised.has_body() {
        return Err(YtError::new(
            ErrorCode::SCRIPT_NO_CONTENT,
            "the text has no sentence to narrate after clean-up",
        )
        .detail("input_chars", req.text.chars().count()));
    }
    let language = article_language(&normalised);
    let rate = req.narration.speaking_rate;
    Ok(Prepared {
        language,
        rate,
        prompt: template.replace(ARTICLE_PLACEHOLDER, &article_text(&normalised)),
        system: system_instruction(req.settings, language, rate),
    })
}

/// The cleaned article, one blank line between paragraphs.
fn article_text(normalised: &NormalisedText) -> String {
    normalised
        .paragraphs
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The project's rules, stated in the units the model can count: seconds, and the characters or
/// words per second of the speech-rate model the segments are measured with afterwards.
fn system_instruction(settings: &ScriptSettings, language: Language, rate: f64) -> String {
    let (language_name, pace) = match language {
        Language::ZhTw => {
            let per_second = 1.0 / estimate_seconds("中", Language::ZhTw, rate);
            (
                "Traditional Chinese as written in Taiwan",
                format!(
                    "The narration is spoken at about {per_second:.1} Chinese characters per second, so a segment holds about {:.0} to {:.0} characters.",
                    settings.segment_min_seconds * per_second,
                    settings.segment_max_seconds * per_second * 0.9
                ),
            )
        }
        Language::En => {
            let per_second = 1.0 / estimate_seconds("speech ", Language::En, rate);
            (
                "English",
                format!(
                    "The narration is spoken at about {per_second:.1} words per second, so a segment holds about {:.0} to {:.0} words.",
                    settings.segment_min_seconds * per_second,
                    settings.segment_max_seconds * per_second * 0.9
                ),
            )
        }
    };
    format!(
        "You write the script of a narrated video as JSON matching the response schema.\n\
         Write title, description, tags, intro, outro, narration, image_description and key_phrase in {language_name}.\n\
         Each segment's narration takes {min} to {max} seconds to speak. {pace}\n\
         The whole video, intro and outro included, runs {tmin} to {tmax} seconds.\n\
         The title has at most {TITLE_MAX_CHARS} characters; give at most {TAGS_MAX} tags.\n\
         image_prompt_en is image_description as an English prompt for a text-to-image model, with no text or letters in the picture.\n\
         key_phrase sums up the segment in at most 16 Chinese characters or 40 Latin characters.",
        min = settings.segment_min_seconds,
        max = settings.segment_max_seconds,
        tmin = settings.target_min_seconds,
        tmax = settings.target_max_seconds,
    )
}

/// The script's fields and their descriptions, in order: the one description of the shape that
/// every schema dialect below is made from.
const TOP_FIELDS: [(&str, &str); 6] = [
    ("title", "YouTube title, at most 100 characters"),
    ("description", "YouTube description"),
    ("tags", "YouTube tags"),
    (
        "intro",
        "One or two sentences the presenter says before the first segment",
    ),
    ("segments", "The narrated segments, in order"),
    (
        "outro",
        "One or two sentences the presenter says after the last segment",
    ),
];
const SEGMENT_FIELDS: [(&str, &str); 4] = [
    ("narration", "What the narrator says during this segment"),
    (
        "image_description",
        "What the segment's image shows, in the script's language",
    ),
    (
        "image_prompt_en",
        "The image description as an English text-to-image prompt",
    ),
    ("key_phrase", "A short phrase summing up the segment"),
];

/// How a schema is written for an API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Gemini's `responseSchema`: the OpenAPI 3.0 subset, upper-case types, `propertyOrdering`.
    Gemini,
    /// JSON Schema as OpenAI's strict structured outputs take it (and Ollama, vLLM, LM Studio):
    /// every property required, `additionalProperties: false` on every object, no array bounds
    /// (not every server's grammar takes them; the script is checked afterwards anyway).
    JsonSchema,
}

/// The script's shape in `dialect`.
pub(crate) fn script_schema(dialect: Dialect) -> Value {
    let gemini = dialect == Dialect::Gemini;
    let name = |t: &str| {
        if gemini {
            t.to_ascii_uppercase()
        } else {
            t.to_owned()
        }
    };
    let text = |description: &str| json!({"type": name("string"), "description": description});
    let object = |fields: Vec<(&str, Value)>| {
        let order: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
        let properties: serde_json::Map<String, Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        let mut o = json!({"type": name("object"), "properties": properties, "required": order});
        if gemini {
            o["propertyOrdering"] = json!(order);
        } else {
            o["additionalProperties"] = json!(false);
        }
        o
    };
    let segment = object(SEGMENT_FIELDS.iter().map(|(k, d)| (*k, text(d))).collect());
    let top = TOP_FIELDS
        .iter()
        .map(|(k, d)| {
            let v = match *k {
                "tags" => {
                    let mut a = json!({"type": name("array"), "items": {"type": name("string")}, "description": d});
                    if gemini {
                        a["maxItems"] = json!(TAGS_MAX);
                    }
                    a
                }
                "segments" => {
                    let mut a = json!({"type": name("array"), "items": segment.clone(), "description": d});
                    if gemini {
                        a["minItems"] = json!(1);
                    }
                    a
                }
                _ => text(d),
            };
            (*k, v)
        })
        .collect();
    object(top)
}

/// The script from the model's JSON text, or why the text does not make one.
pub(crate) fn script_from_json(
    text: &str,
    prepared: &Prepared,
    settings: &ScriptSettings,
) -> Result<Script, String> {
    let drafted: DraftScript = serde_json::from_str(text)
        .map_err(|e| format!("the model's answer is not the script JSON: {e}"))?;
    build_script(drafted, prepared.language, prepared.rate, settings)
}

/// The first characters of a model's text, for an error's details.
pub(crate) fn head(text: &str) -> String {
    text.chars().take(TEXT_HEAD_CHARS).collect()
}

/// The script as the response schema asks for it.
#[derive(Deserialize)]
struct DraftScript {
    title: String,
    description: String,
    tags: Vec<String>,
    intro: String,
    segments: Vec<DraftSegment>,
    outro: String,
}

#[derive(Deserialize)]
struct DraftSegment {
    narration: String,
    image_description: String,
    image_prompt_en: String,
    key_phrase: String,
}

/// The script from the model's JSON, or why the JSON does not make one.
fn build_script(
    draft: DraftScript,
    language: Language,
    rate: f64,
    settings: &ScriptSettings,
) -> Result<Script, String> {
    let required = |field: &str, value: String| -> Result<String, String> {
        let value = value.trim().to_owned();
        if value.is_empty() {
            Err(format!("{field} is empty"))
        } else {
            Ok(value)
        }
    };
    let title = required("title", draft.title)?;
    if title.chars().count() > TITLE_MAX_CHARS {
        return Err(format!(
            "the title has {} characters, more than {TITLE_MAX_CHARS}",
            title.chars().count()
        ));
    }
    if draft.segments.is_empty() {
        return Err("the script has no segment".into());
    }
    let mut segments = Vec::with_capacity(draft.segments.len());
    for (i, s) in draft.segments.into_iter().enumerate() {
        let field = |name: &str| format!("segments[{i}].{name}");
        let narration = required(&field("narration"), s.narration)?;
        segments.push(Segment {
            index: i as u32,
            estimated_seconds: line_seconds(&narration, language, rate),
            narration,
            image_description: required(&field("image_description"), s.image_description)?,
            image_prompt: Some(required(&field("image_prompt_en"), s.image_prompt_en)?),
            key_phrase: required(&field("key_phrase"), s.key_phrase)?,
            description_edited: false,
        });
    }
    let spoken: String = segments
        .iter()
        .map(|s| s.narration.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    let written_in = text::detect_language(&spoken);
    if written_in != language {
        return Err(format!(
            "the narration is in {written_in:?}, the article in {language:?}"
        ));
    }
    let tags = draft
        .tags
        .into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    let mut script = Script {
        language,
        title,
        description: draft.description.trim().to_owned(),
        tags,
        intro: narration_line(required("intro", draft.intro)?, language, rate),
        segments,
        outro: narration_line(required("outro", draft.outro)?, language, rate),
        condensation: None,
        warnings: Vec::new(),
    };
    script.warnings = length_warnings(&script, settings);
    Ok(script)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required(v: &Value) -> Vec<&str> {
        v["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect()
    }

    #[test]
    fn both_dialects_describe_the_same_shape() {
        let g = script_schema(Dialect::Gemini);
        let j = script_schema(Dialect::JsonSchema);
        for s in [&g, &j] {
            assert_eq!(
                required(s),
                ["title", "description", "tags", "intro", "segments", "outro"]
            );
            assert_eq!(
                required(&s["properties"]["segments"]["items"]),
                [
                    "narration",
                    "image_description",
                    "image_prompt_en",
                    "key_phrase"
                ]
            );
        }
        assert_eq!(g["type"], "OBJECT");
        assert_eq!(g["properties"]["tags"]["maxItems"], TAGS_MAX);
        assert_eq!(j["type"], "object");
        // OpenAI's strict mode: every object closed, every property required.
        assert_eq!(j["additionalProperties"], false);
        assert_eq!(
            j["properties"]["segments"]["items"]["additionalProperties"],
            false
        );
        assert!(j.get("propertyOrdering").is_none());
        assert!(j["properties"]["segments"].get("minItems").is_none());
    }
}
