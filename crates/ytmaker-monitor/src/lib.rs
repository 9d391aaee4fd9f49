//! Monitoring (SPEC §7, the design review's change 6): alert rules as data ([`rules`]), their
//! evaluation against what really happened — provider calls, project failures, the database, the
//! queue, FFmpeg, the disk, quotas — with one open alert per rule and subject ([`evaluate`]),
//! delivery of new and resolved alerts to an optional Slack-compatible webhook ([`webhook`]), the
//! daily summary ([`summary`]), and the health checks the server and the monitor share
//! ([`health`]).
//!
//! No loop: a webhook that fails is logged with `ALERT_WEBHOOK_FAILED` and recorded on the alert;
//! no rule watches that code, so a failing webhook never raises an alert that would be posted.

pub mod evaluate;
pub mod health;
pub mod rules;
pub mod summary;
pub mod view;
pub mod webhook;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_providers::retry::DelayScale;
use ytmaker_render::Toolchain;
use ytmaker_store::{DataDir, Store};

pub use evaluate::{Evaluation, Monitor};
pub use rules::{RULES, Rule, RuleId};

/// The `[monitoring]` section of the settings file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MonitorConfig {
    /// Seconds between evaluations in `ytmaker serve`; 0 turns the background loop off
    /// (`ytmaker alerts` still evaluates when it runs).
    pub interval_seconds: u64,
    /// Slack-compatible incoming webhook (http or https). It may carry a secret in its path, so
    /// only its host is ever logged.
    pub webhook_url: Option<String>,
    /// `disk_critical` (P0) below this share of the disk free.
    pub disk_critical_percent: f64,
    /// `disk_low` (P1) below this share of the disk free.
    pub disk_low_percent: f64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            interval_seconds: 30,
            webhook_url: None,
            disk_critical_percent: disk_percent(RuleId::DiskCritical),
            disk_low_percent: disk_percent(RuleId::DiskLow),
        }
    }
}

fn disk_percent(rule: RuleId) -> f64 {
    match rule.rule().watch {
        rules::Watch::DiskFree { below_percent, .. } => below_percent,
        _ => 0.0,
    }
}

impl MonitorConfig {
    /// Every broken field at once, as `CONFIG_INVALID`.
    pub fn validate(&self) -> YtResult<()> {
        let mut broken = Vec::new();
        if self.interval_seconds > 86_400 {
            broken.push(serde_json::json!({ "field": "monitoring.interval_seconds", "rule": "0 to 86400", "value": self.interval_seconds }));
        }
        for (field, value) in [
            (
                "monitoring.disk_critical_percent",
                self.disk_critical_percent,
            ),
            ("monitoring.disk_low_percent", self.disk_low_percent),
        ] {
            if !(0.0..=100.0).contains(&value) {
                broken.push(
                    serde_json::json!({ "field": field, "rule": "0 to 100", "value": value }),
                );
            }
        }
        if self.disk_critical_percent > self.disk_low_percent {
            broken.push(serde_json::json!({ "field": "monitoring.disk_critical_percent", "rule": "not above disk_low_percent", "value": self.disk_critical_percent }));
        }
        if let Some(url) = &self.webhook_url
            && let Err(e) = webhook::WebhookTarget::parse(url)
        {
            broken.push(Value::Object(e.details));
        }
        if broken.is_empty() {
            return Ok(());
        }
        Err(YtError::new(
            ErrorCode::CONFIG_INVALID,
            format!("{} monitoring setting(s) out of range", broken.len()),
        )
        .detail("fields", broken))
    }

    pub fn interval(&self) -> Option<Duration> {
        (self.interval_seconds > 0).then(|| Duration::from_secs(self.interval_seconds))
    }
}

/// What [`QuotaSource::current`] returns.
pub type QuotaFuture<'a> = Pin<Box<dyn Future<Output = YtResult<Vec<Value>>> + Send + 'a>>;

/// Where the monitor reads quotas from: `ytmaker_pipeline`'s quota report, as the JSON the API
/// serves (`QuotaStatus`: provider, unit, used, limit, remaining, resets_at, source, error).
pub trait QuotaSource: Send + Sync {
    fn current(&self) -> QuotaFuture<'_>;
}

impl MonitorContext {
    /// The quota report, or an empty one when the process has none (see `quotas`).
    pub async fn current_quotas(&self) -> YtResult<Vec<Value>> {
        match &self.quotas {
            Some(source) => source.current().await,
            None => Ok(Vec::new()),
        }
    }
}

/// The pipeline's quota report (`ytmaker_pipeline::quota::current`): local counts against the
/// configured limits, D-ID credits from its API.
pub struct PipelineQuotas {
    pub store: Store,
    pub check: ytmaker_pipeline::quota::QuotaCheck,
}

impl QuotaSource for PipelineQuotas {
    fn current(&self) -> QuotaFuture<'_> {
        Box::pin(async move {
            let statuses = ytmaker_pipeline::quota::current(
                &self.store,
                &self.check.cloud,
                &self.check.limits,
            )
            .await?;
            statuses
                .iter()
                .map(|s| {
                    serde_json::to_value(s).map_err(|e| {
                        YtError::new(
                            ErrorCode::SERVER_PANICKED,
                            format!("a quota status cannot be encoded: {e}"),
                        )
                    })
                })
                .collect()
        })
    }
}

/// Everything the monitor reads. Cheap to clone.
#[derive(Clone)]
pub struct MonitorContext {
    pub store: Store,
    pub data: DataDir,
    /// The located FFmpeg, or why it could not be found (itself an alert).
    pub tools: Result<Toolchain, YtError>,
    /// `None` until the process has a quota report to read; the quota rule then watches only
    /// the providers' `*_QUOTA_EXCEEDED` answers, and quota lists are empty.
    pub quotas: Option<Arc<dyn QuotaSource>>,
    pub config: MonitorConfig,
    /// Shortens the webhook's retry waits in tests (see `retry::DelayScale`).
    pub retry_delay_scale: DelayScale,
}
