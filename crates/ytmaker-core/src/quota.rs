//! Provider quotas: the limits the user configured (`[quotas]` in the settings file) and the
//! day they are counted in.
//!
//! YouTube counts its daily quota from midnight Pacific time (America/Los_Angeles), and Gemini's
//! daily limits reset at the same moment, so every locally counted quota uses that day. The US
//! daylight-saving rule (since 2007: from the second Sunday of March, 02:00 PST, to the first
//! Sunday of November, 02:00 PDT) is written out here rather than pulling in a time-zone
//! database for one zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, YtError, YtResult};

/// The daily limits quotas are checked against. Providers that report their own balance (D-ID)
/// are not configured here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaLimits {
    /// YouTube Data API units a day, shared by every method except `videos.insert`.
    pub youtube_units_per_day: u64,
    /// `videos.insert` calls a day (YouTube gives this method its own bucket).
    pub youtube_uploads_per_day: u64,
    /// Gemini `generateContent` requests a day; `None` when the plan's limit is not known.
    pub gemini_requests_per_day: Option<u64>,
    /// Stability AI images a day; `None` when no limit is set.
    pub stability_images_per_day: Option<u64>,
}

/// YouTube's default allocation.
pub const YOUTUBE_DEFAULT_UNITS_PER_DAY: u64 = 10_000;
pub const YOUTUBE_DEFAULT_UPLOADS_PER_DAY: u64 = 100;

impl Default for QuotaLimits {
    fn default() -> Self {
        QuotaLimits {
            youtube_units_per_day: YOUTUBE_DEFAULT_UNITS_PER_DAY,
            youtube_uploads_per_day: YOUTUBE_DEFAULT_UPLOADS_PER_DAY,
            gemini_requests_per_day: None,
            stability_images_per_day: None,
        }
    }
}

/// Unix milliseconds to a UTC time; a time outside chrono's range is refused.
fn utc(ms: i64) -> YtResult<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single().ok_or_else(|| {
        YtError::new(
            ErrorCode::VALIDATION_ERROR,
            format!("{ms} ms is not a representable time"),
        )
        .detail("field", "time_ms")
    })
}

/// Whether US Pacific time is on daylight time (UTC−7) at `at`.
fn pacific_daylight(at: DateTime<Utc>) -> bool {
    let year = at.year();
    let (Some(start), Some(end)) = (
        NaiveDate::from_weekday_of_month_opt(year, 3, Weekday::Sun, 2),
        NaiveDate::from_weekday_of_month_opt(year, 11, Weekday::Sun, 1),
    ) else {
        return false;
    };
    // 02:00 PST is 10:00 UTC; 02:00 PDT is 09:00 UTC.
    let starts = start.and_hms_opt(10, 0, 0).map(|t| t.and_utc());
    let ends = end.and_hms_opt(9, 0, 0).map(|t| t.and_utc());
    matches!((starts, ends), (Some(s), Some(e)) if at >= s && at < e)
}

fn pacific_offset(at: DateTime<Utc>) -> Duration {
    Duration::hours(if pacific_daylight(at) { -7 } else { -8 })
}

/// The UTC instant of 00:00 Pacific on `date`. Midnight is never skipped or repeated (the
/// changes happen at 02:00), so exactly one of the two offsets is consistent.
fn pacific_midnight(date: NaiveDate) -> YtResult<DateTime<Utc>> {
    let local = date
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            YtError::new(ErrorCode::VALIDATION_ERROR, "midnight is not representable")
        })?;
    for hours in [-8, -7] {
        let offset = Duration::hours(hours);
        let candidate = local - offset;
        if pacific_offset(candidate) == offset {
            return Ok(candidate);
        }
    }
    Err(YtError::new(
        ErrorCode::VALIDATION_ERROR,
        format!("no Pacific midnight on {date}"),
    ))
}

/// The quota day containing `now_ms`: (start, next reset), both in Unix milliseconds.
pub fn pacific_day(now_ms: i64) -> YtResult<(i64, i64)> {
    let now = utc(now_ms)?;
    let local_date = (now + pacific_offset(now)).date_naive();
    let start = pacific_midnight(local_date)?;
    let next_date = local_date.succ_opt().ok_or_else(|| {
        YtError::new(
            ErrorCode::VALIDATION_ERROR,
            "the day after is not representable",
        )
    })?;
    let next = pacific_midnight(next_date)?;
    Ok((start.timestamp_millis(), next.timestamp_millis()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    fn day(at: &str) -> (i64, i64) {
        pacific_day(ms(at)).unwrap()
    }

    #[test]
    fn winter_days_start_at_08_00_utc() {
        assert_eq!(
            day("2026-01-15T12:00:00Z"),
            (ms("2026-01-15T08:00:00Z"), ms("2026-01-16T08:00:00Z"))
        );
        // 23:59 PST on the 28th is still the 28th in Pacific time.
        assert_eq!(
            day("2026-11-29T07:59:59Z"),
            (ms("2026-11-28T08:00:00Z"), ms("2026-11-29T08:00:00Z"))
        );
        assert_eq!(day("2026-11-29T08:00:00Z").0, ms("2026-11-29T08:00:00Z"));
    }

    #[test]
    fn summer_days_start_at_07_00_utc() {
        assert_eq!(
            day("2026-07-04T06:59:59Z"),
            (ms("2026-07-03T07:00:00Z"), ms("2026-07-04T07:00:00Z"))
        );
        assert_eq!(day("2026-07-04T07:00:00Z").0, ms("2026-07-04T07:00:00Z"));
    }

    #[test]
    fn the_spring_forward_day_is_23_hours() {
        // 2026-03-08: 01:59 PST (09:59 UTC), then 03:00 PDT (10:00 UTC).
        for at in ["2026-03-08T09:59:00Z", "2026-03-08T10:30:00Z"] {
            assert_eq!(
                day(at),
                (ms("2026-03-08T08:00:00Z"), ms("2026-03-09T07:00:00Z")),
                "{at}"
            );
        }
    }

    #[test]
    fn the_fall_back_day_is_25_hours() {
        // 2026-11-01: 01:30 PDT (08:30 UTC) and, an hour later, 01:30 PST (09:30 UTC).
        for at in ["2026-11-01T08:30:00Z", "2026-11-01T09:30:00Z"] {
            assert_eq!(
                day(at),
                (ms("2026-11-01T07:00:00Z"), ms("2026-11-02T08:00:00Z")),
                "{at}"
            );
        }
        // 23:30 PDT on 31 October belongs to that day.
        assert_eq!(day("2026-11-01T06:30:00Z").0, ms("2026-10-31T07:00:00Z"));
    }

    #[test]
    fn limits_default_to_youtubes_allocation_and_read_from_toml_style_json() {
        let limits = QuotaLimits::default();
        assert_eq!(limits.youtube_units_per_day, 10_000);
        assert_eq!(limits.gemini_requests_per_day, None);
        let parsed: QuotaLimits = serde_json::from_str(
            r#"{"youtube_units_per_day": 1000, "stability_images_per_day": 5}"#,
        )
        .unwrap();
        assert_eq!(parsed.youtube_units_per_day, 1000);
        assert_eq!(parsed.youtube_uploads_per_day, 100);
        assert_eq!(parsed.stability_images_per_day, Some(5));
        assert!(serde_json::from_str::<QuotaLimits>(r#"{"youtube": 1}"#).is_err());
    }
}
