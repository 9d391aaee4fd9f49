//! Prompt templates: the text an LLM script writer is given with the article. The default one is
//! protected (it cannot be deleted) because it carries the segment-length rule of SPEC §2.

pub const DEFAULT_PROMPT_TEMPLATE_NAME: &str = "Default (5–20 s segments)";

pub const DEFAULT_PROMPT_TEMPLATE: &str = "\
You turn the article below into the script of a narrated YouTube video.
Write in the article's language. Produce: a one-sentence intro for the presenter, then segments,
then a one-sentence outro for the presenter.
Each segment is narrated in 5 to 20 seconds (about 20–80 Chinese characters or 12–50 English
words): never shorter, never longer. Keep the article's order and facts; do not invent.
For each segment give the narration text and an image description in English that a text-to-image
model can draw (no text in the image).
Also give a YouTube title (at most 100 characters), a description and up to 15 tags.

Article:
{article}";

/// Placeholder replaced by the article text.
pub const ARTICLE_PLACEHOLDER: &str = "{article}";

pub const MAX_TEMPLATE_CHARS: usize = 20_000;
pub const MAX_NAME_CHARS: usize = 100;
/// The longest LLM model name a project records (`gemini-2.5-flash` and the like).
pub const MAX_MODEL_CHARS: usize = 100;

use serde_json::Value;

use crate::{ErrorCode, YtError, YtResult};

/// A template or project name: at most 100 characters, at least one of them not white space.
pub fn validate_name(field: &str, name: &str) -> YtResult<()> {
    bounded_text(field, name, MAX_NAME_CHARS)
}

/// An LLM model name: at most [`MAX_MODEL_CHARS`] characters, at least one not white space.
pub fn validate_model(field: &str, model: &str) -> YtResult<()> {
    bounded_text(field, model, MAX_MODEL_CHARS)
}

/// 1–`max` characters (counted as written: the limit the API document states), not all white
/// space.
fn bounded_text(field: &str, text: &str, max: usize) -> YtResult<()> {
    let chars = text.chars().count();
    if text.trim().is_empty() || chars > max {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            field,
            &format!("1 to {max} characters, not all white space"),
            Value::from(chars),
        ));
    }
    Ok(())
}

/// Template text: not empty, at most [`MAX_TEMPLATE_CHARS`], and it must place the article.
pub fn validate_template_content(content: &str) -> YtResult<()> {
    let chars = content.chars().count();
    if content.trim().is_empty() || chars > MAX_TEMPLATE_CHARS {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "content",
            "1 to 20000 characters",
            Value::from(chars),
        ));
    }
    if !content.contains(ARTICLE_PLACEHOLDER) {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "content",
            "must contain {article}",
            Value::from(false),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_template_is_valid_and_carries_the_segment_rule() {
        validate_template_content(DEFAULT_PROMPT_TEMPLATE).expect("valid");
        assert!(DEFAULT_PROMPT_TEMPLATE.contains("5 to 20 seconds"));
        validate_name("name", DEFAULT_PROMPT_TEMPLATE_NAME).expect("valid");
    }

    #[test]
    fn names_and_contents_are_bounded() {
        let long = "x".repeat(101);
        let err = validate_name("name", &long).expect_err("too long");
        assert_eq!(err.code, ErrorCode::VALIDATION_ERROR);
        assert_eq!(err.details["field"], "name");
        assert!(validate_name("name", "   ").is_err());
        // Counted as written: white space at the ends counts, as the API document's maxLength.
        assert!(validate_name("name", &format!(" {} ", "x".repeat(99))).is_err());
        validate_name("name", &"名".repeat(100)).expect("100 characters, 300 bytes");
        validate_model("llm_model", "gemini-2.5-flash").expect("a model");
        assert!(validate_model("llm_model", &"m".repeat(101)).is_err());
        let err = validate_template_content("no placeholder").expect_err("no article");
        assert_eq!(err.details["rule"], "must contain {article}");
    }
}
