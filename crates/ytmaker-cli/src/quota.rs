//! `ytmaker quota`: each provider's quota used and left today, as `GET /api/v1/quotas` reports it.

use std::process::ExitCode;

use ytmaker_core::{ErrorCode, TraceId, YtError, YtResult};
use ytmaker_pipeline::CloudAccess;
use ytmaker_pipeline::quota::{self, QuotaStatus};
use ytmaker_store::Store;

use crate::settings::{Settings, load_quota_limits};
use crate::{exit_code_for, report};

fn amount(value: Option<u64>) -> String {
    value.map_or_else(|| "-".into(), |v| v.to_string())
}

fn table(quotas: &[QuotaStatus]) -> String {
    let mut out = format!(
        "{:<16} {:<9} {:>8} {:>8} {:>9}  {:<21} {:<6} {}\n",
        "PROVIDER", "UNIT", "USED", "LIMIT", "REMAINING", "RESETS AT", "SOURCE", "ERROR"
    );
    for q in quotas {
        let error = q
            .error
            .as_ref()
            .map_or_else(String::new, |e| format!("{}: {}", e.code, e.message));
        out.push_str(&format!(
            "{:<16} {:<9} {:>8} {:>8} {:>9}  {:<21} {:<6} {}\n",
            q.provider,
            q.unit,
            q.used,
            amount(q.limit),
            amount(q.remaining),
            q.resets_at.as_deref().unwrap_or("-"),
            q.source,
            error
        ));
    }
    out
}

pub async fn run(settings: &Settings, trace: &TraceId, json: bool) -> ExitCode {
    let done: YtResult<()> = async {
        let store = Store::open(&settings.database_url).await?;
        let cloud = CloudAccess::from_env(&settings.data)?.recording_calls(&store);
        let quotas = quota::current(&store, &cloud, &load_quota_limits(settings)?).await;
        cloud.flush_call_records().await;
        let quotas = quotas?;
        if json {
            let text = serde_json::to_string_pretty(&serde_json::json!({ "quotas": quotas }))
                .map_err(|e| {
                    YtError::new(
                        ErrorCode::SERVER_PANICKED,
                        format!("cannot encode the quotas as JSON: {e}"),
                    )
                })?;
            println!("{text}");
        } else {
            print!("{}", table(&quotas));
        }
        Ok(())
    }
    .await;
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    }
}
