//! Asset checkpoints: the one place that decides whether an asset must be made or can be reused.

use std::future::Future;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::Instrument;
use uuid::Uuid;
use ytmaker_core::asset::AssetKey;
use ytmaker_core::event::ProjectEvent;
use ytmaker_core::{TraceId, YtError, YtResult};
use ytmaker_providers::retry::Retry;
use ytmaker_store::{Asset, ProjectDir};

use crate::Pipeline;
use crate::fingerprints::hex;

/// What a maker produced: the file and the facts measured about it.
pub(crate) struct Made {
    pub path: PathBuf,
    pub metadata: Value,
}

pub(crate) async fn hash_file(path: &Path) -> YtResult<String> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&path).map_err(|e| YtError::io("open", &path, &e))?;
        let mut h = Sha256::new();
        std::io::copy(&mut file, &mut h).map_err(|e| YtError::io("read", &path, &e))?;
        Ok(hex(&h.finalize()))
    })
    .await
    .map_err(crate::stages::panicked)?
}

/// Path of an asset's file; stored relative to the project folder so the data directory can move.
pub(crate) fn asset_path(dir: &ProjectDir, asset: &Asset) -> Option<PathBuf> {
    asset.path.as_ref().map(|p| dir.root().join(p))
}

pub(crate) struct Checkpoint<'a> {
    pub pipeline: &'a Pipeline,
    pub project: Uuid,
    pub dir: &'a ProjectDir,
    pub trace: &'a TraceId,
}

impl Checkpoint<'_> {
    /// Returns the completed asset for `key`, calling `make` only if there is none with the same
    /// inputs whose file is still on disk. The asset row says GENERATING while `make` runs and
    /// FAILED (with the error) if it fails; the error is returned unchanged.
    pub async fn ensure<F, Fut>(
        &self,
        key: AssetKey,
        provider: &str,
        inputs: &str,
        mut make: F,
    ) -> YtResult<Asset>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = YtResult<Made>>,
    {
        let store = &self.pipeline.store;
        if let Some(existing) = store.asset(self.project, key).await?
            && existing.is_completed()
            && existing.metadata["inputs"] == inputs
        {
            match asset_path(self.dir, &existing) {
                Some(path) if path.is_file() => return Ok(existing),
                _ => tracing::warn!(
                    asset_kind = key.kind.as_str(),
                    segment_index = key.index,
                    "completed asset's file is missing; making it again"
                ),
            }
        }
        let outcome = ytmaker_providers::retry::run(
            self.pipeline.retry_delay_scale,
            |attempt_no| {
                let made = make();
                async move {
                    if self.pipeline.stop_requested() {
                        return Err(YtError::new(
                            ytmaker_core::ErrorCode::RUN_STOPPED,
                            "stopped on request before this asset was started",
                        ));
                    }
                    store.begin_asset(self.project, key, provider).await?;
                    let span = tracing::info_span!("attempt", attempt = attempt_no);
                    made.instrument(span).await
                }
            },
            |err, retry| self.announce_retry(key, err, retry),
        )
        .await;
        let made = match outcome {
            Ok(made) => made,
            Err((err, _)) if err.code == ytmaker_core::ErrorCode::RUN_STOPPED => {
                return Err(err
                    .detail("asset_kind", key.kind.as_str())
                    .detail("segment_index", key.index));
            }
            Err((err, _)) => {
                let attempts = store
                    .asset(self.project, key)
                    .await?
                    .map_or(0, |a| a.attempts);
                let info = err.to_info(self.trace, attempts, self.pipeline.lang);
                if let Err(record_err) = store.fail_asset(self.project, key, &info).await {
                    tracing::error!(error_code = %record_err.code, "could not record the asset failure: {}", record_err.message);
                }
                return Err(err
                    .detail("asset_kind", key.kind.as_str())
                    .detail("segment_index", key.index)
                    .detail("attempts", attempts));
            }
        };
        let hash = hash_file(&made.path).await?;
        let relative = made
            .path
            .strip_prefix(self.dir.root())
            .unwrap_or(&made.path)
            .display()
            .to_string();
        let mut metadata = made.metadata;
        if let Value::Object(map) = &mut metadata {
            map.insert("inputs".into(), Value::String(inputs.to_owned()));
        }
        let attempts = store
            .complete_asset_with_event(self.project, key, &relative, &hash, &metadata, self.trace)
            .await?;
        tracing::info!(
            asset_kind = key.kind.as_str(),
            segment_index = key.index,
            attempts,
            provider,
            "asset completed"
        );
        store.asset(self.project, key).await?.ok_or_else(|| {
            YtError::new(
                ytmaker_core::ErrorCode::DATABASE_ERROR,
                "completed asset row is missing",
            )
            .detail("asset_kind", key.kind.as_str())
        })
    }
}

impl Checkpoint<'_> {
    async fn announce_retry(&self, key: AssetKey, err: YtError, retry: Retry) -> YtResult<()> {
        report_retry(
            self.pipeline,
            self.project,
            self.trace,
            Some(key),
            &err,
            retry,
        )
        .await
    }
}

/// Logs a retry and stores a `retry` event that the WebSocket forwards; the retry loop then
/// waits out the delay.
pub(crate) async fn report_retry(
    pipeline: &Pipeline,
    project: Uuid,
    trace: &TraceId,
    key: Option<AssetKey>,
    err: &YtError,
    retry: Retry,
) -> YtResult<()> {
    let delay_ms = u64::try_from(retry.delay.as_millis()).unwrap_or(u64::MAX);
    let (asset_kind, segment_index) = (key.map(|k| k.kind.as_str()), key.and_then(|k| k.index));
    tracing::warn!(
        asset_kind,
        segment_index,
        error_code = %err.code,
        attempt = retry.retry,
        max_attempts = retry.max_attempts,
        next_delay_ms = delay_ms,
        "retrying after a retryable failure: {}",
        err.message
    );
    let event = ProjectEvent::Retry {
        error_code: err.code,
        message: err.message.clone(),
        attempt: retry.retry,
        max_attempts: retry.max_attempts,
        next_delay_ms: delay_ms,
        asset_kind: key.map(|k| k.kind),
        segment_index,
    };
    pipeline.store.append_event(project, &event, trace).await?;
    pipeline.sink.emit(
        project,
        &crate::Progress::Retry {
            code: err.code,
            attempt: retry.retry,
            max_attempts: retry.max_attempts,
            delay_ms,
        },
    );
    Ok(())
}
