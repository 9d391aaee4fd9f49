//! `ytmaker alerts`: evaluates the rules once (so it works without a server) and lists the
//! alerts; `ytmaker alerts summary` prints the daily summary of a UTC day.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use ytmaker_core::{TraceId, YtResult};
use ytmaker_monitor::view::AlertView;
use ytmaker_monitor::{Monitor, MonitorContext, PipelineQuotas, summary};
use ytmaker_pipeline::CloudAccess;
use ytmaker_pipeline::quota::QuotaCheck;
use ytmaker_providers::retry::DelayScale;
use ytmaker_render::Toolchain;
use ytmaker_store::{AlertState, Store, now_ms};

use crate::settings::{Settings, load_monitor_config, load_quota_limits};
use crate::{exit_code_for, report};

#[derive(Subcommand)]
pub enum AlertsAction {
    /// Quota usage, calls and success rates per API, projects by outcome and the most common
    /// error codes of one UTC day.
    Summary {
        /// YYYY-MM-DD, a UTC day (default: today so far).
        #[arg(long)]
        date: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

async fn monitor(settings: &Settings) -> YtResult<Monitor> {
    let store = Store::open(&settings.database_url).await?;
    let check = QuotaCheck {
        cloud: CloudAccess::from_env(&settings.data)?.recording_calls(&store),
        limits: load_quota_limits(settings)?,
    };
    Monitor::new(MonitorContext {
        store: store.clone(),
        data: settings.data.clone(),
        tools: Toolchain::locate(),
        quotas: Some(Arc::new(PipelineQuotas { store, check })),
        config: load_monitor_config(settings)?,
        retry_delay_scale: DelayScale::from_env()?,
    })
}

pub(crate) fn print_json(value: &impl serde::Serialize) -> YtResult<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| {
        ytmaker_core::YtError::new(
            ytmaker_core::ErrorCode::SERVER_PANICKED,
            format!("cannot encode the answer as JSON: {e}"),
        )
    })?;
    println!("{text}");
    Ok(())
}

pub async fn run(
    settings: &Settings,
    trace: &TraceId,
    action: Option<AlertsAction>,
    all: bool,
    json: bool,
) -> ExitCode {
    let done: YtResult<()> = async {
        let monitor = monitor(settings).await?;
        match action {
            Some(AlertsAction::Summary { date, json }) => {
                let date = match date {
                    Some(raw) => summary::parse_date(&raw)?,
                    None => summary::today(now_ms()),
                };
                let made = summary::build(monitor.context(), date).await?;
                if json {
                    print_json(&made)?;
                } else {
                    print!("{}", made.text);
                }
            }
            None => {
                monitor.evaluate_once(now_ms()).await?;
                let state = if all { None } else { Some(AlertState::Open) };
                let alerts: Vec<AlertView> = monitor
                    .context()
                    .store
                    .alerts(state, 500)
                    .await?
                    .iter()
                    .map(AlertView::from)
                    .collect();
                if json {
                    print_json(&serde_json::json!({ "alerts": alerts }))?;
                } else if alerts.is_empty() {
                    println!("no {}alerts", if all { "" } else { "open " });
                } else {
                    println!(
                        "{:<3} {:<9} {:<30} {:<12} {:<25} {:>5}  message",
                        "", "state", "rule", "subject", "first seen", "times"
                    );
                    for a in alerts {
                        println!(
                            "{:<3} {:<9} {:<30} {:<12} {:<25} {:>5}  {}",
                            a.priority,
                            a.state,
                            a.rule,
                            a.subject,
                            a.first_seen,
                            a.occurrences,
                            a.message
                        );
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    }
}
