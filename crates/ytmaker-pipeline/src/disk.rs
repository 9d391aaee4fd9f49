use std::path::Path;

use ytmaker_core::{ErrorCode, YtError, YtResult};

/// Overrides the free-space floor (bytes); tests use it to simulate a full disk.
pub const MIN_FREE_BYTES_ENV: &str = "YTMAKER_MIN_FREE_BYTES";
const DEFAULT_MIN_FREE_BYTES: u64 = 1 << 30;

/// Refuses to start work that writes media when the data directory's disk has less than the
/// floor (1 GiB by default) free, before anything is written (SPEC §6 DISK_SPACE_INSUFFICIENT).
pub fn check_free_space(dir: &Path) -> YtResult<u64> {
    let floor = match std::env::var(MIN_FREE_BYTES_ENV) {
        Ok(raw) => raw.parse::<u64>().map_err(|_| {
            YtError::invalid_field(
                ErrorCode::CONFIG_INVALID,
                MIN_FREE_BYTES_ENV,
                "a whole number of bytes",
                raw.as_str(),
            )
        })?,
        Err(_) => DEFAULT_MIN_FREE_BYTES,
    };
    let free = free_bytes(dir)?;
    if free < floor {
        return Err(YtError::new(
            ErrorCode::DISK_SPACE_INSUFFICIENT,
            format!(
                "{} has {} MB free; at least {} MB are needed",
                dir.display(),
                free >> 20,
                floor >> 20
            ),
        )
        .detail("path", dir.display().to_string())
        .detail("free_bytes", free)
        .detail("required_bytes", floor));
    }
    Ok(free)
}

pub fn free_bytes(dir: &Path) -> YtResult<u64> {
    disk_space(dir).map(|d| d.free_bytes)
}

/// Space of the file system holding `dir`, as an unprivileged user sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiskSpace {
    pub free_bytes: u64,
    pub total_bytes: u64,
}

impl DiskSpace {
    pub fn free_percent(&self) -> f64 {
        if self.total_bytes == 0 {
            return 0.0;
        }
        self.free_bytes as f64 * 100.0 / self.total_bytes as f64
    }
}

pub fn disk_space(dir: &Path) -> YtResult<DiskSpace> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(|_| {
        YtError::new(ErrorCode::FILE_SYSTEM_ERROR, "path contains a NUL byte")
            .detail("path", dir.display().to_string())
    })?;
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid NUL-terminated string and stat is a properly sized out-parameter.
    let rc = unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) };
    if rc != 0 {
        return Err(YtError::io(
            "check free space on",
            dir,
            &std::io::Error::last_os_error(),
        ));
    }
    let block = stat.f_frsize as u64;
    Ok(DiskSpace {
        free_bytes: stat.f_bavail as u64 * block,
        total_bytes: stat.f_blocks as u64 * block,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_free_space_of_a_real_directory_and_fails_on_a_missing_one() {
        assert!(free_bytes(Path::new("/tmp")).unwrap() > 0);
        let space = disk_space(Path::new("/tmp")).unwrap();
        assert!(space.total_bytes >= space.free_bytes && space.total_bytes > 0);
        assert!((0.0..=100.0).contains(&space.free_percent()));
        assert_eq!(
            free_bytes(Path::new("/no/such/dir")).unwrap_err().code,
            ErrorCode::FILE_NOT_FOUND
        );
    }
}
