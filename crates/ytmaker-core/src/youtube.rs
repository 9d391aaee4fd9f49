//! A project's YouTube settings and their rules, which are YouTube's own: title ≤ 100 characters
//! (no `<` or `>`), description ≤ 5,000 bytes, tags together ≤ 500 characters, a scheduled
//! `publish_at` must be in the future and requires `private` until then. AI disclosure
//! (`containsSyntheticMedia`) is always on for ytmaker videos and is not a setting.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{ErrorCode, YtError, YtResult};

pub const MAX_TITLE_CHARS: usize = 100;
pub const MAX_DESCRIPTION_BYTES: usize = 5_000;
pub const MAX_TAGS: usize = 30;
pub const MAX_TAGS_TOTAL_CHARS: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Privacy {
    #[default]
    Private,
    Unlisted,
    Public,
}

/// The settings of a project's upload. Rules JSON Schema cannot state are in the fields'
/// descriptions; [`YoutubeSettings::validate`] checks them all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct YoutubeSettings {
    /// Empty: the script's title is used.
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::title))]
    pub title: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::description))]
    pub description: String,
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::tags))]
    pub tags: Vec<String>,
    pub privacy: Privacy,
    /// RFC 3339, in the future; needs `privacy: private` (YouTube makes it public then). Absent:
    /// published when the upload finishes.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub publish_at: Option<String>,
    /// The linked account (channel id) to upload with; absent or empty: the default account at
    /// upload time. That it is linked is checked by the API, which knows the accounts.
    #[cfg_attr(feature = "openapi", schema(schema_with = schema::account))]
    pub account: Option<String>,
}

/// The fields' schemas, from the constants [`YoutubeSettings::validate`] checks.
#[cfg(feature = "openapi")]
mod schema {
    use utoipa::openapi::schema::{ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};

    use super::*;

    pub(super) fn title() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX_TITLE_CHARS))
            .pattern(Some(TITLE_PATTERN))
            .description(Some(format!(
                "At most {MAX_TITLE_CHARS} characters, no < or >. Empty: the script's title is used."
            )))
            .build()
    }

    pub(super) fn description() -> Object {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX_DESCRIPTION_BYTES))
            .description(Some(format!(
                "At most {MAX_DESCRIPTION_BYTES} bytes of UTF-8 (YouTube's limit)."
            )))
            .build()
    }

    pub(super) fn tags() -> utoipa::openapi::schema::Array {
        ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(Type::String))
            .max_items(Some(MAX_TAGS))
            .description(Some(format!(
                "At most {MAX_TAGS} tags of at most {MAX_TAGS_TOTAL_CHARS} characters in all."
            )))
            .build()
    }

    pub(super) fn account() -> Object {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
            .pattern(Some(CHANNEL_ID_PATTERN))
            .description(Some(
                "The channel id of a linked account to upload with; absent, null or empty: the default account at upload time.",
            ))
            .build()
    }
}

/// What a title may not contain, as a regular expression.
pub const TITLE_PATTERN: &str = "^[^<>]*$";

/// [`is_channel_id`] as a regular expression, or empty (the default account).
pub const CHANNEL_ID_PATTERN: &str = "^(UC[0-9A-Za-z_-]{22})?$";

/// Whether `id` has the shape of a YouTube channel id: `UC` and 22 URL-safe base64 characters.
/// Channel ids name key-store entries (`youtube:<id>`), so nothing else may pass.
pub fn is_channel_id(id: &str) -> bool {
    id.len() == 24
        && id.starts_with("UC")
        && id[2..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl YoutubeSettings {
    /// The account this project chose, or `None` for the default account.
    pub fn chosen_account(&self) -> Option<&str> {
        self.account.as_deref().filter(|a| !a.is_empty())
    }

    /// Every violation at once, as `VALIDATION_ERROR` with `details.violations[{field, rule, value}]`.
    pub fn validate(&self, now: DateTime<Utc>) -> YtResult<()> {
        let mut violations = Vec::new();
        let mut bad = |field: &str, rule: &str, value: Value| {
            violations.push(json!({ "field": field, "rule": rule, "value": value }));
        };
        let title_chars = self.title.chars().count();
        if title_chars > MAX_TITLE_CHARS {
            bad(
                "youtube.title",
                "at most 100 characters",
                json!(title_chars),
            );
        }
        if self.title.contains(['<', '>']) {
            bad("youtube.title", "no < or > characters", json!(self.title));
        }
        if self.description.len() > MAX_DESCRIPTION_BYTES {
            bad(
                "youtube.description",
                "at most 5000 bytes",
                json!(self.description.len()),
            );
        }
        if self.tags.len() > MAX_TAGS {
            bad("youtube.tags", "at most 30 tags", json!(self.tags.len()));
        }
        let total: usize = self.tags.iter().map(|t| t.chars().count()).sum();
        if total > MAX_TAGS_TOTAL_CHARS {
            bad(
                "youtube.tags",
                "at most 500 characters in all",
                json!(total),
            );
        }
        if let Some(raw) = &self.publish_at {
            match DateTime::parse_from_rfc3339(raw) {
                Err(_) => bad("youtube.publish_at", "an RFC 3339 date-time", json!(raw)),
                Ok(at) if at.with_timezone(&Utc) <= now => {
                    bad("youtube.publish_at", "in the future", json!(raw))
                }
                Ok(_) if self.privacy != Privacy::Private => bad(
                    "youtube.privacy",
                    "private when publish_at is set (YouTube publishes it at that time)",
                    json!(self.privacy),
                ),
                Ok(_) => {}
            }
        }
        if let Some(account) = self.chosen_account()
            && !is_channel_id(account)
        {
            bad(
                "youtube.account",
                "a YouTube channel id (UC and 22 letters, digits, - or _)",
                json!(account),
            );
        }
        if violations.is_empty() {
            return Ok(());
        }
        let first = violations[0].clone();
        Err(YtError::new(
            ErrorCode::VALIDATION_ERROR,
            format!(
                "{}: {}",
                first["field"].as_str().unwrap_or_default(),
                first["rule"].as_str().unwrap_or_default()
            ),
        )
        .detail("field", first["field"].clone())
        .detail("rule", first["rule"].clone())
        .detail("violations", Value::Array(violations)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn youtube_rules_report_every_violation() {
        let now = Utc::now();
        let ok = YoutubeSettings {
            title: "茶".into(),
            publish_at: Some((now + chrono::Duration::hours(2)).to_rfc3339()),
            ..Default::default()
        };
        ok.validate(now).expect("valid");
        let bad = YoutubeSettings {
            title: "x".repeat(101),
            tags: (0..31).map(|i| format!("t{i}")).collect(),
            privacy: Privacy::Public,
            publish_at: Some((now - chrono::Duration::hours(1)).to_rfc3339()),
            ..Default::default()
        };
        let err = bad.validate(now).expect_err("invalid");
        let fields: Vec<_> = err.details["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["field"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(
            fields,
            ["youtube.title", "youtube.tags", "youtube.publish_at"]
        );
        let scheduled_public = YoutubeSettings {
            privacy: Privacy::Public,
            publish_at: Some((now + chrono::Duration::hours(2)).to_rfc3339()),
            ..Default::default()
        };
        let err = scheduled_public.validate(now).expect_err("must be private");
        assert_eq!(err.details["field"], "youtube.privacy");
        let odd_account = YoutubeSettings {
            account: Some("youtube:UCx".into()),
            ..Default::default()
        };
        let err = odd_account.validate(now).expect_err("not a channel id");
        assert_eq!(err.details["field"], "youtube.account");
        let default_account = YoutubeSettings {
            account: Some(String::new()),
            ..Default::default()
        };
        default_account.validate(now).expect("empty is the default");
        assert_eq!(default_account.chosen_account(), None);
    }

    #[test]
    fn channel_ids_are_uc_and_22_url_safe_characters() {
        assert!(is_channel_id("UCytmakerFakeChannel0001"));
        assert!(is_channel_id("UC_x5XG1OV2P6uZZ5FSM9Ttw"));
        for bad in [
            "",
            "UCytmakerFakeChannel000",
            "UCytmakerFakeChannel00011",
            "ucytmakerFakeChannel0001",
            "UCytmakerFake/hannel0001",
            "UCytmakerFakeChannel000:",
            "UCytmakerFakeChannel00é",
        ] {
            assert!(!is_channel_id(bad), "{bad:?}");
        }
    }
}
