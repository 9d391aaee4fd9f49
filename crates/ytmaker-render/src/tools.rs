//! Where the FFmpeg binaries are.

use serde_json::Value;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::run::capture;

/// The FFmpeg binaries every render uses, found once and passed down.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Toolchain {
    pub ffmpeg: PathBuf,
    pub ffprobe: PathBuf,
}

impl Toolchain {
    /// Finds ffmpeg and ffprobe on `PATH`, or at `YTMAKER_FFMPEG` / `YTMAKER_FFPROBE` when set.
    /// An override that points nowhere is `FFMPEG_NOT_FOUND`; it is never replaced by the `PATH`
    /// binary, because the user set it for a reason. Details name the binary and where we looked.
    pub fn locate() -> YtResult<Toolchain> {
        Self::locate_with(|name| std::env::var_os(name))
    }

    /// [`Toolchain::locate`] against an explicit environment, so tests need not mutate the
    /// process environment (which is unsafe with other test threads running).
    fn locate_with(env: impl Fn(&str) -> Option<OsString>) -> YtResult<Toolchain> {
        let path_var = env("PATH");
        Ok(Toolchain {
            ffmpeg: find_binary(
                "ffmpeg",
                "YTMAKER_FFMPEG",
                env("YTMAKER_FFMPEG"),
                path_var.as_deref(),
            )?,
            ffprobe: find_binary(
                "ffprobe",
                "YTMAKER_FFPROBE",
                env("YTMAKER_FFPROBE"),
                path_var.as_deref(),
            )?,
        })
    }

    /// The first line of `ffmpeg -version` and `ffprobe -version`, e.g. for `ytmaker doctor`.
    pub async fn versions(&self) -> YtResult<(String, String)> {
        let ffmpeg = first_version_line("ffmpeg", &self.ffmpeg).await?;
        let ffprobe = first_version_line("ffprobe", &self.ffprobe).await?;
        Ok((ffmpeg, ffprobe))
    }
}

async fn first_version_line(tool: &'static str, program: &Path) -> YtResult<String> {
    let out = capture(tool, program, "version", &[OsString::from("-version")]).await?;
    let text = String::from_utf8_lossy(&out.stdout);
    match text.lines().next() {
        Some(line) if out.status.success() => Ok(line.trim().to_owned()),
        _ => Err(YtError::new(
            ErrorCode::FFMPEG_EXECUTION_FAILED,
            format!("`{tool} -version` failed"),
        )
        .detail("purpose", "version")
        .detail("exit_status", out.status.to_string())
        .detail("stderr_tail", out.stderr_tail)),
    }
}

fn find_binary(
    name: &str,
    env_name: &str,
    overridden: Option<OsString>,
    path_var: Option<&OsStr>,
) -> YtResult<PathBuf> {
    if let Some(explicit) = overridden.filter(|v| !v.is_empty()) {
        let candidate = PathBuf::from(explicit);
        return if is_executable(&candidate) {
            Ok(candidate)
        } else {
            Err(
                not_found(name, env_name, vec![candidate.display().to_string()]).detail(
                    "reason",
                    format!("{env_name} is set but is not an executable file"),
                ),
            )
        };
    }
    let file_name = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    let dirs: Vec<PathBuf> = path_var
        .map(|p| std::env::split_paths(p).collect())
        .unwrap_or_default();
    dirs.iter()
        .map(|dir| dir.join(&file_name))
        .find(|candidate| is_executable(candidate))
        .ok_or_else(|| {
            not_found(
                name,
                env_name,
                dirs.iter().map(|d| d.display().to_string()).collect(),
            )
        })
}

fn not_found(name: &str, env_name: &str, looked_at: Vec<String>) -> YtError {
    YtError::new(ErrorCode::FFMPEG_NOT_FOUND, format!("{name} not found"))
        .detail("binary", name)
        .detail("env_var", env_name)
        .detail("looked_at", Value::from(looked_at))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn path_pointing_nowhere_is_ffmpeg_not_found_with_where_we_looked() {
        let env = env_of(vec![("PATH", "/nonexistent/a:/nonexistent/b".into())]);
        let err = Toolchain::locate_with(env).unwrap_err();
        assert_eq!(err.code, ErrorCode::FFMPEG_NOT_FOUND);
        assert_eq!(err.details["binary"], "ffmpeg");
        assert_eq!(
            err.details["looked_at"],
            serde_json::json!(["/nonexistent/a", "/nonexistent/b"])
        );
    }

    #[test]
    fn an_override_pointing_nowhere_is_not_replaced_by_path() {
        let system_path = std::env::var("PATH").unwrap_or_default();
        let env = env_of(vec![
            ("PATH", system_path),
            ("YTMAKER_FFPROBE", "/nonexistent/ffprobe".into()),
        ]);
        let err = Toolchain::locate_with(env).unwrap_err();
        assert_eq!(err.code, ErrorCode::FFMPEG_NOT_FOUND);
        assert_eq!(err.details["binary"], "ffprobe");
        assert_eq!(
            err.details["looked_at"],
            serde_json::json!(["/nonexistent/ffprobe"])
        );
    }

    #[test]
    fn no_path_at_all_is_ffmpeg_not_found() {
        let err = Toolchain::locate_with(|_| None).unwrap_err();
        assert_eq!(err.code, ErrorCode::FFMPEG_NOT_FOUND);
    }
}
