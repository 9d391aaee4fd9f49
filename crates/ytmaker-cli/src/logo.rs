//! `ytmaker logo add FILE`: stores a logo the way `POST /api/v1/uploads/logo` does and prints its
//! id, for `[logo] upload = "…"` in a `--config` TOML file.

use std::path::Path;
use std::process::ExitCode;

use ytmaker_core::{TraceId, YtError, YtResult};
use ytmaker_pipeline::logos;

use crate::settings::Settings;
use crate::{exit_code_for, report};

#[derive(clap::Subcommand, Debug)]
pub enum LogoAction {
    /// Check and store a PNG or JPEG logo (at most 2 MB) and print the id to configure.
    Add { file: std::path::PathBuf },
}

pub async fn run(settings: &Settings, trace: &TraceId, action: LogoAction) -> ExitCode {
    let LogoAction::Add { file } = action;
    match add(settings, &file).await {
        Ok(id) => {
            println!("{id}");
            ExitCode::SUCCESS
        }
        Err(err) => report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    }
}

async fn add(settings: &Settings, file: &Path) -> YtResult<String> {
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|e| YtError::io("read the logo", file, &e))?;
    // The file's own signature stands in for the Content-Type an upload declares.
    // Anything else is checked as a PNG and refused as not being one.
    let content_type = if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else {
        "image/png"
    };
    let stored = logos::store_logo(&settings.data, content_type, &bytes).await?;
    eprintln!(
        "stored {}×{} logo ({} bytes); set [logo] upload = \"{}\"",
        stored.width, stored.height, stored.bytes, stored.id
    );
    Ok(stored.id)
}
