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
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_store::{Alert, AlertState, NewAlert, Notice, ProviderCall, QueueStats, now_ms};

use crate::health::{self, DiskReading};
use crate::rules::{Clears, RULES, Rule, RuleId, Watch, api_of, priority_label};
use crate::view::APIS;
use crate::webhook::{Webhook, WebhookTarget, alert_message};
use crate::{MonitorConfig, MonitorContext};

/// How far back provider calls and project failures are read.
const LOOKBACK: Duration = Duration::from_secs(24 * 3600);
/// How long a notice claim holds off other evaluators (longer than a post with its retries).
const NOTICE_LEASE_MS: i64 = 5 * 60 * 1000;

/// A project failure, as the monitor reads it from `error` events.
#[derive(Clone, Debug)]
pub struct ProjectError {
    pub at_ms: i64,
    pub code: ErrorCode,
    pub trace_id: Option<String>,
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
    rule.window
        .map_or(i64::MIN, |w| now_ms - i64::try_from(w.as_millis()).unwrap_or(i64::MAX))
}

fn succeeded_after(inputs: &Inputs, api: &str, after_ms: i64) -> bool {
    inputs
        .calls
        .iter()
        .any(|c| c.api == api && c.error_code.is_none() && c.at_ms > after_ms)
}

/// Calls and project failures with one of `codes` in the rule's window, per API. A project
/// failure is counted only when no recorded call of its run already carries the code.
fn code_signals(inputs: &Inputs, rule: &Rule, codes: &[ErrorCode]) -> BTreeMap<String, Vec<(i64, ErrorCode)>> {
    let since = window_start(rule, inputs.now_ms);
    let wanted = |raw: &str| codes.iter().copied().find(|c| c.as_str() == raw);
    let mut by_api: BTreeMap<String, Vec<(i64, ErrorCode)>> = BTreeMap::new();
    let mut seen_runs = HashSet::new();
    for call in inputs.calls.iter().filter(|c| c.at_ms >= since) {
        if let Some(code) = call.error_code.as_deref().and_then(wanted) {
            by_api.entry(call.api.clone()).or_default().push((call.at_ms, code));
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
            by_api.entry(api.to_owned()).or_default().push((err.at_ms, err.code));
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
            APIS.iter()
                .filter_map(|api| {
                    let calls: Vec<&ProviderCall> = inputs
                        .calls
                        .iter()
                        .filter(|c| c.api == *api && c.at_ms >= since)
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
        let ffmpeg = health::ffmpeg(&self.ctx.tools).await;
        let disk = health::disk(&self.ctx.data);
        let quotas = self.ctx.quotas.current().await;
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
            latest.insert(api.to_owned(), store.recent_provider_calls(api, depth).await?);
        }
        let from = crate::view::rfc3339_ms(since);
        let to = crate::view::rfc3339_ms(now_ms + 1);
        let mut project_errors = Vec::new();
        for event in store.events_of_kind_between("error", &from, &to).await? {
            let code = event.payload["error_code"].as_str().and_then(ErrorCode::parse);
            let at = parse_ms(&event.created_at);
            if let (Some(code), Some(at_ms)) = (code, at) {
                project_errors.push(ProjectError {
                    at_ms,
                    code,
                    trace_id: event.trace_id.clone(),
                });
            }
        }
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
                        metrics::counter!("ytmaker_alerts_raised_total", "rule" => rule.id.as_str())
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
            let n = evaluation.open.iter().filter(|a| a.priority == label).count();
            metrics::gauge!("ytmaker_alerts_open", "priority" => label).set(n as f64);
        }
        if let Some(webhook) = &self.webhook {
            self.deliver_notices(webhook, now_ms).await?;
            crate::summary::post_daily(&self.ctx, webhook, now_ms).await?;
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

    /// Evaluates every `interval` until the task is dropped. A failed evaluation is logged with
    /// its code and tried again at the next tick.
    pub fn spawn_loop(self, interval: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                ticks.tick().await;
                match self.evaluate_once(now_ms()).await {
                    Ok(_) => {
                        if failing {
                            tracing::info!("alert evaluation works again");
                        }
                        failing = false;
                    }
                    // One line per outage, not one per tick.
                    Err(e) if !failing => {
                        failing = true;
                        log_evaluation_failure(&e);
                    }
                    Err(_) => {}
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
