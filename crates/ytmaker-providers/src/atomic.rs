//! Writing a file under a temporary name and renaming it into place, so a crash or a failed step
//! never leaves a half-written file under the final name (a later run would take it for a
//! finished asset).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use ytmaker_core::{YtError, YtResult};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A file being produced next to its final path. Write to [`PendingFile::path`], then
/// [`PendingFile::commit`]; dropped without a commit, the temporary file is removed.
#[derive(Debug)]
pub struct PendingFile {
    temp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl PendingFile {
    /// The temporary name keeps the final extension (FFmpeg and espeak-ng pick the format from it)
    /// and is hidden and unique per process and call: `.name.partial-<pid>-<n>.ext`.
    pub fn new(target: &Path) -> PendingFile {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let stem = target
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = target
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let name = format!(".{stem}.partial-{}-{n}{ext}", std::process::id());
        PendingFile {
            temp: target.with_file_name(name),
            target: target.to_path_buf(),
            committed: false,
        }
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Renames the finished file to its final name (atomic on one file system).
    pub async fn commit(mut self) -> YtResult<PathBuf> {
        tokio::fs::rename(&self.temp, &self.target)
            .await
            .map_err(|e| {
                YtError::io("rename into place", &self.target, &e)
                    .detail("temporary", self.temp.display().to_string())
            })?;
        self.committed = true;
        Ok(self.target.clone())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        match std::fs::remove_file(&self.temp) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            // The step has already failed with its own error; a leftover hidden temporary file is
            // worth a warning, not a second error.
            Err(e) => {
                tracing::warn!(path = %self.temp.display(), os_error = %e, "could not remove a temporary file")
            }
        }
    }
}

/// Writes `bytes` to `target` through a temporary file.
pub async fn write_file(target: &Path, bytes: &[u8]) -> YtResult<PathBuf> {
    let pending = PendingFile::new(target);
    tokio::fs::write(pending.path(), bytes)
        .await
        .map_err(|e| YtError::io("write", pending.path(), &e))?;
    pending.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn commit_renames_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("clip.mp4");
        let pending = PendingFile::new(&target);
        assert_eq!(pending.path().extension().unwrap(), "mp4");
        assert!(
            pending
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".clip.partial-")
        );
        std::fs::write(pending.path(), b"x").unwrap();
        let temp = pending.path().to_path_buf();
        drop(pending);
        assert!(
            !temp.exists() && !target.exists(),
            "an abandoned file never reaches its final name"
        );

        write_file(&target, b"done").await.unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"done");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
