//! One evaluation: gather what happened ([`Inputs`]), decide which (rule, subject) pairs fire
//! ([`firing`], a pure function of the inputs and the rule table), reconcile with the stored
//! alerts (open new ones, bump repeated ones, resolve cleared ones), deliver webhook notices, and
//! post yesterday's summary once.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use ytmaker_core::error::Priority;
use ytmaker_core::event::{EventKind, ProjectEvent};
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_store::{Alert, AlertState, NewAlert, Notice, ProviderCall, QueueStats, now_ms};

use crate::health::{self, DiskReading};
use crate::rules::{Clears, RULES, Rule, RuleId, Watch, api_of, priority_label};
use crate::view::APIS;
use crate::webhook::{Webhook, WebhookTarget, alert_message};
use crate::{MonitorConfig, MonitorContext};

/// How far back provider calls and project failures are read.
const LOOKBACK: Duration = Duration::from_secs(24 * 3600);
/// A quota report and when (Unix ms) it was read.
type QuotaReading = (i64, YtResult<Vec<Value>>);

/// How often the evaluation reads the quota report.
const QUOTA_READ_EVERY_MS: i64 = 10 * 60 * 1000;
/// How long a notice claim holds off other evaluators (longer than a post with its retries).
const NOTICE_LEASE_MS: i64 = 5 * 60 * 1000;

/// A project failure, as the monitor reads it from `error` events.
#[derive(Clone, Debug)]
pub struct ProjectError {
    pub at_ms: i64,
    pub code: ErrorCode,
    pub trace_id: Option<String>,
}

/// The projects' error events stored in `[from, to)` (RFC 3339, as stored), for the alert rules
/// and the daily summary alike. A stored error event that cannot be read is a damaged row: it is
/// reported with its place (an error log line and `MONITOR_UNREADABLE_EVENTS_TOTAL`), never
/// quietly left out of the counts.
pub(crate) async fn project_errors(
    store: &ytmaker_store::Store,
    from: &str,
    to: &str,
) -> YtResult<Vec<ProjectError>> {
    let mut errors = Vec::new();
    for read in store
        .events_of_kind_between(EventKind::Error, from, to)
        .await?
    {
        let error = read.and_then(|event| {
            let at_ms = parse_ms(&event.created_at);
            match (&event.event, at_ms) {
                (ProjectEvent::Error(info), Some(at_ms)) => Ok(ProjectError {
                    at_ms,
                    code: info.error_code,
                    trace_id: event.trace_id.clone(),
                }),
                _ => Err(YtError::new(
                    ErrorCode::DATABASE_ERROR,
                    "an error event has no readable time",
                )
                .detail("seq", event.seq)
                .detail("project_id", event.project_id.to_string())
                .detail("created_at", event.created_at.as_str())),
            }
        });
        match error {
            Ok(error) => errors.push(error),
            Err(e) => {
                metrics::counter!(ytmaker_core::metric::MONITOR_UNREADABLE_EVENTS_TOTAL)
                    .increment(1);
                tracing::error!(
                    error_code = %e.code,
                    details = %serde_json::Value::Object(e.details.clone()),
                    "an error event cannot be read by the monitor: {}",
                    e.message
                );
            }
        }
    }
    Ok(errors)
}

/// What one evaluation looks at.
pub struct Inputs {
    pub now_ms: i64,
    /// Calls of the lookback window, oldest first.
    pub calls: Vec<ProviderCall>,
    /// Per API, its latest calls, newest first (for "in a row").
    pub latest: BTreeMap<String, Vec<ProviderCall>>,
    pub project_errors: Vec<ProjectError>,
    pub database: YtResult<()>,
    pub queue: YtResult<QueueStats>,
    pub ffmpeg: YtResult<(String, String)>,
    pub disk: YtResult<DiskReading>,
    /// `QuotaStatus` JSON per provider.
    pub quotas: YtResult<Vec<Value>>,
}

/// One (rule, subject) that fires now.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    pub rule: RuleId,
    pub subject: String,
    pub message: String,
    pub details: Value,
    /// When each occurrence was seen (calls, failures; `now` for a state), for de-duplication:
    /// an open alert counts only the ones after its `last_seen`.
    pub seen_ms: Vec<i64>,
}

fn window_start(rule: &Rule, now_ms: i64) -> i64 {
    rule.window.map_or(i64::MIN, |w| {
        now_ms - i64::try_from(w.as_millis()).unwrap_or(i64::MAX)
    })
}

fn succeeded_after(inputs: &Inputs, api: &str, after_ms: i64) -> bool {
    inputs
        .calls
        .iter()
        .any(|c| c.api == api && c.error_code.is_none() && c.at_ms > after_ms)
}

/// Calls and project failures with one of `codes` in the rule's window, per API. A project
/// failure is counted only when no recorded call of its run already carries the code.
fn code_signals(
    inputs: &Inputs,
    rule: &Rule,
    codes: &[ErrorCode],
) -> BTreeMap<String, Vec<(i64, ErrorCode)>> {
    let since = window_start(rule, inputs.now_ms);
    let wanted = |raw: &str| codes.iter().copied().find(|c| c.as_str() == raw);
    let mut by_api: BTreeMap<String, Vec<(i64, ErrorCode)>> = BTreeMap::new();
    let mut seen_runs = HashSet::new();
    for call in inputs.calls.iter().filter(|c| c.at_ms >= since) {
        if let Some(code) = call.error_code.as_deref().and_then(wanted) {
            by_api
                .entry(call.api.clone())
                .or_default()
                .push((call.at_ms, code));
            if let Some(trace) = &call.trace_id {
                seen_runs.insert((trace.clone(), code));
            }
        }
    }
    for err in inputs.project_errors.iter().filter(|e| e.at_ms >= since) {
        if !codes.contains(&err.code) {
            continue;
        }
        let counted = err
            .trace_id
            .as_ref()
            .is_some_and(|t| seen_runs.contains(&(t.clone(), err.code)));
        if let (false, Some(api)) = (counted, api_of(err.code)) {
            by_api
                .entry(api.to_owned())
                .or_default()
                .push((err.at_ms, err.code));
        }
    }
    by_api
}

/// Which (rule, subject) pairs fire, most urgent rule first; suppressed ones are left out.
pub fn firing(inputs: &Inputs, config: &MonitorConfig) -> Vec<Firing> {
    let mut out: Vec<Firing> = Vec::new();
    for rule in RULES {
        let mut found = fire_rule(rule, inputs, config);
        found.retain(|f| {
            !rule
                .suppressed_by
                .iter()
                .any(|s| out.iter().any(|o| o.rule == *s && o.subject == f.subject))
        });
        out.extend(found);
    }
    out
}

fn fire_rule(rule: &Rule, inputs: &Inputs, config: &MonitorConfig) -> Vec<Firing> {
    let now = inputs.now_ms;
    let state = |subject: &str, message: String, details: Value| Firing {
        rule: rule.id,
        subject: subject.into(),
        message,
        details,
        seen_ms: vec![now],
    };
    match rule.watch {
        Watch::Codes(codes) => code_signals(inputs, rule, codes)
            .into_iter()
            .filter_map(|(api, signals)| {
                let (last_ms, last_code) = *signals.iter().max_by_key(|(at, _)| *at)?;
                // A success after the latest refusal means the cause is gone.
                if succeeded_after(inputs, &api, last_ms) {
                    return None;
                }
                Some(Firing {
                    rule: rule.id,
                    message: format!(
                        "{api}: {} ({last_code}, {} time(s))",
                        rule.summary,
                        signals.len()
                    ),
                    details: json!({ "code": last_code, "api": api, "count": signals.len() }),
                    seen_ms: signals.iter().map(|(at, _)| *at).collect(),
                    subject: api,
                })
            })
            .collect(),
        Watch::DatabasePing => match &inputs.database {
            Ok(()) => vec![],
            Err(e) => vec![state(
                "database",
                format!("{}: {}", rule.summary, e.message),
                json!({ "code": e.code }),
            )],
        },
        Watch::QueueStats => match &inputs.queue {
            Ok(_) => vec![],
            Err(e) => vec![state(
                "queue",
                format!("{}: {}", rule.summary, e.message),
                json!({ "code": e.code }),
            )],
        },
        Watch::Ffmpeg(codes) => {
            let since = window_start(rule, now);
            let failures: Vec<&ProjectError> = inputs
                .project_errors
                .iter()
                .filter(|e| e.at_ms >= since && codes.contains(&e.code))
                .collect();
            match (&inputs.ffmpeg, failures.last()) {
                (Err(e), _) => vec![state(
                    "ffmpeg",
                    format!("{}: {}", rule.summary, e.message),
                    json!({ "code": e.code }),
                )],
                (Ok(_), Some(last)) => vec![Firing {
                    rule: rule.id,
                    subject: "ffmpeg".into(),
                    message: format!(
                        "{}: {} project failure(s) with {} in the last hour",
                        rule.summary,
                        failures.len(),
                        last.code
                    ),
                    details: json!({ "code": last.code, "count": failures.len() }),
                    seen_ms: failures.iter().map(|e| e.at_ms).collect(),
                }],
                (Ok(_), None) => vec![],
            }
        }
        Watch::DiskFree { render_floor, .. } => {
            let below = if render_floor {
                config.disk_critical_percent
            } else {
                config.disk_low_percent
            };
            match &inputs.disk {
                Ok(reading) => {
                    let percent = reading.space.free_percent();
                    let floor = render_floor
                        .then_some(reading.render_refused.as_ref())
                        .flatten();
                    if percent >= below && floor.is_none() {
                        return vec![];
                    }
                    let why = match floor {
                        Some(e) => e.message.clone(),
                        None => format!("{percent:.1} % free (below {below} %)"),
                    };
                    vec![state(
                        "disk",
                        format!("{}: {why}", rule.summary),
                        json!({
                            "code": rule.code,
                            "free_bytes": reading.space.free_bytes,
                            "total_bytes": reading.space.total_bytes,
                            "free_percent": (percent * 10.0).round() / 10.0,
                            "threshold_percent": below,
                            "render_refused": floor.is_some(),
                        }),
                    )]
                }
                // The disk cannot even be measured: that is the critical alert's business.
                Err(e) if render_floor => vec![state(
                    "disk",
                    format!("{}: {}", rule.summary, e.message),
                    json!({ "code": e.code }),
                )],
                Err(_) => vec![],
            }
        }
        Watch::Quota {
            below_percent,
            exhausted,
        } => {
            let mut out = Vec::new();
            let mut subjects = HashSet::new();
            // Usage that cannot be read at all may be exhausted: say so rather than stay quiet.
            if let Err(e) = &inputs.quotas {
                out.push(state(
                    "quotas",
                    format!(
                        "{}: quota usage cannot be read: {}",
                        rule.summary, e.message
                    ),
                    json!({ "code": e.code, "unreadable": true }),
                ));
            }
            if let Ok(quotas) = &inputs.quotas {
                for q in quotas {
                    // A quota that could not be read is shown with its error; never guessed.
                    if !q["error"].is_null() {
                        continue;
                    }
                    let (Some(provider), Some(limit), Some(remaining)) = (
                        q["provider"].as_str(),
                        q["limit"].as_u64(),
                        q["remaining"].as_u64(),
                    ) else {
                        continue;
                    };
                    if limit == 0 || (remaining as f64) * 100.0 >= below_percent * limit as f64 {
                        continue;
                    }
                    subjects.insert(provider.to_owned());
                    out.push(state(
                        provider,
                        format!(
                            "{provider}: {} ({remaining} of {limit} {} left)",
                            rule.summary,
                            q["unit"].as_str().unwrap_or("units")
                        ),
                        json!({ "code": rule.code, "used": q["used"], "limit": limit, "remaining": remaining, "resets_at": q["resets_at"] }),
                    ));
                }
            }
            for (api, signals) in code_signals(inputs, rule, exhausted) {
                let Some(&(last_ms, last_code)) = signals.iter().max_by_key(|(at, _)| *at) else {
                    continue;
                };
                if subjects.contains(&api) || succeeded_after(inputs, &api, last_ms) {
                    continue;
                }
                out.push(Firing {
                    rule: rule.id,
                    message: format!("{api}: quota exhausted ({last_code})"),
                    details: json!({ "code": last_code, "api": api, "count": signals.len() }),
                    seen_ms: signals.iter().map(|(at, _)| *at).collect(),
                    subject: api,
                });
            }
            out
        }
        Watch::ConsecutiveFailures { more_than } => inputs
            .latest
            .iter()
            .filter_map(|(api, latest)| {
                let run: Vec<&ProviderCall> = latest
                    .iter()
                    .take_while(|c| c.error_code.is_some())
                    .collect();
                if run.len() <= more_than as usize {
                    return None;
                }
                let code = run.first().and_then(|c| c.error_code.clone());
                Some(Firing {
                    rule: rule.id,
                    subject: api.clone(),
                    message: format!(
                        "{api}: the last {} calls failed (latest {})",
                        run.len(),
                        code.as_deref().unwrap_or_default()
                    ),
                    details: json!({ "code": code, "api": api, "consecutive": run.len() }),
                    seen_ms: run.iter().map(|c| c.at_ms).collect(),
                })
            })
            .collect(),
        Watch::ErrorRate {
            above_percent,
            min_calls,
        } => {
            let since = window_start(rule, now);
            // Failures a narrower rule explains (a refused key) are that rule's business, also
            // after it cleared: they do not make an error rate.
            let explained: Vec<&str> = rule
                .suppressed_by
                .iter()
                .filter_map(|id| match id.rule().watch {
                    Watch::Codes(codes) => Some(codes),
                    _ => None,
                })
                .flatten()
                .map(|c| c.as_str())
                .collect();
            APIS.iter()
                .filter_map(|api| {
                    let calls: Vec<&ProviderCall> = inputs
                        .calls
                        .iter()
                        .filter(|c| c.api == *api && c.at_ms >= since)
                        .filter(|c| {
                            c.error_code
                                .as_deref()
                                .is_none_or(|code| !explained.contains(&code))
                        })
                        .collect();
                    let errors: Vec<&&ProviderCall> =
                        calls.iter().filter(|c| c.error_code.is_some()).collect();
                    let total = calls.len() as u64;
                    if total < min_calls
                        || (errors.len() as f64) * 100.0 <= above_percent * total as f64
                    {
                        return None;
                    }
                    let rate = errors.len() as f64 * 100.0 / total as f64;
                    Some(Firing {
                        rule: rule.id,
                        subject: (*api).into(),
                        message: format!(
                            "{api}: {rate:.0} % of {total} calls failed in the last 15 minutes"
                        ),
                        details: json!({
                            "code": errors.last().and_then(|c| c.error_code.clone()),
                            "api": api, "calls": total, "errors": errors.len(),
                        }),
                        seen_ms: errors.iter().map(|c| c.at_ms).collect(),
                    })
                })
                .collect()
        }
    }
}

fn parse_ms(rfc3339: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp_millis())
}

/// What an evaluation did.
#[derive(Debug, Default)]
pub struct Evaluation {
    pub opened: Vec<Alert>,
    pub resolved: Vec<Alert>,
    /// Every alert open after the evaluation, most urgent first.
    pub open: Vec<Alert>,
}

/// The monitor: evaluates the rules and delivers what changed. One per process; clones share
/// the lock that keeps this process's evaluations from overlapping (other processes are kept
/// apart by the database: the unique open alert, the resolve and notice compare-and-sets).
#[derive(Clone)]
pub struct Monitor {
    ctx: MonitorContext,
    webhook: Option<Webhook>,
    running: Arc<Mutex<()>>,
    summary_looked_at: Arc<Mutex<Option<chrono::NaiveDate>>>,
    /// The failure the loop is in, if any (so it is reported once, not every tick).
    outage: Arc<Mutex<Option<YtError>>>,
    /// The last quota report and when it was read.
    quota_cache: Arc<Mutex<Option<QuotaReading>>>,
}

impl Monitor {
    pub fn new(ctx: MonitorContext) -> YtResult<Monitor> {
        ctx.config.validate()?;
        let webhook = match &ctx.config.webhook_url {
            Some(url) => Some(Webhook::new(
                WebhookTarget::parse(url)?,
                ctx.retry_delay_scale,
            )?),
            None => None,
        };
        Ok(Monitor {
            ctx,
            webhook,
            running: Arc::new(Mutex::new(())),
            summary_looked_at: Arc::new(Mutex::new(None)),
            outage: Arc::new(Mutex::new(None)),
            quota_cache: Arc::new(Mutex::new(None)),
        })
    }

    pub fn context(&self) -> &MonitorContext {
        &self.ctx
    }

    /// Reads everything the rules look at. A failing source is an input (database down, disk
    /// unreadable), not an evaluation error; only the event reads need the database.
    pub async fn gather(&self, now_ms: i64) -> YtResult<Inputs> {
        let store = &self.ctx.store;
        let database = health::database(store).await;
        let queue = health::queue(store).await;
        let ffmpeg = match &self.ctx.tools {
            Ok(tools) => health::ffmpeg(tools).await,
            Err(e) => Err(e.clone()),
        };
        let disk = health::disk(&self.ctx.data);
        let quotas = self.quotas(now_ms).await;
        if let Err(e) = &database {
            // Without the database nothing can be read or stored; the caller logs this.
            return Err(e.clone());
        }
        let since = now_ms - LOOKBACK.as_millis() as i64;
        let calls = store.provider_calls_since(since).await?;
        let mut latest = BTreeMap::new();
        let depth = RULES
            .iter()
            .filter_map(|r| match r.watch {
                Watch::ConsecutiveFailures { more_than } => Some(more_than + 1),
                _ => None,
            })
            .max()
            .unwrap_or(1);
        for api in APIS {
            latest.insert(
                api.to_owned(),
                store.recent_provider_calls(api, depth).await?,
            );
        }
        let from = crate::view::rfc3339_ms(since);
        let to = crate::view::rfc3339_ms(now_ms + 1);
        let project_errors = project_errors(store, &from, &to).await?;
        Ok(Inputs {
            now_ms,
            calls,
            latest,
            project_errors,
            database,
            queue,
            ffmpeg,
            disk,
            quotas,
        })
    }

    /// One evaluation at `now_ms`: open, bump and resolve alerts, then deliver notices and the
    /// daily summary. Logs one line per opened or resolved alert.
    pub async fn evaluate_once(&self, now_ms: i64) -> YtResult<Evaluation> {
        let _one_at_a_time = self.running.lock().await;
        let inputs = self.gather(now_ms).await?;
        let fired = firing(&inputs, &self.ctx.config);
        let store = &self.ctx.store;
        let open = store.alerts(Some(AlertState::Open), 10_000).await?;
        let mut evaluation = Evaluation::default();
        for f in &fired {
            let rule = f.rule.rule();
            let existing = open
                .iter()
                .find(|a| a.rule == f.rule.as_str() && a.subject == f.subject);
            match existing {
                Some(alert) => {
                    let new: Vec<i64> = f
                        .seen_ms
                        .iter()
                        .copied()
                        .filter(|at| *at > alert.last_seen_ms)
                        .collect();
                    if let Some(latest) = new.iter().max() {
                        store
                            .bump_alert(alert.id, *latest, new.len() as u64, &f.message, &f.details)
                            .await?;
                    }
                }
                None => {
                    let first = f.seen_ms.iter().copied().min().unwrap_or(now_ms);
                    let last = f.seen_ms.iter().copied().max().unwrap_or(now_ms);
                    let new = NewAlert {
                        rule: f.rule.as_str().into(),
                        priority: priority_label(rule.priority).into(),
                        subject: f.subject.clone(),
                        message: f.message.clone(),
                        details: f.details.clone(),
                        first_seen_ms: first,
                        last_seen_ms: last,
                        occurrences: f.seen_ms.len().max(1) as u64,
                    };
                    // None: another evaluator opened it a moment ago; it reports it.
                    if let Some(alert) = store.open_alert(&new).await? {
                        log_opened(&alert, rule);
                        metrics::counter!(ytmaker_core::metric::ALERTS_RAISED_TOTAL, "rule" => rule.id.as_str())
                            .increment(1);
                        evaluation.opened.push(alert);
                    }
                }
            }
        }
        for alert in &open {
            let still = fired
                .iter()
                .any(|f| f.rule.as_str() == alert.rule && f.subject == alert.subject);
            if still {
                continue;
            }
            let clears = match RuleId::parse(&alert.rule) {
                Some(id) => match id.rule().clears {
                    Clears::WhenConditionStops => true,
                    Clears::WhenCallSucceeds => {
                        succeeded_after(&inputs, &alert.subject, alert.last_seen_ms)
                    }
                },
                // A rule this version no longer has can never fire again.
                None => true,
            };
            if clears && store.resolve_alert(alert.id, now_ms).await? {
                let resolved = store.alert(alert.id).await?;
                log_resolved(&resolved);
                evaluation.resolved.push(resolved);
            }
        }
        evaluation.open = store.alerts(Some(AlertState::Open), 10_000).await?;
        evaluation
            .open
            .sort_by_key(|a| (a.priority.clone(), std::cmp::Reverse(a.first_seen_ms)));
        for p in [Priority::P0, Priority::P1] {
            let label = priority_label(p);
            let n = evaluation
                .open
                .iter()
                .filter(|a| a.priority == label)
                .count();
            metrics::gauge!(ytmaker_core::metric::ALERTS_OPEN, "priority" => label).set(n as f64);
        }
        if let Some(webhook) = &self.webhook {
            self.deliver_notices(webhook, now_ms).await?;
            // Yesterday is looked at once per day by this process (the database keeps it from
            // being posted twice by any).
            let mut looked_at = self.summary_looked_at.lock().await;
            if *looked_at != Some(crate::summary::yesterday(now_ms)) {
                *looked_at = Some(crate::summary::post_daily(&self.ctx, webhook, now_ms).await?);
            }
        }
        Ok(evaluation)
    }

    async fn deliver_notices(&self, webhook: &Webhook, now_ms: i64) -> YtResult<()> {
        let store = &self.ctx.store;
        for (alert, notice) in store.alerts_awaiting_notice().await? {
            if !store
                .claim_alert_notice(alert.id, notice, now_ms, NOTICE_LEASE_MS)
                .await?
            {
                continue;
            }
            let what = format!("alert {} ({} {})", alert.id, alert.rule, alert.subject);
            let outcome = webhook.post(&alert_message(&alert), &what).await;
            let error = outcome.result.as_ref().err().map(|e| e.message.clone());
            store
                .record_alert_notice(
                    alert.id,
                    notice,
                    match &error {
                        None => Ok(()),
                        Some(message) => Err(message.as_str()),
                    },
                    outcome.attempts,
                    now_ms,
                )
                .await?;
            if error.is_none() {
                tracing::info!(
                    alert_id = %alert.id,
                    rule = alert.rule.as_str(),
                    notice = if notice == Notice::Opened { "opened" } else { "resolved" },
                    host = webhook.host(),
                    attempts = outcome.attempts,
                    "alert posted to the webhook"
                );
            }
        }
        Ok(())
    }

    /// The quota report, read at most every [`QUOTA_READ_EVERY_MS`]: the quota rule is P1
    /// ("within the hour"), and reading D-ID's credits is a call to D-ID.
    async fn quotas(&self, now_ms: i64) -> YtResult<Vec<Value>> {
        let mut cached = self.quota_cache.lock().await;
        if let Some((at, report)) = cached.as_ref()
            && now_ms - at < QUOTA_READ_EVERY_MS
            && now_ms >= *at
        {
            return report.clone();
        }
        let report = self.ctx.current_quotas().await;
        *cached = Some((now_ms, report.clone()));
        report
    }

    /// One tick of the loop: an evaluation. When it fails — above all when the database cannot
    /// be reached, so no alert can be stored — the failure is logged once per outage, and a
    /// database outage (the P0 `database_down`) is posted to the webhook once, as is its end.
    pub async fn tick(&self, now_ms: i64) -> YtResult<Evaluation> {
        let result = self.evaluate_once(now_ms).await;
        let mut outage = self.outage.lock().await;
        match (&result, outage.is_some()) {
            (Err(e), false) => {
                *outage = Some(e.clone());
                log_evaluation_failure(e);
                if let (ErrorCode::DATABASE_ERROR, Some(webhook)) = (e.code, &self.webhook) {
                    let text = format!("[P0] database_down (database): {}", e.message);
                    webhook
                        .post(&json!({ "text": text }), "the database_down notice")
                        .await;
                }
            }
            (Ok(_), true) => {
                if let Some(ended) = outage.take() {
                    tracing::info!(
                        rule = RuleId::DatabaseDown.as_str(),
                        error_code = %ended.code,
                        "alert evaluation works again"
                    );
                    if let (ErrorCode::DATABASE_ERROR, Some(webhook)) = (ended.code, &self.webhook)
                    {
                        let text =
                            "[resolved] database_down (database): the database answers again";
                        webhook
                            .post(&json!({ "text": text }), "the database_down resolution")
                            .await;
                    }
                }
            }
            _ => {}
        }
        result
    }

    /// Ticks every `interval` until the task is dropped (see [`Monitor::tick`]).
    pub fn spawn_loop(self, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                if let Err(e) = self.tick(now_ms()).await {
                    // `tick` logged it at error level when the outage began; the next tick
                    // tries again.
                    tracing::debug!(error_code = %e.code, "alert evaluation failed again");
                }
            }
        })
    }
}

fn log_evaluation_failure(e: &YtError) {
    let priority = if e.code == ErrorCode::DATABASE_ERROR {
        // The database being down is itself the P0 `database_down`, which cannot be stored.
        "P0"
    } else {
        priority_label(e.code.spec().priority)
    };
    tracing::error!(
        rule = RuleId::DatabaseDown.as_str(),
        priority,
        error_code = %e.code,
        "alert evaluation failed: {}",
        e.message
    );
}

fn log_opened(alert: &Alert, rule: &Rule) {
    let code = alert.details["code"].as_str().unwrap_or(rule.code.as_str());
    macro_rules! line {
        ($level:expr) => {
            tracing::event!(
                $level,
                alert_id = %alert.id,
                rule = alert.rule.as_str(),
                priority = alert.priority.as_str(),
                subject = alert.subject.as_str(),
                error_code = code,
                occurrences = alert.occurrences,
                "alert opened: {}",
                alert.message
            )
        };
    }
    match rule.priority {
        Priority::P0 => line!(tracing::Level::ERROR),
        _ => line!(tracing::Level::WARN),
    }
}

fn log_resolved(alert: &Alert) {
    let code = alert.details["code"].as_str().unwrap_or_default();
    tracing::info!(
        alert_id = %alert.id,
        rule = alert.rule.as_str(),
        priority = alert.priority.as_str(),
        subject = alert.subject.as_str(),
        error_code = code,
        occurrences = alert.occurrences,
        "alert resolved: {}",
        alert.message
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ytmaker_pipeline::DiskSpace;

    fn call(api: &str, at_ms: i64, code: Option<&str>) -> ProviderCall {
        ProviderCall {
            at_ms,
            api: api.into(),
            endpoint: "generate".into(),
            status: Some(if code.is_some() { 500 } else { 200 }),
            error_code: code.map(str::to_owned),
            duration_ms: 100,
            quota_units: 0,
            project_id: None,
            trace_id: None,
        }
    }

    const NOW: i64 = 1_800_000_000_000;

    fn inputs(calls: Vec<ProviderCall>, free_percent: u64) -> Inputs {
        let mut latest: BTreeMap<String, Vec<ProviderCall>> = BTreeMap::new();
        for c in calls.iter().rev() {
            latest.entry(c.api.clone()).or_default().push(c.clone());
        }
        Inputs {
            now_ms: NOW,
            calls,
            latest,
            project_errors: vec![],
            database: Ok(()),
            queue: Ok(QueueStats {
                queued: 0,
                running: 0,
                oldest_queued_ms: 0,
            }),
            ffmpeg: Ok(("ffmpeg 7".into(), "ffprobe 7".into())),
            disk: Ok(DiskReading {
                space: DiskSpace {
                    free_bytes: free_percent,
                    total_bytes: 100,
                },
                render_refused: None,
            }),
            quotas: Ok(vec![]),
        }
    }

    fn rules_of(f: &[Firing]) -> Vec<(&'static str, &str)> {
        f.iter()
            .map(|f| (f.rule.as_str(), f.subject.as_str()))
            .collect()
    }

    fn failures(api: &str, n: i64, code: &str) -> Vec<ProviderCall> {
        (0..n)
            .map(|i| call(api, NOW - 60_000 + i, Some(code)))
            .collect()
    }

    #[test]
    fn more_than_five_failures_in_a_row_fire_and_a_success_clears_them() {
        let config = MonitorConfig::default();
        let five = failures("stability", 5, "STABILITY_SERVER_ERROR");
        assert!(firing(&inputs(five.clone(), 50), &config).is_empty());
        let six = failures("stability", 6, "STABILITY_SERVER_ERROR");
        let fired = firing(&inputs(six.clone(), 50), &config);
        assert_eq!(
            rules_of(&fired),
            [("provider_consecutive_failures", "stability")]
        );
        assert_eq!(fired[0].seen_ms.len(), 6);
        let mut recovered = six;
        recovered.push(call("stability", NOW - 1_000, None));
        assert!(firing(&inputs(recovered, 50), &config).is_empty());
    }

    #[test]
    fn an_invalid_key_is_one_p0_that_hides_the_failures_it_causes() {
        let config = MonitorConfig::default();
        let mut calls = failures("stability", 12, "STABILITY_INVALID_API_KEY");
        calls.push(call("gemini", NOW - 10, None));
        let fired = firing(&inputs(calls.clone(), 50), &config);
        assert_eq!(rules_of(&fired), [("provider_key_invalid", "stability")]);
        assert_eq!(fired[0].details["code"], "STABILITY_INVALID_API_KEY");
        assert_eq!(fired[0].seen_ms.len(), 12);
        // A later success clears the key alert (the earlier failures no longer fire anything).
        calls.push(call("stability", NOW - 5, None));
        assert!(firing(&inputs(calls, 50), &config).is_empty());
    }

    #[test]
    fn the_error_rate_needs_enough_calls_and_more_than_ten_percent() {
        let config = MonitorConfig::default();
        // 2 failures among 10 calls, not in a row: 20 %.
        let mut calls: Vec<ProviderCall> = (0..10)
            .map(|i| {
                let code = (i % 5 == 0).then_some("GEMINI_SERVER_ERROR");
                call("gemini", NOW - 100_000 + i, code)
            })
            .collect();
        let fired = firing(&inputs(calls.clone(), 50), &config);
        assert_eq!(rules_of(&fired), [("provider_error_rate", "gemini")]);
        // One failure of 3 calls is not an error-rate alert.
        calls.truncate(3);
        assert!(firing(&inputs(calls, 50), &config).is_empty());
        // Calls older than 15 minutes do not count.
        let old: Vec<ProviderCall> = (0..10)
            .map(|i| {
                call(
                    "gemini",
                    NOW - 20 * 60_000 + i,
                    (i % 2 == 0).then_some("GEMINI_SERVER_ERROR"),
                )
            })
            .collect();
        assert!(firing(&inputs(old, 50), &config).is_empty());
    }

    #[test]
    fn disk_thresholds_are_configurable_and_critical_hides_low() {
        let config = MonitorConfig::default();
        assert_eq!(
            rules_of(&firing(&inputs(vec![], 15), &config)),
            [("disk_low", "disk")]
        );
        assert_eq!(
            rules_of(&firing(&inputs(vec![], 5), &config)),
            [("disk_critical", "disk")]
        );
        assert!(firing(&inputs(vec![], 25), &config).is_empty());
        let strict = MonitorConfig {
            disk_low_percent: 30.0,
            ..MonitorConfig::default()
        };
        assert_eq!(
            rules_of(&firing(&inputs(vec![], 25), &strict)),
            [("disk_low", "disk")]
        );
        let mut floor = inputs(vec![], 60);
        if let Ok(d) = &mut floor.disk {
            d.render_refused = Some(YtError::new(ErrorCode::DISK_SPACE_INSUFFICIENT, "floor"));
        }
        assert_eq!(
            rules_of(&firing(&floor, &config)),
            [("disk_critical", "disk")]
        );
    }

    #[test]
    fn quotas_fire_below_ten_percent_or_when_exhausted_and_unreadable_ones_are_skipped() {
        let config = MonitorConfig::default();
        let mut i = inputs(vec![], 50);
        i.quotas = Ok(vec![
            json!({ "provider": "youtube", "unit": "units", "used": 9_200, "limit": 10_000, "remaining": 800, "error": null }),
            json!({ "provider": "gemini", "unit": "requests", "used": 10, "limit": 100, "remaining": 90, "error": null }),
            json!({ "provider": "did", "unit": "credits", "used": 0, "limit": null, "remaining": null, "error": { "code": "DID_SERVER_ERROR" } }),
        ]);
        i.calls = vec![call(
            "stability",
            NOW - 10,
            Some("STABILITY_QUOTA_EXCEEDED"),
        )];
        let fired = firing(&i, &config);
        assert_eq!(
            rules_of(&fired),
            [("quota_low", "youtube"), ("quota_low", "stability")]
        );
    }

    #[test]
    fn quota_usage_that_cannot_be_read_at_all_fires_instead_of_skipping_the_rule() {
        let config = MonitorConfig::default();
        let mut i = inputs(vec![], 50);
        i.quotas = Err(YtError::new(
            ErrorCode::DATABASE_ERROR,
            "provider_calls unreadable",
        ));
        let fired = firing(&i, &config);
        assert_eq!(rules_of(&fired), [("quota_low", "quotas")]);
        assert_eq!(fired[0].details["code"], "DATABASE_ERROR");
    }

    #[test]
    fn down_services_and_ffmpeg_failures_fire_p0() {
        let config = MonitorConfig::default();
        let mut i = inputs(vec![], 50);
        i.queue = Err(YtError::new(ErrorCode::QUEUE_CONNECTION_FAILED, "gone"));
        i.project_errors = vec![ProjectError {
            at_ms: NOW - 1_000,
            code: ErrorCode::FFMPEG_EXECUTION_FAILED,
            trace_id: None,
        }];
        assert_eq!(
            rules_of(&firing(&i, &config)),
            [("queue_down", "queue"), ("ffmpeg_failing", "ffmpeg")]
        );
        i.project_errors[0].at_ms = NOW - 2 * 3600 * 1000;
        assert_eq!(rules_of(&firing(&i, &config)), [("queue_down", "queue")]);
    }
}
