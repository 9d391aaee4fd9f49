//! The quota rule reads the quota report (here a scripted one standing in for the pipeline's), at
//! most every ten minutes: a provider below 10 % of its limit opens one P1 `quota_low`, which
//! resolves when the report shows room again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde_json::json;
use ytmaker_monitor::{Monitor, MonitorConfig, MonitorContext, QuotaFuture, QuotaSource};
use ytmaker_store::{DataDir, Store};

/// YouTube units with `remaining` left of 10,000; counts how often it is read.
#[derive(Default)]
struct ScriptedQuotas {
    remaining: AtomicU64,
    reads: AtomicUsize,
}

impl QuotaSource for ScriptedQuotas {
    fn current(&self) -> QuotaFuture<'_> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let remaining = self.remaining.load(Ordering::SeqCst);
        Box::pin(async move {
            Ok(vec![json!({
                "provider": "youtube", "unit": "units", "used": 10_000 - remaining,
                "limit": 10_000, "remaining": remaining, "resets_at": null,
                "source": "local", "error": null
            })])
        })
    }
}

#[tokio::test]
async fn a_quota_below_ten_percent_opens_one_p1_and_is_read_at_most_every_ten_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(&dir.path().join("t.db")))
        .await
        .unwrap();
    let quotas = Arc::new(ScriptedQuotas::default());
    quotas.remaining.store(400, Ordering::SeqCst);
    let monitor = Monitor::new(MonitorContext {
        store,
        data: DataDir::new(dir.path()),
        tools: ytmaker_render::Toolchain::locate(),
        quotas: Some(quotas.clone()),
        config: MonitorConfig {
            interval_seconds: 0,
            // Percentages of this machine's real disk must not open alerts in these tests.
            disk_critical_percent: 0.0,
            disk_low_percent: 0.0,
            ..Default::default()
        },
        retry_delay_scale: ytmaker_providers::retry::DelayScale(0.0),
    })
    .unwrap();
    let now = ytmaker_store::now_ms();
    let first = monitor.evaluate_once(now).await.unwrap();
    let opened: Vec<(&str, &str, &str)> = first
        .opened
        .iter()
        .map(|a| (a.rule.as_str(), a.subject.as_str(), a.priority.as_str()))
        .collect();
    assert_eq!(opened, [("quota_low", "youtube", "P1")]);
    assert_eq!(first.opened[0].details["remaining"], 400);

    // The report has room again, but the next ticks within ten minutes do not read it.
    quotas.remaining.store(9_000, Ordering::SeqCst);
    let soon = monitor.evaluate_once(now + 30_000).await.unwrap();
    assert!(soon.resolved.is_empty() && soon.opened.is_empty());
    assert_eq!(quotas.reads.load(Ordering::SeqCst), 1);
    let later = monitor.evaluate_once(now + 11 * 60_000).await.unwrap();
    assert_eq!(quotas.reads.load(Ordering::SeqCst), 2);
    assert_eq!(later.resolved.len(), 1);
    assert_eq!(later.resolved[0].rule, "quota_low");
    assert!(later.open.is_empty());
}
