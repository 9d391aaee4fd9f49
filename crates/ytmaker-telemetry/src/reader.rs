use std::path::Path;

use serde_json::Value;
use ytmaker_core::{YtError, YtResult};

use crate::{LOG_FILE_PREFIX, LOG_FILE_SUFFIX};

/// Which lines to keep; every field that is set must match.
#[derive(Default, Debug, Clone)]
pub struct LogFilter {
    pub trace_id: Option<String>,
    pub project_id: Option<String>,
    pub error_code: Option<String>,
}

impl LogFilter {
    fn matches(&self, line: &Value) -> bool {
        let field_is = |name: &str, want: &Option<String>| match want {
            Some(w) => line.get(name).and_then(Value::as_str) == Some(w.as_str()),
            None => true,
        };
        field_is("trace_id", &self.trace_id)
            && field_is("project_id", &self.project_id)
            && field_is("error_code", &self.error_code)
    }
}

/// Reads every rotated log file in `dir`, oldest first, and returns the matching lines as written.
/// A line that is not JSON (a truncated last line after a crash) is skipped: it cannot carry the
/// fields being searched for.
pub fn read_lines(dir: &Path, filter: &LogFilter) -> YtResult<Vec<String>> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| YtError::io("list the log directory", dir, &e))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| YtError::io("list the log directory", dir, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(LOG_FILE_PREFIX) && name.ends_with(LOG_FILE_SUFFIX) {
            files.push(entry.path());
        }
    }
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| YtError::io("read the log file", &file, &e))?;
        for line in text.lines() {
            if let Ok(value) = serde_json::from_str::<Value>(line)
                && filter.matches(&value)
            {
                out.push(line.to_owned());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_by_trace_across_rotated_files_in_date_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ytmaker.2026-11-28.log"),
            "{\"trace_id\":\"t1\",\"message\":\"a\"}\n{\"trace_id\":\"t2\",\"message\":\"b\"}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("ytmaker.2026-11-29.log"),
            "{\"trace_id\":\"t1\",\"message\":\"c\",\"error_code\":\"X\"}\n{\"trunc",
        )
        .unwrap();
        std::fs::write(dir.path().join("other.txt"), "{\"trace_id\":\"t1\"}\n").unwrap();
        let f = LogFilter {
            trace_id: Some("t1".into()),
            ..Default::default()
        };
        let lines = read_lines(dir.path(), &f).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("\"a\"") && lines[1].contains("\"c\""));
        let by_code = LogFilter {
            error_code: Some("X".into()),
            ..Default::default()
        };
        assert_eq!(read_lines(dir.path(), &by_code).unwrap().len(), 1);
    }

    #[test]
    fn finds_a_projects_lines_and_an_error_code_across_two_dated_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("ytmaker.2026-11-29.log"),
            "{\"project_id\":\"p1\",\"message\":\"late\",\"error_code\":\"FFMPEG_EXECUTION_FAILED\"}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("ytmaker.2026-11-28.log"),
            "{\"project_id\":\"p1\",\"message\":\"early\"}\n{\"project_id\":\"p2\",\"message\":\"other\",\"error_code\":\"FFMPEG_EXECUTION_FAILED\"}\n",
        )
        .unwrap();
        let by_project = LogFilter {
            project_id: Some("p1".into()),
            ..Default::default()
        };
        let lines = read_lines(dir.path(), &by_project).unwrap();
        assert_eq!(lines.len(), 2);
        // Oldest file first, whatever order the directory lists them in.
        assert!(lines[0].contains("early") && lines[1].contains("late"));
        let by_code = LogFilter {
            error_code: Some("FFMPEG_EXECUTION_FAILED".into()),
            ..Default::default()
        };
        let lines = read_lines(dir.path(), &by_code).unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("other") && lines[1].contains("late"));
    }

    #[test]
    fn a_missing_log_directory_is_an_error_not_an_empty_result() {
        let err = read_lines(
            Path::new("/nonexistent/ytmaker/logs"),
            &LogFilter::default(),
        )
        .unwrap_err();
        assert_eq!(err.code, ytmaker_core::ErrorCode::FILE_NOT_FOUND);
    }
}
