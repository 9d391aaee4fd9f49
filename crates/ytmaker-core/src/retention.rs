//! How long a finished project's intermediate files (narration, images, presenter clips, segment
//! clips, work files) are kept (SPEC §4: keep / 7 / 30 days). The article, the script and the
//! output folder are always kept; the clean-up itself lives in `ytmaker_pipeline::retention`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ErrorCode, YtError, YtResult};

/// The retention policy, stored in the `settings` table under [`Retention::SETTING_KEY`] as
/// `"forever"`, `"7d"` or `"30d"`. No other value exists: a policy the user did not choose can
/// never delete anything.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Retention {
    /// Keep every file (the default).
    #[default]
    Forever,
    /// Remove intermediates 7 days after the project finished.
    SevenDays,
    /// Remove intermediates 30 days after the project finished.
    ThirtyDays,
}

impl Retention {
    pub const SETTING_KEY: &'static str = "retention";
    pub const ALL: [Retention; 3] = [
        Retention::Forever,
        Retention::SevenDays,
        Retention::ThirtyDays,
    ];
    const RULE: &'static str = "one of \"forever\", \"7d\", \"30d\"";

    pub fn as_str(self) -> &'static str {
        match self {
            Retention::Forever => "forever",
            Retention::SevenDays => "7d",
            Retention::ThirtyDays => "30d",
        }
    }

    /// Days a finished project's intermediates are kept; `None` keeps them forever.
    pub fn days(self) -> Option<u32> {
        match self {
            Retention::Forever => None,
            Retention::SevenDays => Some(7),
            Retention::ThirtyDays => Some(30),
        }
    }

    /// Parses a value a user sent; anything but the three policies is a `VALIDATION_ERROR`
    /// naming the field `retention`.
    pub fn parse(raw: &str) -> YtResult<Retention> {
        Self::ALL
            .into_iter()
            .find(|r| r.as_str() == raw)
            .ok_or_else(|| Self::refused(Value::String(raw.to_owned())))
    }

    /// Like [`Retention::parse`] for any JSON value (a number or `null` is refused the same way).
    pub fn from_json(value: &Value) -> YtResult<Retention> {
        match value {
            Value::String(raw) => Self::parse(raw),
            other => Err(Self::refused(other.clone())),
        }
    }

    fn refused(value: Value) -> YtError {
        YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            Self::SETTING_KEY,
            Self::RULE,
            value,
        )
    }
}

impl std::fmt::Display for Retention {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Retention {
    type Error = String;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Retention::parse(&raw).map_err(|e| e.message)
    }
}

impl From<Retention> for String {
    fn from(r: Retention) -> String {
        r.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_policies_round_trip_through_json() {
        for r in Retention::ALL {
            let json = serde_json::to_value(r).unwrap();
            assert_eq!(json, Value::String(r.as_str().into()));
            assert_eq!(
                serde_json::from_value::<Retention>(json.clone()).unwrap(),
                r
            );
            assert_eq!(Retention::from_json(&json).unwrap(), r);
        }
        assert_eq!(Retention::default(), Retention::Forever);
        assert_eq!(Retention::Forever.days(), None);
        assert_eq!(Retention::SevenDays.days(), Some(7));
        assert_eq!(Retention::ThirtyDays.days(), Some(30));
    }

    #[test]
    fn anything_else_is_a_validation_error_naming_the_field() {
        for bad in [
            Value::from("14d"),
            Value::from("7"),
            Value::from("Forever"),
            Value::from(""),
            Value::from(7),
            Value::Null,
        ] {
            let err = Retention::from_json(&bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::VALIDATION_ERROR, "{bad}");
            assert_eq!(err.details["field"], "retention");
            assert_eq!(err.details["value"], bad);
        }
        assert!(serde_json::from_value::<Retention>(Value::from("1d")).is_err());
    }
}
