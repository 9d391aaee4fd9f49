//! Writes every cloud call to the `provider_calls` table. Providers never touch the database; the
//! cloud clients report to a [`CallRecorder`] and this one stores what they report, with the
//! project and trace of the run that made the call when there is one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;
use uuid::Uuid;
use ytmaker_core::TraceId;
use ytmaker_providers::cloud::http::{CallRecord, CallRecorder};
use ytmaker_store::{ProviderCall, Store};

/// Writes still in flight, so a process can wait for them before it exits (a write dropped with
/// the runtime would vanish without a trace).
#[derive(Clone, Debug, Default)]
pub struct PendingWrites {
    count: Arc<AtomicUsize>,
    idle: Arc<Notify>,
}

impl PendingWrites {
    fn started(&self) {
        self.count.fetch_add(1, Ordering::SeqCst);
    }

    fn finished(&self) {
        if self.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Returns once every write started so far has ended (stored, or logged as lost).
    pub async fn flush(&self) {
        loop {
            let idle = self.idle.notified();
            tokio::pin!(idle);
            idle.as_mut().enable();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            idle.await;
        }
    }
}

#[derive(Clone, Debug)]
pub struct StoreCallRecorder {
    store: Store,
    project_id: Option<Uuid>,
    trace_id: Option<String>,
    pending: PendingWrites,
}

impl StoreCallRecorder {
    /// Records calls made outside a project run (key tests, quota reads).
    pub fn new(store: Store, pending: PendingWrites) -> Self {
        StoreCallRecorder {
            store,
            project_id: None,
            trace_id: None,
            pending,
        }
    }

    /// Records calls made by one run of `project_id`.
    pub fn for_run(
        store: Store,
        pending: PendingWrites,
        project_id: Uuid,
        trace: &TraceId,
    ) -> Self {
        StoreCallRecorder {
            store,
            project_id: Some(project_id),
            trace_id: Some(trace.to_string()),
            pending,
        }
    }

    fn row(&self, call: CallRecord) -> ProviderCall {
        ProviderCall {
            at_ms: call.at_ms,
            api: call.api.to_owned(),
            endpoint: call.endpoint.to_owned(),
            status: call.status,
            error_code: call.error_code.map(|c| c.as_str().to_owned()),
            duration_ms: u64::try_from(call.duration.as_millis()).unwrap_or(u64::MAX),
            quota_units: call.quota_units,
            project_id: self.project_id,
            trace_id: self.trace_id.clone(),
        }
    }
}

/// A record that could not be written is not allowed to fail the provider call it describes
/// (the call happened and was paid for), but it must not vanish either: it is logged at error
/// level with its code and every field, and counted.
fn lost(call: &ProviderCall, err: &ytmaker_core::YtError) {
    tracing::error!(
        error_code = %err.code,
        api = call.api.as_str(),
        endpoint = call.endpoint.as_str(),
        status = call.status,
        call_error_code = call.error_code.as_deref(),
        duration_ms = call.duration_ms,
        quota_units = call.quota_units,
        at_ms = call.at_ms,
        "provider call could not be recorded: {}",
        err.message
    );
    metrics::counter!(ytmaker_core::metric::PROVIDER_CALL_RECORDS_FAILED_TOTAL, "api" => call.api.clone())
        .increment(1);
}

impl CallRecorder for StoreCallRecorder {
    fn record(&self, call: CallRecord) {
        let row = self.row(call);
        // Called when a reply is dropped, which is synchronous code: the write runs on its own
        // task so the client never waits for the database.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                let store = self.store.clone();
                let pending = self.pending.clone();
                pending.started();
                runtime.spawn(async move {
                    if let Err(err) = store.record_provider_call(&row).await {
                        lost(&row, &err);
                    }
                    pending.finished();
                });
            }
            Err(no_runtime) => lost(
                &row,
                &ytmaker_core::YtError::new(
                    ytmaker_core::ErrorCode::DATABASE_ERROR,
                    format!("no async runtime to write the record on: {no_runtime}"),
                ),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ytmaker_core::ErrorCode;

    use super::*;

    #[tokio::test]
    async fn flush_returns_once_every_record_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Store::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        let pending = PendingWrites::default();
        let project = Uuid::new_v4();
        let trace = TraceId::generate();
        let recorder = StoreCallRecorder::for_run(store.clone(), pending.clone(), project, &trace);
        for n in 0..20 {
            recorder.record(CallRecord {
                at_ms: n,
                api: "stability",
                endpoint: "generate",
                status: Some(500),
                error_code: Some(ErrorCode::STABILITY_SERVER_ERROR),
                duration: Duration::from_millis(1500),
                quota_units: 0,
            });
        }
        pending.flush().await;
        let rows = store.provider_calls_since(0).await.unwrap();
        assert_eq!(rows.len(), 20);
        assert!(rows.iter().all(|r| r.project_id == Some(project)
            && r.trace_id.as_deref() == Some(trace.as_str())
            && r.error_code.as_deref() == Some("STABILITY_SERVER_ERROR")
            && r.duration_ms == 1500));
        // Nothing in flight: returns at once.
        pending.flush().await;
    }
}
