//! API keys and OAuth tokens held in memory.
//!
//! A [`Secret`] prints as a masked hint in `Debug` and `Display`, and is not `Serialize`, so it
//! cannot reach a log line, an error's details or an API response by accident; the only way to
//! the clear text is [`Secret::expose`], called where the value goes on the wire.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What may be shown of the secret: its length and last four characters, never more than a
    /// quarter of it.
    pub fn hint(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        let shown = (chars.len() / 4).min(4);
        let tail: String = chars[chars.len() - shown..].iter().collect();
        format!("…{tail} ({} characters)", chars.len())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.hint())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_short_tail_is_ever_shown() {
        let key = Secret::new("AIzaSyA-very-secret-key-1234");
        assert_eq!(key.hint(), "…1234 (28 characters)");
        assert!(!format!("{key:?}").contains("very-secret"));
        assert!(!format!("{key}").contains("very-secret"));
        assert_eq!(Secret::new("abc").hint(), "… (3 characters)");
        assert_eq!(key.expose(), "AIzaSyA-very-secret-key-1234");
    }
}
