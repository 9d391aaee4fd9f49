//! Asset checkpoints: the one place that decides whether an asset must be made or can be reused.

use std::future::Future;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tracing::Instrument;
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetStatus};
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
        let existing = store.asset(self.project, key).await?;
        if let Some(existing) = &existing
            && existing.is_completed()
            && existing.metadata["inputs"] == inputs
        {
            match asset_path(self.dir, existing) {
                Some(path) if path.is_file() => return Ok(existing.clone()),
                _ => tracing::warn!(
                    asset_kind = key.kind.as_str(),
                    segment_index = key.index,
                    "completed asset's file is missing; making it again"
                ),
            }
        }
        if let Some(existing) = &existing
            && let Some(adopted) = self.adopt(existing, inputs).await?
        {
            return Ok(adopted);
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
                    let begun = store.begin_asset(self.project, key, provider).await?;
                    let span = tracing::info_span!("attempt", attempt = attempt_no);
                    Ok((made.instrument(span).await?, begun.attempts))
                }
            },
            |err, retry| self.announce_retry(key, err, retry),
        )
        .await;
        let (made, attempt) = match outcome {
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
        let record = MadeRecord {
            inputs: inputs.to_owned(),
            attempt,
            path: relative,
            sha256: hash,
            metadata,
        };
        self.write_made_record(key, &record).await?;
        let attempts = self.complete_from(key, &record).await?;
        tracing::info!(
            asset_kind = key.kind.as_str(),
            segment_index = key.index,
            attempts,
            provider,
            "asset completed"
        );
        self.completed(key).await
    }

    async fn completed(&self, key: AssetKey) -> YtResult<Asset> {
        self.pipeline
            .store
            .asset(self.project, key)
            .await?
            .ok_or_else(|| {
                YtError::new(
                    ytmaker_core::ErrorCode::DATABASE_ERROR,
                    "completed asset row is missing",
                )
                .detail("asset_kind", key.kind.as_str())
            })
    }
}

/// What a maker produced, written next to the project before the database is told (see
/// [`Checkpoint::adopt`]).
#[derive(serde::Serialize, serde::Deserialize)]
struct MadeRecord {
    inputs: String,
    /// The asset row's `attempts` when this attempt began: it ties the record to that attempt.
    attempt: u32,
    /// Relative to the project folder, as the asset row stores it.
    path: String,
    sha256: String,
    metadata: Value,
}

impl Checkpoint<'_> {
    fn made_record_path(&self, key: AssetKey) -> PathBuf {
        let name = match key.index {
            Some(index) => format!("{}-{index}.json", key.kind.as_str()),
            None => format!("{}.json", key.kind.as_str()),
        };
        self.dir.work().join("made").join(name)
    }

    /// Marks the asset COMPLETED with what the record says (with its `asset` event).
    async fn complete_from(&self, key: AssetKey, record: &MadeRecord) -> YtResult<u32> {
        self.pipeline
            .store
            .complete_asset_with_event(
                self.project,
                key,
                &record.path,
                &record.sha256,
                &record.metadata,
                self.trace,
            )
            .await
    }

    async fn write_made_record(&self, key: AssetKey, record: &MadeRecord) -> YtResult<()> {
        let path = self.made_record_path(key);
        if let Some(folder) = path.parent() {
            tokio::fs::create_dir_all(folder)
                .await
                .map_err(|e| YtError::io("create", folder, &e))?;
        }
        let bytes = serde_json::to_vec(record).map_err(|e| {
            YtError::new(
                ytmaker_core::ErrorCode::FILE_SYSTEM_ERROR,
                format!("could not encode the made-asset record: {e}"),
            )
        })?;
        crate::stages::write_atomically(&path, &bytes).await
    }

    /// Completes an asset that an earlier run made but could not record: the provider answered
    /// (and was paid), the file and its [`MadeRecord`] were written, and then the run ended
    /// before the database took the completion (its lease lost while the database was locked, a
    /// `kill -9`). Only the attempt the record names is adopted: the row must still be
    /// GENERATING with the same `attempts`, so an asset the user asked for again (PENDING), or one
    /// a later run has begun, is made again. The inputs and the file's hash must match too.
    async fn adopt(&self, existing: &Asset, inputs: &str) -> YtResult<Option<Asset>> {
        if existing.status != AssetStatus::Generating {
            return Ok(None);
        }
        let key = existing.key;
        let record_path = self.made_record_path(key);
        let bytes = match tokio::fs::read(&record_path).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(YtError::io("read", &record_path, &e)),
        };
        let record: MadeRecord = serde_json::from_slice(&bytes).map_err(|e| {
            YtError::new(
                ytmaker_core::ErrorCode::FILE_SYSTEM_ERROR,
                format!("the made-asset record is not readable: {e}"),
            )
            .detail("path", record_path.display().to_string())
        })?;
        if record.inputs != inputs || record.attempt != existing.attempts {
            return Ok(None);
        }
        let file = self.dir.root().join(&record.path);
        if !file.is_file() || hash_file(&file).await? != record.sha256 {
            return Ok(None);
        }
        self.complete_from(key, &record).await?;
        tracing::info!(
            asset_kind = key.kind.as_str(),
            segment_index = key.index,
            attempts = existing.attempts,
            "asset adopted: an earlier run made it but could not record it"
        );
        self.completed(key).await.map(Some)
    }

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
