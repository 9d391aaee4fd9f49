//! Posting to the optional Slack-compatible webhook (`{"text": …, "attachments": […]}`).
//!
//! A post is retried as the catalogue says for `ALERT_WEBHOOK_FAILED`, through the one retry loop
//! (`ytmaker_providers::retry::run`); after that it is given up, logged with that code, and
//! recorded where it came from (the alert or the summary), never attempted again. The URL may
//! carry a secret token in its path, so only its host appears in logs and errors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_providers::retry::{self, DelayScale};
use ytmaker_store::{Alert, AlertState};

const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// A validated webhook address.
#[derive(Clone)]
pub struct WebhookTarget {
    url: reqwest::Url,
    /// Safe to log.
    host: String,
}

impl std::fmt::Debug for WebhookTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookTarget({})", self.host)
    }
}

impl WebhookTarget {
    pub fn parse(raw: &str) -> YtResult<WebhookTarget> {
        let refuse = |rule: &str| {
            // Only the scheme is echoed back: the rest may be a secret.
            let scheme = raw.split("://").next().unwrap_or_default();
            YtError::invalid_field(
                ErrorCode::CONFIG_INVALID,
                "monitoring.webhook_url",
                rule,
                format!("{scheme}://…"),
            )
        };
        let url = reqwest::Url::parse(raw.trim()).map_err(|_| refuse("an absolute http(s) URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refuse("an http or https URL"));
        }
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err(refuse("an http(s) URL with a host")),
        };
        Ok(WebhookTarget { url, host })
    }

    pub fn host(&self) -> &str {
        &self.host
    }
}

/// How a post ended: delivered, or given up with the last error; `attempts` either way.
pub struct PostOutcome {
    pub attempts: u32,
    pub result: Result<(), YtError>,
}

#[derive(Clone)]
pub struct Webhook {
    target: WebhookTarget,
    client: reqwest::Client,
    scale: DelayScale,
}

impl Webhook {
    pub fn new(target: WebhookTarget, scale: DelayScale) -> YtResult<Webhook> {
        let client = reqwest::Client::builder()
            .timeout(POST_TIMEOUT)
            .build()
            .map_err(|e| {
                YtError::new(
                    ErrorCode::ALERT_WEBHOOK_FAILED,
                    format!("cannot build the webhook HTTP client: {e}"),
                )
            })?;
        Ok(Webhook {
            target,
            client,
            scale,
        })
    }

    pub fn host(&self) -> &str {
        self.target.host()
    }

    async fn post_once(&self, body: &Value) -> YtResult<()> {
        let failed = |what: String| {
            YtError::new(
                ErrorCode::ALERT_WEBHOOK_FAILED,
                format!("the webhook at {} {what}", self.target.host),
            )
            .detail("host", self.target.host.clone())
        };
        let response = self
            .client
            .post(self.target.url.clone())
            .json(body)
            .send()
            .await
            // reqwest's error text names the URL; keep only what kind of failure it was.
            .map_err(|e| {
                let kind = if e.is_timeout() {
                    "timed out"
                } else if e.is_connect() {
                    "refused the connection"
                } else {
                    "could not be reached"
                };
                failed(kind.to_owned())
            })?;
        let status = response.status();
        if !status.is_success() {
            return Err(failed(format!("answered HTTP {}", status.as_u16()))
                .detail("status", status.as_u16()));
        }
        Ok(())
    }

    /// Posts `body`, retried as the catalogue says for `ALERT_WEBHOOK_FAILED`.
    pub async fn post(&self, body: &Value, what: &str) -> PostOutcome {
        let attempts = Arc::new(AtomicU32::new(0));
        let counted = attempts.clone();
        let result = retry::run(
            self.scale,
            |n| {
                counted.store(n, Ordering::SeqCst);
                self.post_once(body)
            },
            |err, r| {
                tracing::warn!(
                    error_code = %err.code,
                    host = self.target.host.as_str(),
                    attempt = r.retry,
                    max_attempts = r.max_attempts,
                    delay_ms = r.delay.as_millis() as u64,
                    "webhook post of {what} failed; retrying: {}",
                    err.message
                );
                async { Ok(()) }
            },
        )
        .await;
        let attempts = attempts.load(Ordering::SeqCst);
        match result {
            Ok(()) => PostOutcome {
                attempts,
                result: Ok(()),
            },
            Err((err, _)) => {
                tracing::error!(
                    error_code = %err.code,
                    host = self.target.host.as_str(),
                    attempts,
                    "webhook post of {what} given up: {}",
                    err.message
                );
                PostOutcome {
                    attempts,
                    result: Err(err),
                }
            }
        }
    }
}

fn color(priority: &str) -> &'static str {
    match priority {
        "P0" => "#d00000",
        "P1" => "#f2a900",
        _ => "#439fe0",
    }
}

/// The Slack-compatible message for an alert that opened or was resolved.
pub fn alert_message(alert: &Alert) -> Value {
    let (headline, colour) = match alert.state {
        AlertState::Open => (
            format!(
                "[{}] {} ({}): {}",
                alert.priority, alert.rule, alert.subject, alert.message
            ),
            color(&alert.priority),
        ),
        AlertState::Resolved => (
            format!(
                "[resolved] {} ({}): {}",
                alert.rule, alert.subject, alert.message
            ),
            "#2eb886",
        ),
    };
    let code = alert.details.get("code").cloned().unwrap_or(Value::Null);
    json!({
        "text": headline,
        "attachments": [{
            "color": colour,
            "fields": [
                { "title": "rule", "value": alert.rule, "short": true },
                { "title": "priority", "value": alert.priority, "short": true },
                { "title": "subject", "value": alert.subject, "short": true },
                { "title": "occurrences", "value": alert.occurrences.to_string(), "short": true },
                { "title": "code", "value": code, "short": true },
                { "title": "alert id", "value": alert.id.to_string(), "short": true },
            ],
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_taken_and_only_the_host_is_shown() {
        let t = WebhookTarget::parse("https://hooks.slack.example/services/T0/B0/s3cr3t").unwrap();
        assert_eq!(t.host(), "hooks.slack.example");
        assert!(!format!("{t:?}").contains("s3cr3t"));
        let local = WebhookTarget::parse("http://127.0.0.1:9999/hook").unwrap();
        assert_eq!(local.host(), "127.0.0.1:9999");
        for bad in ["ftp://x/y", "hooks.example/path", "file:///etc/passwd"] {
            let err = WebhookTarget::parse(bad).unwrap_err();
            assert_eq!(err.code, ErrorCode::CONFIG_INVALID, "{bad}");
        }
        let err = WebhookTarget::parse("ftp://host/s3cr3t").unwrap_err();
        assert!(
            !err.details
                .values()
                .any(|v| v.to_string().contains("s3cr3t"))
        );
    }
}
