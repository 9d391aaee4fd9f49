//! `ytmaker cleanup`: one retention sweep now (the server runs it hourly), printing what was —
//! or with `--dry-run` would be — removed. The policy is the one stored in the database
//! (`PUT /api/v1/settings`, the settings page).

use std::process::ExitCode;

use ytmaker_core::error::Lang;
use ytmaker_core::{ErrorCode, TraceId, YtError, YtResult};
use ytmaker_pipeline::retention::{self, SweepMode, SweepReport};
use ytmaker_store::Store;

use crate::settings::Settings;
use crate::{exit_code_for, report};

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

fn summary(r: &SweepReport) -> String {
    let verb = if r.dry_run { "would remove" } else { "removed" };
    let Some(cutoff) = &r.cutoff else {
        return format!(
            "retention: {} — intermediate files are kept; nothing to remove\n",
            r.policy
        );
    };
    let mut out = format!(
        "retention: {} — finished projects last changed before {cutoff}\n",
        r.policy
    );
    for p in &r.projects {
        out.push_str(&format!(
            "{} ({}, finished {}): {verb} {} — {}\n",
            p.project_id,
            p.status,
            p.finished_at,
            p.removed
                .iter()
                .map(|d| format!("{d}/"))
                .collect::<Vec<_>>()
                .join(" "),
            megabytes(p.bytes_freed)
        ));
    }
    out.push_str(&format!(
        "{} project(s), {verb} {} in total; {} failure(s)\n",
        r.projects.len(),
        megabytes(r.bytes_freed),
        r.failures.len()
    ));
    out
}

/// Each project the sweep could not clean, with its code, details and the catalogue's advice
/// (the sweep has logged each one already).
fn print_failures(r: &SweepReport, lang: Lang) {
    for f in &r.failures {
        let guide = f.code.spec().guide(lang);
        eprintln!("error[{}]: {}", f.code, f.message);
        eprintln!("  project: {}", f.project_id);
        eprintln!(
            "  details: {}",
            serde_json::Value::Object(f.details.clone())
        );
        eprintln!("  solutions:");
        for s in guide.solutions {
            eprintln!("    - {s}");
        }
    }
}

pub async fn run(settings: &Settings, trace: &TraceId, dry_run: bool, json: bool) -> ExitCode {
    let done: YtResult<SweepReport> = async {
        let store = Store::open(&settings.database_url).await?;
        let mode = if dry_run {
            SweepMode::DryRun
        } else {
            SweepMode::Delete
        };
        let report = retention::sweep_now(&store, &settings.data, mode, trace).await?;
        if json {
            let text = serde_json::to_string_pretty(&report).map_err(|e| {
                YtError::new(
                    ErrorCode::SERVER_PANICKED,
                    format!("cannot encode the sweep report as JSON: {e}"),
                )
            })?;
            println!("{text}");
        } else {
            print!("{}", summary(&report));
        }
        Ok(report)
    }
    .await;
    match done {
        Ok(report) => match report.failures.first() {
            None => ExitCode::SUCCESS,
            Some(first) => {
                print_failures(&report, settings.lang);
                eprintln!("  trace id: {trace}  (ytmaker logs --trace {trace})");
                ExitCode::from(exit_code_for(first.code))
            }
        },
        Err(err) => report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    }
}
