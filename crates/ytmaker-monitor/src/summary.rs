//! The daily summary of one UTC day: quotas, calls per API with success rate and latency
//! percentiles, projects by final status, the most common error codes. Provider codes are counted
//! per failed call; other codes (FFmpeg, disk, keys missing, …) per project failure, so a failure
//! that ended a project is not counted twice. Quotas are as they stand when the summary is made.

use chrono::{Days, NaiveDate, NaiveTime, Utc};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use ytmaker_core::event::{EventKind, ProjectEvent};
use ytmaker_core::{ErrorCode, ProjectStatus, YtError, YtResult};

use crate::MonitorContext;
use crate::rules::api_of;
use crate::view::{ApiStats, api_stats, rfc3339_ms};
use crate::webhook::Webhook;

#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct ProjectOutcomes {
    pub completed: u64,
    pub failed: u64,
    pub cancelled: u64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CodeCount {
    pub code: String,
    pub count: u64,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DailySummary {
    /// The UTC day, YYYY-MM-DD.
    pub date: String,
    #[schema(value_type = Vec<Object>)]
    pub quotas: Vec<Value>,
    pub apis: Vec<ApiStats>,
    pub projects: ProjectOutcomes,
    pub top_codes: Vec<CodeCount>,
    /// The same text the webhook and the CLI print.
    pub text: String,
}

/// The UTC day before the one `now_ms` falls in.
pub fn yesterday(now_ms: i64) -> NaiveDate {
    let today = chrono::DateTime::<Utc>::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .date_naive();
    today.checked_sub_days(Days::new(1)).unwrap_or(today)
}

pub fn today(now_ms: i64) -> NaiveDate {
    chrono::DateTime::<Utc>::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .date_naive()
}

pub fn parse_date(raw: &str) -> YtResult<NaiveDate> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| YtError::invalid_field(ErrorCode::VALIDATION_ERROR, "date", "YYYY-MM-DD", raw))
}

fn day_bounds_ms(date: NaiveDate) -> (i64, i64) {
    let start = date.and_time(NaiveTime::MIN).and_utc().timestamp_millis();
    (start, start + 24 * 3600 * 1000)
}

const TOP_CODES: usize = 5;

pub async fn build(ctx: &MonitorContext, date: NaiveDate) -> YtResult<DailySummary> {
    let (start, end) = day_bounds_ms(date);
    let calls: Vec<_> = ctx
        .store
        .provider_calls_since(start)
        .await?
        .into_iter()
        .filter(|c| c.at_ms < end)
        .collect();
    let apis = api_stats(&calls);
    let mut codes: BTreeMap<String, u64> = BTreeMap::new();
    for code in calls.iter().filter_map(|c| c.error_code.as_ref()) {
        *codes.entry(code.clone()).or_default() += 1;
    }
    let (from, to) = (rfc3339_ms(start), rfc3339_ms(end));
    for error in crate::evaluate::project_errors(&ctx.store, &from, &to).await? {
        if api_of(error.code).is_none() {
            *codes.entry(error.code.as_str().to_owned()).or_default() += 1;
        }
    }
    let mut top_codes: Vec<CodeCount> = codes
        .into_iter()
        .map(|(code, count)| CodeCount { code, count })
        .collect();
    top_codes.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    top_codes.truncate(TOP_CODES);
    let mut projects = ProjectOutcomes::default();
    for event in ctx
        .store
        .events_of_kind_between(EventKind::Status, &from, &to)
        .await?
    {
        let event = event?;
        if let ProjectEvent::Status { to, .. } = event.event {
            match to {
                ProjectStatus::Completed => projects.completed += 1,
                ProjectStatus::Failed => projects.failed += 1,
                ProjectStatus::Cancelled => projects.cancelled += 1,
                _ => {}
            }
        }
    }
    let quotas = ctx.current_quotas().await?;
    let date = date.format("%Y-%m-%d").to_string();
    let text = render_text(&date, &quotas, &apis, &projects, &top_codes);
    Ok(DailySummary {
        date,
        quotas,
        apis,
        projects,
        top_codes,
        text,
    })
}

fn render_text(
    date: &str,
    quotas: &[Value],
    apis: &[ApiStats],
    projects: &ProjectOutcomes,
    top: &[CodeCount],
) -> String {
    let mut out = format!("ytmaker daily summary for {date} (UTC)\n");
    out.push_str(&format!(
        "projects: {} completed, {} failed, {} cancelled\n",
        projects.completed, projects.failed, projects.cancelled
    ));
    out.push_str("calls (success rate, p50/p90/p99 ms):\n");
    for a in apis {
        match a.success_rate {
            Some(rate) => out.push_str(&format!(
                "  {:<15} {:>5} calls, {:>5.1} % ok, {}/{}/{} ms\n",
                a.api,
                a.calls,
                rate * 100.0,
                a.p50_ms.unwrap_or_default(),
                a.p90_ms.unwrap_or_default(),
                a.p99_ms.unwrap_or_default()
            )),
            None => out.push_str(&format!("  {:<15}     0 calls\n", a.api)),
        }
    }
    out.push_str("quotas (now):\n");
    if quotas.is_empty() {
        out.push_str("  none reported\n");
    }
    for q in quotas {
        let provider = q["provider"].as_str().unwrap_or("?");
        let unit = q["unit"].as_str().unwrap_or("units");
        let line = if !q["error"].is_null() {
            let code = q["error"]["code"].as_str().unwrap_or("error");
            format!("  {provider:<15} unreadable ({code})\n")
        } else {
            match q["limit"].as_u64() {
                Some(limit) => format!(
                    "  {provider:<15} {} of {limit} {unit} used\n",
                    q["used"].as_u64().unwrap_or_default()
                ),
                None => format!(
                    "  {provider:<15} {} {unit} used (no limit known)\n",
                    q["used"].as_u64().unwrap_or_default()
                ),
            }
        };
        out.push_str(&line);
    }
    out.push_str("top error codes:\n");
    if top.is_empty() {
        out.push_str("  none\n");
    }
    for c in top {
        out.push_str(&format!("  {:<28} {}\n", c.code, c.count));
    }
    out
}

impl DailySummary {
    /// True when nothing was called, finished or failed that day.
    pub fn is_quiet(&self) -> bool {
        self.apis.iter().all(|a| a.calls == 0)
            && self.top_codes.is_empty()
            && self.projects.completed + self.projects.failed + self.projects.cancelled == 0
    }
}

/// Posts yesterday's summary once (claimed in the database, so never twice, even across
/// processes or restarts); a day without any activity is not posted. A failed post is logged
/// with `ALERT_WEBHOOK_FAILED` and recorded. Returns the day that was looked at.
pub(crate) async fn post_daily(
    ctx: &MonitorContext,
    webhook: &Webhook,
    now_ms: i64,
) -> YtResult<NaiveDate> {
    let date = yesterday(now_ms);
    let label = date.format("%Y-%m-%d").to_string();
    let summary = build(ctx, date).await?;
    if summary.is_quiet() || !ctx.store.claim_daily_summary(&label, now_ms).await? {
        return Ok(date);
    }
    let body = serde_json::json!({ "text": format!("[P2] {}", summary.text) });
    let outcome = webhook
        .post(&body, &format!("the daily summary of {label}"))
        .await;
    let error = outcome.result.as_ref().err().map(|e| e.message.clone());
    ctx.store
        .record_daily_summary(
            &label,
            match &error {
                None => Ok(()),
                Some(m) => Err(m.as_str()),
            },
            outcome.attempts,
            now_ms,
        )
        .await?;
    if error.is_none() {
        tracing::info!(
            date = label.as_str(),
            host = webhook.host(),
            "daily summary posted"
        );
    }
    Ok(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_and_dates_are_checked() {
        // 2026-11-29T00:30:00Z
        let now = 1_795_912_200_000;
        assert_eq!(today(now).to_string(), "2026-11-29");
        assert_eq!(yesterday(now).to_string(), "2026-11-28");
        let (start, end) = day_bounds_ms(parse_date("2026-11-28").unwrap());
        assert_eq!(rfc3339_ms(start), "2026-11-28T00:00:00.000Z");
        assert_eq!(end - start, 86_400_000);
        assert_eq!(
            parse_date("28/11/2026").unwrap_err().code,
            ErrorCode::VALIDATION_ERROR
        );
    }
}
