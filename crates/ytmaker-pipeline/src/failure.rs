//! Recording a failure on its project: FAILED with `error_info`, an `error` event with the same
//! code and trace id (which the WebSocket and the alert rules read), and one error log line.
//! Used by the stages and by everything that can fail before a run really starts (a worker that
//! cannot build the project's providers, a lease that cannot be taken), so no failure is left
//! only in the log.

use serde_json::Value;
use uuid::Uuid;
use ytmaker_core::error::Lang;
use ytmaker_core::{Stage, TraceId, YtError};
use ytmaker_store::Store;

use crate::progress::{Progress, ProgressSink};

/// Records `err` (given `stage`) on project `id` and returns it. A failure to record is logged
/// with its own code and added to the returned error's details.
pub(crate) async fn record(
    store: &Store,
    lang: Lang,
    sink: Option<&dyn ProgressSink>,
    id: Uuid,
    stage: Stage,
    err: YtError,
    trace: &TraceId,
) -> YtError {
    let err = err.at_stage(stage);
    let attempts = err
        .details
        .get("attempts")
        .and_then(Value::as_u64)
        .unwrap_or(1) as u32;
    let info = err.to_info(trace, attempts, lang);
    let details = Value::Object(err.details.clone()).to_string();
    tracing::error!(
        project_id = %id,
        stage = stage.as_str(),
        error_code = %err.code,
        is_retryable = info.is_retryable,
        details = details.as_str(),
        "stage failed: {}",
        err.message
    );
    if let Err(store_err) = store.fail_project(id, &info).await {
        tracing::error!(project_id = %id, error_code = %store_err.code, "could not record the failure on the project: {}", store_err.message);
        return err.detail("recording_failed", store_err.message);
    }
    if let Some(sink) = sink {
        sink.emit(id, &Progress::Failed { info });
    }
    err
}

/// Records a failure that happened before the project's run started (its providers could not
/// be built, its lease could not be taken). Its stage is the one the run would have started
/// with, or `system` when even that cannot be known.
pub async fn record_before_run(
    store: &Store,
    data: &ytmaker_store::DataDir,
    lang: Lang,
    id: Uuid,
    err: YtError,
    trace: &TraceId,
) -> YtError {
    let stage = match store.get_project(id).await {
        Ok(project) => crate::resume::first_stage_with_work(store, &data.project(id), &project)
            .await
            .unwrap_or(Stage::System),
        Err(_) => Stage::System,
    };
    record(store, lang, None, id, stage, err, trace).await
}
