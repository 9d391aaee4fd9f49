//! TODO(helper): the gemini client.
