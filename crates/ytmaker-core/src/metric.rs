//! Every Prometheus metric the product records, defined once: its name, kind, unit, labels and
//! help text. Call sites name a metric by its constant here (`metrics::counter!(metric::JOBS_TOTAL,
//! …)`), never by a string literal; the server describes every entry of [`ALL`] to the recorder
//! once, when it installs it, so each family on `/metrics` carries `# HELP` and `# TYPE`.
//!
//! This module is data only (the `metrics` facade is called by the crates that record), like the
//! error catalogue. Names follow the Prometheus conventions `promtool check metrics` enforces:
//! `snake_case`, base units as a suffix (`_seconds`, `_bytes`), `_total` on counters and only on
//! counters.

/// The Prometheus type of a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricKind {
    Counter,
    Gauge,
    Histogram,
}

/// The unit a metric's values are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetricUnit {
    /// A number of things (requests, jobs, retries, projects…).
    Count,
    Seconds,
    Bytes,
}

/// One metric: what it is called, what it measures and the labels it is recorded with.
#[derive(Clone, Copy, Debug)]
pub struct MetricSpec {
    pub name: &'static str,
    pub kind: MetricKind,
    pub unit: MetricUnit,
    pub labels: &'static [&'static str],
    /// The `# HELP` text.
    pub help: &'static str,
}

macro_rules! metrics_catalogue {
    ($(
        $(#[$doc:meta])*
        $konst:ident = $name:literal, $kind:ident, $unit:ident, [$($label:literal),* $(,)?], $help:literal;
    )+) => {
        $(
            $(#[$doc])*
            pub const $konst: &str = $name;
        )+

        /// Every metric, in the order they are described.
        pub const ALL: &[MetricSpec] = &[$(
            MetricSpec {
                name: $konst,
                kind: MetricKind::$kind,
                unit: MetricUnit::$unit,
                labels: &[$($label),*],
                help: $help,
            }
        ),+];
    };
}

metrics_catalogue! {
    // ---- HTTP (ytmaker-server, `middleware::observe`) ----
    HTTP_REQUESTS_TOTAL = "ytmaker_http_requests_total", Counter, Count, ["method", "route", "status"],
        "HTTP requests answered, by method, matched route template (\"unmatched\" for unknown paths) and status code.";
    HTTP_REQUEST_DURATION_SECONDS = "ytmaker_http_request_duration_seconds", Histogram, Seconds, ["method", "route"],
        "Time from receiving an HTTP request to its response headers, by method and matched route template.";
    HEALTH_UNHEALTHY = "ytmaker_health_unhealthy", Gauge, Count, [],
        "1 when the last health check (GET /api/v1/system/health) answered unhealthy, else 0.";

    // ---- State read at each scrape (ytmaker-server, `metrics_endpoint`) ----
    QUEUE_JOBS = "ytmaker_queue_jobs", Gauge, Count, ["state"],
        "Jobs in the queue, by state (queued, running).";
    QUEUE_OLDEST_JOB_AGE_SECONDS = "ytmaker_queue_oldest_job_age_seconds", Gauge, Seconds, [],
        "Age of the oldest queued job (0 when none is waiting).";
    DISK_FREE_BYTES = "ytmaker_disk_free_bytes", Gauge, Bytes, [],
        "Free space on the file system that holds the data directory.";
    PROJECTS = "ytmaker_projects", Gauge, Count, ["status"],
        "Projects, by status.";
    QUOTA_USED = "ytmaker_quota_used", Gauge, Count, ["provider", "unit"],
        "Provider quota used today (UTC day, or the provider's own day), in the quota's unit.";
    QUOTA_LIMIT = "ytmaker_quota_limit", Gauge, Count, ["provider", "unit"],
        "Configured daily quota limit of a provider, in the quota's unit (absent when unlimited).";

    // ---- Workers and stages (ytmaker-pipeline) ----
    WORKERS = "ytmaker_workers", Gauge, Count, [],
        "Workers this process runs (projects run at once).";
    WORKERS_BUSY = "ytmaker_workers_busy", Gauge, Count, [],
        "Workers running a job now.";
    JOBS_TOTAL = "ytmaker_jobs_total", Counter, Count, ["outcome"],
        "Jobs a worker finished holding, by the queue state they were left in (done, failed, queued, …).";
    QUEUE_ERRORS_TOTAL = "ytmaker_queue_errors_total", Counter, Count, [],
        "Failures to claim a job from the queue (the database could not be read or written).";
    STAGE_DURATION_SECONDS = "ytmaker_stage_duration_seconds", Histogram, Seconds, ["stage", "outcome"],
        "Time a pipeline stage ran, by stage and outcome (completed, failed).";
    RETENTION_FAILURES_TOTAL = "ytmaker_retention_failures_total", Counter, Count, [],
        "Retention sweeps, or a project's clean-up within one, that failed.";
    RETENTION_BYTES_FREED_TOTAL = "ytmaker_retention_bytes_freed_total", Counter, Bytes, [],
        "Bytes of intermediate files removed by the retention sweep.";
    PROVIDER_CALL_RECORDS_FAILED_TOTAL = "ytmaker_provider_call_records_failed_total", Counter, Count, ["api"],
        "Provider calls that could not be written to the call records (logged instead), by API.";

    // ---- Cloud providers (ytmaker-providers) ----
    PROVIDER_CALLS_TOTAL = "ytmaker_provider_calls_total", Counter, Count, ["api", "endpoint", "outcome", "code"],
        "Calls made to a cloud provider, by API, endpoint, outcome (success, error) and the error code given (\"none\" on success).";
    PROVIDER_CALL_DURATION_SECONDS = "ytmaker_provider_call_duration_seconds", Histogram, Seconds, ["api", "endpoint"],
        "Time a cloud provider call took, until its whole answer was read, by API and endpoint.";
    PROVIDER_ERRORS_TOTAL = "ytmaker_provider_errors_total", Counter, Count, ["api", "code"],
        "Provider answers mapped to an error, by API and error code.";
    RETRIES_TOTAL = "ytmaker_retries_total", Counter, Count, ["code"],
        "Retries made by the retry loop, by the error code that caused them.";
    QUOTA_UNITS_TOTAL = "ytmaker_quota_units_total", Counter, Count, ["service", "method"],
        "Quota units charged by a provider's calls (YouTube Data API units), by service and method.";

    // ---- Monitoring (ytmaker-monitor) ----
    ALERTS_RAISED_TOTAL = "ytmaker_alerts_raised_total", Counter, Count, ["rule"],
        "Alerts opened, by rule id.";
    ALERTS_OPEN = "ytmaker_alerts_open", Gauge, Count, ["priority"],
        "Alerts open at the last evaluation, by priority (P0, P1).";
    MONITOR_UNREADABLE_EVENTS_TOTAL = "ytmaker_monitor_unreadable_events_total", Counter, Count, [],
        "Stored error events the alert rules could not read (damaged rows), each also logged.";
}

/// The entry for `name`, if it is one of ours.
pub fn spec(name: &str) -> Option<&'static MetricSpec> {
    ALL.iter().find(|m| m.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_follow_the_prometheus_conventions() {
        let mut seen = HashSet::new();
        for m in ALL {
            assert!(seen.insert(m.name), "{} is defined twice", m.name);
            assert!(m.name.starts_with("ytmaker_"), "{}", m.name);
            assert!(
                m.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{} is not snake_case",
                m.name
            );
            assert_eq!(
                m.name.ends_with("_total"),
                m.kind == MetricKind::Counter,
                "{}: `_total` is for counters, and every counter has it",
                m.name
            );
            // The unit is in the name (`…_seconds`, `…_bytes_freed_total`), and no other unit is.
            let (seconds, bytes) = (m.name.contains("_seconds"), m.name.contains("_bytes"));
            match m.unit {
                MetricUnit::Seconds => assert!(seconds && !bytes, "{}", m.name),
                MetricUnit::Bytes => assert!(bytes && !seconds, "{}", m.name),
                MetricUnit::Count => assert!(!seconds && !bytes, "{}", m.name),
            }
            assert!(!m.help.is_empty() && m.help.ends_with('.'), "{}", m.name);
            for label in m.labels {
                assert!(
                    label.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{}: label {label}",
                    m.name
                );
            }
        }
    }

    #[test]
    fn spec_finds_an_entry_by_name() {
        assert_eq!(spec(JOBS_TOTAL).map(|m| m.kind), Some(MetricKind::Counter));
        assert!(spec("ytmaker_no_such_metric").is_none());
    }
}
