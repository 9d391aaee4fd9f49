//! Prometheus text at `/metrics`. The recorder is process-wide (the `metrics` facade has one
//! global recorder), installed on first use, when every metric of `ytmaker_core::metric` is
//! described to it (help text and unit); gauges that describe the world rather than events
//! (queue depth, disk free, projects by status, quota used and limit) are refreshed at each
//! scrape.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use ytmaker_core::{ErrorCode, YtError};
use ytmaker_store::JobQueue;

use crate::AppState;
use crate::error::{ApiError, ApiResult};

static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

const SECONDS_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// Installs the recorder once per process. Called when a server starts, so metrics recorded by
/// the workers before the first scrape are not lost.
pub(crate) fn install() -> Result<&'static PrometheusHandle, YtError> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), SECONDS_BUCKETS)
                .map_err(|e| e.to_string())?
                .install_recorder()
                .map_err(|e| e.to_string())
                .inspect(|_| describe_all())
        })
        .as_ref()
        .map_err(|e| {
            YtError::new(
                ErrorCode::SERVER_PANICKED,
                format!("the metrics recorder could not be installed: {e}"),
            )
        })
}

/// Gives the recorder every metric's help text and unit (`ytmaker_core::metric::ALL`, the one
/// definition of the names the call sites use), so each family carries `# HELP`.
fn describe_all() {
    use ytmaker_core::metric::{ALL, MetricKind, MetricUnit};
    for m in ALL {
        let unit = match m.unit {
            MetricUnit::Count => metrics::Unit::Count,
            MetricUnit::Seconds => metrics::Unit::Seconds,
            MetricUnit::Bytes => metrics::Unit::Bytes,
        };
        match m.kind {
            MetricKind::Counter => metrics::describe_counter!(m.name, unit, m.help),
            MetricKind::Gauge => metrics::describe_gauge!(m.name, unit, m.help),
            MetricKind::Histogram => metrics::describe_histogram!(m.name, unit, m.help),
        }
    }
}

pub(crate) async fn render(State(state): State<AppState>) -> ApiResult<Response> {
    let handle = install().map_err(ApiError)?;
    let queue = state.store.stats().await?;
    metrics::gauge!(ytmaker_core::metric::QUEUE_JOBS, "state" => "queued").set(queue.queued as f64);
    metrics::gauge!(ytmaker_core::metric::QUEUE_JOBS, "state" => "running")
        .set(queue.running as f64);
    metrics::gauge!(ytmaker_core::metric::QUEUE_OLDEST_JOB_AGE_SECONDS)
        .set(queue.oldest_queued_ms as f64 / 1000.0);
    match crate::system::free_bytes(state.data.root()) {
        Ok(free) => metrics::gauge!(ytmaker_core::metric::DISK_FREE_BYTES).set(free as f64),
        // The scrape still serves every other metric; the gap is logged with its code.
        Err(err) => {
            tracing::error!(error_code = %err.code, "cannot measure free disk space: {}", err.message)
        }
    }
    let by_status = state.store.count_by_status().await?;
    for status in ytmaker_core::ProjectStatus::ALL {
        let n = by_status
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n);
        metrics::gauge!(ytmaker_core::metric::PROJECTS, "status" => status.as_str()).set(n as f64);
    }
    match ytmaker_pipeline::quota::current(&state.store, &state.quotas.cloud, &state.quotas.limits)
        .await
    {
        Ok(quotas) => {
            for q in quotas {
                let labels = [("provider", q.provider.as_str()), ("unit", q.unit.as_str())];
                if let Some(error) = &q.error {
                    // A quota that could not be read is left out rather than shown as zero.
                    tracing::error!(
                        provider = q.provider.as_str(),
                        error_code = error.code.as_str(),
                        "quota could not be read for /metrics"
                    );
                    continue;
                }
                metrics::gauge!(ytmaker_core::metric::QUOTA_USED, &labels).set(q.used as f64);
                if let Some(limit) = q.limit {
                    metrics::gauge!(ytmaker_core::metric::QUOTA_LIMIT, &labels).set(limit as f64);
                }
            }
        }
        Err(err) => {
            tracing::error!(error_code = %err.code, "cannot read quotas for /metrics: {}", err.message)
        }
    }
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}
