//! The alert rules, as data: what each watches, its threshold and window, its priority and how it
//! clears. `evaluate` reads this table and has no rule-specific thresholds of its own.

use std::time::Duration;

use ytmaker_core::ErrorCode;
use ytmaker_core::error::Priority;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuleId {
    ProviderKeyInvalid,
    YoutubeRefreshFailed,
    DatabaseDown,
    QueueDown,
    FfmpegFailing,
    DiskCritical,
    QuotaLow,
    ProviderConsecutiveFailures,
    ProviderErrorRate,
    DiskLow,
}

impl RuleId {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleId::ProviderKeyInvalid => "provider_key_invalid",
            RuleId::YoutubeRefreshFailed => "youtube_refresh_failed",
            RuleId::DatabaseDown => "database_down",
            RuleId::QueueDown => "queue_down",
            RuleId::FfmpegFailing => "ffmpeg_failing",
            RuleId::DiskCritical => "disk_critical",
            RuleId::QuotaLow => "quota_low",
            RuleId::ProviderConsecutiveFailures => "provider_consecutive_failures",
            RuleId::ProviderErrorRate => "provider_error_rate",
            RuleId::DiskLow => "disk_low",
        }
    }

    pub fn parse(raw: &str) -> Option<RuleId> {
        RULES.iter().map(|r| r.id).find(|id| id.as_str() == raw)
    }

    pub fn rule(self) -> &'static Rule {
        // RULES is in declaration order of the ids (tested), so the id is the index.
        &RULES[self as usize]
    }
}

/// What a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Watch {
    /// Provider calls (and project failures) ending with one of these codes, per API.
    Codes(&'static [ErrorCode]),
    /// `Store::ping`.
    DatabasePing,
    /// The job queue's counts (`JobQueue::stats`).
    QueueStats,
    /// FFmpeg answers `-version`, and no project failed with one of these codes in the window.
    Ffmpeg(&'static [ErrorCode]),
    /// Free space of the data directory's disk below `below_percent` (the configured value wins,
    /// see `MonitorConfig`); with `render_floor`, also below the floor a render needs
    /// (`ytmaker_pipeline::check_free_space`).
    DiskFree {
        below_percent: f64,
        render_floor: bool,
    },
    /// A provider's remaining quota below `below_percent` of its limit, or one of the codes seen
    /// with no successful call to that API after it.
    Quota {
        below_percent: f64,
        exhausted: &'static [ErrorCode],
    },
    /// More than `more_than` calls to one API failed in a row (the latest ones).
    ConsecutiveFailures { more_than: u32 },
    /// Over `above_percent` of one API's calls in the window failed, counted only from
    /// `min_calls` calls on (one failed call of one is not a 100 % error rate).
    ErrorRate { above_percent: f64, min_calls: u64 },
}

/// When an open alert is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clears {
    /// As soon as an evaluation finds the condition gone.
    WhenConditionStops,
    /// Only when a call to the subject API succeeds after the alert was last seen; a refused key
    /// stays refused until proven otherwise, even when nothing calls the API for a while.
    WhenCallSucceeds,
}

#[derive(Debug)]
pub struct Rule {
    pub id: RuleId,
    pub priority: Priority,
    pub watch: Watch,
    /// How far back events count. `None` for rules that read a current state.
    pub window: Option<Duration>,
    pub clears: Clears,
    /// While one of these fires for the same subject, this rule does not: the narrower cause is
    /// the alert (an invalid key also makes every call fail in a row).
    pub suppressed_by: &'static [RuleId],
    /// The catalogued code an alert of this rule is about when no call names one.
    pub code: ErrorCode,
    /// One line for people: what firing means.
    pub summary: &'static str,
}

const DAY: Duration = Duration::from_secs(24 * 3600);
const HOUR: Duration = Duration::from_secs(3600);
const QUARTER_HOUR: Duration = Duration::from_secs(15 * 60);

/// Not `YOUTUBE_INVALID_TOKEN`: a refused access token is refreshed automatically (catalogue P2);
/// only a refused refresh (`YOUTUBE_REFRESH_FAILED`) needs a person.
pub const KEY_INVALID_CODES: &[ErrorCode] = &[
    ErrorCode::GEMINI_INVALID_API_KEY,
    ErrorCode::TTS_INVALID_API_KEY,
    ErrorCode::STABILITY_INVALID_API_KEY,
    ErrorCode::DID_INVALID_API_KEY,
];

pub const QUOTA_EXCEEDED_CODES: &[ErrorCode] = &[
    ErrorCode::GEMINI_QUOTA_EXCEEDED,
    ErrorCode::TTS_QUOTA_EXCEEDED,
    ErrorCode::STABILITY_QUOTA_EXCEEDED,
    ErrorCode::DID_QUOTA_EXCEEDED,
    ErrorCode::YOUTUBE_QUOTA_EXCEEDED,
];

pub const FFMPEG_CODES: &[ErrorCode] = &[
    ErrorCode::FFMPEG_NOT_FOUND,
    ErrorCode::FFMPEG_EXECUTION_FAILED,
];

/// Every rule, most urgent first (the order alerts are opened and listed in).
pub const RULES: &[Rule] = &[
    Rule {
        id: RuleId::ProviderKeyInvalid,
        priority: Priority::P0,
        watch: Watch::Codes(KEY_INVALID_CODES),
        window: Some(DAY),
        clears: Clears::WhenCallSucceeds,
        suppressed_by: &[],
        code: ErrorCode::STABILITY_INVALID_API_KEY,
        summary: "a provider refused its API key",
    },
    Rule {
        id: RuleId::YoutubeRefreshFailed,
        priority: Priority::P0,
        // A refused refresh, or a token refused again right after its refresh (access
        // revoked): either way a person must link the account again.
        watch: Watch::Codes(&[
            ErrorCode::YOUTUBE_REFRESH_FAILED,
            ErrorCode::YOUTUBE_AUTH_REVOKED,
        ]),
        window: Some(DAY),
        clears: Clears::WhenCallSucceeds,
        suppressed_by: &[],
        code: ErrorCode::YOUTUBE_REFRESH_FAILED,
        summary: "the YouTube account must be re-linked",
    },
    Rule {
        id: RuleId::DatabaseDown,
        priority: Priority::P0,
        watch: Watch::DatabasePing,
        window: None,
        clears: Clears::WhenConditionStops,
        suppressed_by: &[],
        code: ErrorCode::DATABASE_ERROR,
        summary: "the database does not answer",
    },
    Rule {
        id: RuleId::QueueDown,
        priority: Priority::P0,
        watch: Watch::QueueStats,
        window: None,
        clears: Clears::WhenConditionStops,
        suppressed_by: &[],
        code: ErrorCode::QUEUE_CONNECTION_FAILED,
        summary: "the job queue cannot be read",
    },
    Rule {
        id: RuleId::FfmpegFailing,
        priority: Priority::P0,
        watch: Watch::Ffmpeg(FFMPEG_CODES),
        window: Some(HOUR),
        clears: Clears::WhenConditionStops,
        suppressed_by: &[],
        code: ErrorCode::FFMPEG_EXECUTION_FAILED,
        summary: "FFmpeg is missing or failing",
    },
    Rule {
        id: RuleId::DiskCritical,
        priority: Priority::P0,
        watch: Watch::DiskFree {
            below_percent: 10.0,
            render_floor: true,
        },
        window: None,
        clears: Clears::WhenConditionStops,
        suppressed_by: &[],
        code: ErrorCode::DISK_SPACE_INSUFFICIENT,
        summary: "the data disk is (almost) full; renders are refused",
    },
    Rule {
        id: RuleId::QuotaLow,
        priority: Priority::P1,
        watch: Watch::Quota {
            below_percent: 10.0,
            exhausted: QUOTA_EXCEEDED_CODES,
        },
        window: Some(DAY),
        clears: Clears::WhenConditionStops,
        suppressed_by: &[],
        code: ErrorCode::YOUTUBE_QUOTA_EXCEEDED,
        summary: "a provider's quota is nearly or entirely used up",
    },
    Rule {
        id: RuleId::ProviderConsecutiveFailures,
        priority: Priority::P1,
        watch: Watch::ConsecutiveFailures { more_than: 5 },
        window: None,
        clears: Clears::WhenConditionStops,
        suppressed_by: &[RuleId::ProviderKeyInvalid, RuleId::YoutubeRefreshFailed],
        code: ErrorCode::STABILITY_SERVER_ERROR,
        summary: "a provider failed more than 5 calls in a row",
    },
    Rule {
        id: RuleId::ProviderErrorRate,
        priority: Priority::P1,
        watch: Watch::ErrorRate {
            above_percent: 10.0,
            min_calls: 10,
        },
        window: Some(QUARTER_HOUR),
        clears: Clears::WhenConditionStops,
        suppressed_by: &[
            RuleId::ProviderKeyInvalid,
            RuleId::YoutubeRefreshFailed,
            RuleId::ProviderConsecutiveFailures,
        ],
        code: ErrorCode::STABILITY_SERVER_ERROR,
        summary: "more than 10 % of a provider's calls failed in 15 minutes",
    },
    Rule {
        id: RuleId::DiskLow,
        priority: Priority::P1,
        watch: Watch::DiskFree {
            below_percent: 20.0,
            render_floor: false,
        },
        window: None,
        clears: Clears::WhenConditionStops,
        suppressed_by: &[RuleId::DiskCritical],
        code: ErrorCode::DISK_SPACE_INSUFFICIENT,
        summary: "the data disk is running low on space",
    },
];

/// The API a provider code belongs to (`ProviderKind::as_str()`), from the catalogue's category.
pub fn api_of(code: ErrorCode) -> Option<&'static str> {
    use ytmaker_core::error::Category;
    match code.spec().category {
        Category::Gemini => Some("gemini"),
        Category::Llm => Some("openai_compatible"),
        Category::Tts => Some("google_tts"),
        Category::Stability => Some("stability"),
        Category::Did => Some("did"),
        Category::Youtube => Some("youtube"),
        _ => None,
    }
}

pub fn priority_label(p: Priority) -> &'static str {
    match p {
        Priority::P0 => "P0",
        Priority::P1 => "P1",
        Priority::P2 => "P2",
        Priority::None => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_rule_is_listed_once_and_parses_back() {
        let ids: HashSet<_> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), RULES.len());
        for (index, rule) in RULES.iter().enumerate() {
            assert_eq!(rule.id as usize, index, "{:?}", rule.id);
        }
        for rule in RULES {
            assert_eq!(RuleId::parse(rule.id.as_str()), Some(rule.id));
            assert_eq!(rule.id.rule().id, rule.id);
        }
        assert_eq!(RULES.len(), 10);
    }

    #[test]
    fn code_rules_agree_with_the_catalogue_on_priority_and_api() {
        // A rule about codes must not re-decide how urgent those codes are.
        for rule in RULES {
            let codes = match rule.watch {
                Watch::Codes(c) | Watch::Ffmpeg(c) => c,
                Watch::Quota { exhausted, .. } => exhausted,
                _ => continue,
            };
            for code in codes {
                assert_eq!(
                    code.spec().priority,
                    rule.priority,
                    "{code} in {:?}",
                    rule.id
                );
            }
        }
        assert_eq!(
            ErrorCode::DISK_SPACE_INSUFFICIENT.spec().priority,
            RuleId::DiskCritical.rule().priority
        );
        assert_eq!(
            ErrorCode::QUEUE_CONNECTION_FAILED.spec().priority,
            RuleId::QueueDown.rule().priority
        );
        for code in KEY_INVALID_CODES.iter().chain(QUOTA_EXCEEDED_CODES) {
            assert!(api_of(*code).is_some(), "{code}");
        }
        assert_eq!(api_of(ErrorCode::TTS_INVALID_API_KEY), Some("google_tts"));
        assert_eq!(api_of(ErrorCode::FFMPEG_EXECUTION_FAILED), None);
    }

    #[test]
    fn suppression_only_names_rules_that_can_share_a_subject() {
        for rule in RULES {
            for other in rule.suppressed_by {
                assert_ne!(*other, rule.id);
            }
        }
    }
}
