//! The JSON the API, the CLI and the web UI share (the monitoring contract): alerts, per-API
//! success rates and latency percentiles, the queue and the disk.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use ytmaker_store::{Alert, ProviderCall, QueueStats};

/// The cloud APIs, as `provider_calls.api` names them; every one is listed even without calls.
pub const APIS: [&str; 6] = [
    "gemini",
    "openai_compatible",
    "google_tts",
    "stability",
    "did",
    "youtube",
];

pub fn rfc3339_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AlertView {
    pub id: String,
    pub rule: String,
    /// `P0`, `P1` or `P2`.
    pub priority: String,
    /// What the alert is about: an API (`stability`), `disk`, `database`, `queue`, `ffmpeg`.
    pub subject: String,
    /// `open` or `resolved`.
    pub state: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
    pub first_seen: String,
    pub last_seen: String,
    pub resolved_at: Option<String>,
    pub occurrences: u64,
}

impl From<&Alert> for AlertView {
    fn from(a: &Alert) -> Self {
        AlertView {
            id: a.id.to_string(),
            rule: a.rule.clone(),
            priority: a.priority.clone(),
            subject: a.subject.clone(),
            state: a.state.as_str().into(),
            message: a.message.clone(),
            details: a.details.clone(),
            first_seen: rfc3339_ms(a.first_seen_ms),
            last_seen: rfc3339_ms(a.last_seen_ms),
            resolved_at: a.resolved_ms.map(rfc3339_ms),
            occurrences: a.occurrences,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct ApiStats {
    pub api: String,
    pub calls: u64,
    pub errors: u64,
    /// Successful calls / calls; null without calls.
    pub success_rate: Option<f64>,
    pub p50_ms: Option<u64>,
    pub p90_ms: Option<u64>,
    pub p99_ms: Option<u64>,
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

/// Statistics of `calls` per API, for every API in [`APIS`].
pub fn api_stats(calls: &[ProviderCall]) -> Vec<ApiStats> {
    APIS.iter()
        .map(|api| {
            let mine: Vec<&ProviderCall> = calls.iter().filter(|c| c.api == *api).collect();
            let mut durations: Vec<u64> = mine.iter().map(|c| c.duration_ms).collect();
            durations.sort_unstable();
            let errors = mine.iter().filter(|c| c.error_code.is_some()).count() as u64;
            let total = mine.len() as u64;
            ApiStats {
                api: (*api).into(),
                calls: total,
                errors,
                success_rate: (total > 0).then(|| {
                    let rate = (total - errors) as f64 / total as f64;
                    (rate * 1000.0).round() / 1000.0
                }),
                p50_ms: percentile(&durations, 50.0),
                p90_ms: percentile(&durations, 90.0),
                p99_ms: percentile(&durations, 99.0),
            }
        })
        .collect()
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct QueueView {
    pub queued: i64,
    pub running: i64,
    /// Age of the oldest waiting job; null when none waits.
    pub oldest_queued_ms: Option<i64>,
}

impl From<&QueueStats> for QueueView {
    fn from(q: &QueueStats) -> Self {
        QueueView {
            queued: q.queued,
            running: q.running,
            oldest_queued_ms: (q.queued > 0).then_some(q.oldest_queued_ms),
        }
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DiskView {
    pub free_bytes: u64,
    pub total_bytes: u64,
    pub free_percent: f64,
}

impl From<&ytmaker_pipeline::DiskSpace> for DiskView {
    fn from(d: &ytmaker_pipeline::DiskSpace) -> Self {
        DiskView {
            free_bytes: d.free_bytes,
            total_bytes: d.total_bytes,
            free_percent: (d.free_percent() * 10.0).round() / 10.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(api: &str, ms: u64, failed: bool) -> ProviderCall {
        ProviderCall {
            at_ms: 0,
            api: api.into(),
            endpoint: "x".into(),
            status: Some(if failed { 500 } else { 200 }),
            error_code: failed.then(|| "STABILITY_SERVER_ERROR".into()),
            duration_ms: ms,
            quota_units: 0,
            project_id: None,
            trace_id: None,
        }
    }

    #[test]
    fn stats_use_nearest_rank_percentiles_and_null_rates_without_calls() {
        let mut calls: Vec<ProviderCall> = (1..=100)
            .map(|ms| call("stability", ms * 10, ms % 10 == 0))
            .collect();
        calls.push(call("gemini", 700, false));
        let stats = api_stats(&calls);
        assert_eq!(stats.len(), APIS.len());
        let stability = stats.iter().find(|s| s.api == "stability").unwrap();
        assert_eq!((stability.calls, stability.errors), (100, 10));
        assert_eq!(stability.success_rate, Some(0.9));
        assert_eq!(
            (stability.p50_ms, stability.p90_ms, stability.p99_ms),
            (Some(500), Some(900), Some(990))
        );
        let gemini = stats.iter().find(|s| s.api == "gemini").unwrap();
        assert_eq!((gemini.p50_ms, gemini.p99_ms), (Some(700), Some(700)));
        let did = stats.iter().find(|s| s.api == "did").unwrap();
        assert_eq!(did.calls, 0);
        assert_eq!((did.success_rate, did.p50_ms), (None, None));
    }
}
