//! Trace ids: one per request or CLI run, carried into every log line, job, event and `error_info`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// 32 lowercase hex characters, the same shape as a W3C `traceparent` trace-id, so an incoming
/// `traceparent` can be adopted as is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TraceId(String);

impl TraceId {
    /// What [`TraceId::parse`] accepts, as a regular expression (for the API document).
    pub const PATTERN: &'static str = "^[0-9A-Za-z_-]{8,64}$";

    pub fn generate() -> Self {
        TraceId(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Accepts an id supplied by a caller (header, CLI flag) when it is 8–64 characters of
    /// `[0-9A-Za-z_-]` ([`TraceId::PATTERN`]); anything else could smuggle text into log lines,
    /// so it is refused.
    pub fn parse(raw: &str) -> Option<Self> {
        let ok_len = (8..=64).contains(&raw.len());
        let ok_chars = raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        (ok_len && ok_chars).then(|| TraceId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_and_parse_back() {
        let a = TraceId::generate();
        let b = TraceId::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 32);
        assert_eq!(TraceId::parse(a.as_str()), Some(a));
    }

    #[test]
    fn hostile_ids_are_refused() {
        assert!(TraceId::parse("short").is_none());
        assert!(TraceId::parse("abc def ghi jkl").is_none());
        assert!(TraceId::parse("abcdefgh\"}injected").is_none());
        assert!(TraceId::parse(&"a".repeat(65)).is_none());
    }
}
