//! The local publisher: "export to the output folder" (SPEC §2 stage 5 with the local publisher).
//! The video, thumbnail and subtitles end up in the output folder (copied there if they were
//! rendered elsewhere) with `publish.json` beside them: the metadata a person needs to upload the
//! video by hand.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use serde::Serialize;
use ytmaker_core::script::Language;
use ytmaker_core::{YtError, YtResult};

use crate::atomic::{self, PendingFile};
use crate::{PublishRequest, PublishResult, Publisher};

/// The manifest's file name in the output folder.
pub const PUBLISH_MANIFEST: &str = "publish.json";

#[derive(Clone, Copy, Debug, Default)]
pub struct LocalPublisher;

impl LocalPublisher {
    pub fn new() -> Self {
        LocalPublisher
    }
}

#[derive(Serialize)]
struct Manifest<'a> {
    title: &'a str,
    description: &'a str,
    tags: &'a [String],
    language: Language,
    /// What YouTube calls `status.containsSyntheticMedia`: the narration and images are generated.
    contains_synthetic_media: bool,
    estimated_seconds: f64,
    files: Files,
}

#[derive(Serialize)]
struct Files {
    video: FileEntry,
    thumbnail: FileEntry,
    subtitles: FileEntry,
}

#[derive(Serialize)]
struct FileEntry {
    /// Relative to the output folder.
    name: String,
    bytes: u64,
}

/// Puts `source` into `dir` (unless it is already there) and describes it.
async fn export(source: &Path, dir: &Path) -> YtResult<FileEntry> {
    let meta = tokio::fs::metadata(source)
        .await
        .map_err(|e| YtError::io("read", source, &e))?;
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            YtError::io(
                "read",
                source,
                &std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
            )
        })?;
    let target = dir.join(&name);
    if !same_file(source, &target).await? {
        let pending = PendingFile::new(&target);
        tokio::fs::copy(source, pending.path()).await.map_err(|e| {
            YtError::io("copy", pending.path(), &e).detail("source", source.display().to_string())
        })?;
        pending.commit().await?;
    }
    Ok(FileEntry {
        name,
        bytes: meta.len(),
    })
}

async fn same_file(a: &Path, b: &Path) -> YtResult<bool> {
    let ca = tokio::fs::canonicalize(a)
        .await
        .map_err(|e| YtError::io("resolve", a, &e))?;
    match tokio::fs::canonicalize(b).await {
        Ok(cb) => Ok(ca == cb),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(YtError::io("resolve", b, &e)),
    }
}

#[async_trait]
impl Publisher for LocalPublisher {
    fn id(&self) -> &'static str {
        "local"
    }

    async fn publish(&self, req: &PublishRequest<'_>) -> YtResult<PublishResult> {
        tokio::fs::create_dir_all(req.output_dir)
            .await
            .map_err(|e| YtError::io("create", req.output_dir, &e))?;
        let files = Files {
            video: export(req.video, req.output_dir).await?,
            thumbnail: export(req.thumbnail, req.output_dir).await?,
            subtitles: export(req.subtitles, req.output_dir).await?,
        };
        let script = req.script;
        let manifest = Manifest {
            title: &script.title,
            description: &script.description,
            tags: &script.tags,
            language: script.language,
            contains_synthetic_media: true,
            estimated_seconds: script.estimated_total_seconds(),
            files,
        };
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| {
            YtError::new(
                ytmaker_core::ErrorCode::FILE_SYSTEM_ERROR,
                format!("cannot serialise {PUBLISH_MANIFEST}: {e}"),
            )
        })?;
        let path: PathBuf =
            atomic::write_file(&req.output_dir.join(PUBLISH_MANIFEST), &json).await?;
        tracing::info!(provider = "local", location = %path.display(), "exported to the output folder");
        Ok(PublishResult {
            location: path.display().to_string(),
            video_id: None,
        })
    }
}
