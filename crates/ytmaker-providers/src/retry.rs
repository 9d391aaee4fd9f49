//! The one retry loop: a call that fails with a retryable code is made again as the catalogue's
//! policy for that code says (count, delay, fixed or exponential), waiting longer when the
//! provider's `Retry-After` asks for it. Nothing else in the product decides whether or when to
//! retry; the pipeline's checkpoints and the publish stage both run their calls through [`run`].

use std::future::Future;
use std::time::Duration;

use serde_json::Value;
use ytmaker_core::{YtError, YtResult};

/// One retry about to happen, for the caller to log and report before the wait.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Retry {
    /// 1 for the first retry.
    pub retry: u32,
    pub max_attempts: u32,
    pub delay: Duration,
}

/// Scales every wait; 1.0 in production. Tests and the fake-cloud demo shorten the catalogue's
/// delays (which reach 30 s) without changing how many attempts are made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DelayScale(pub f64);

impl Default for DelayScale {
    fn default() -> Self {
        DelayScale(1.0)
    }
}

impl DelayScale {
    pub const ENV: &'static str = "YTMAKER_RETRY_DELAY_SCALE";

    /// `$YTMAKER_RETRY_DELAY_SCALE`, a number from 0 to 1, else 1.
    pub fn from_env() -> YtResult<Self> {
        match std::env::var(Self::ENV) {
            Err(_) => Ok(DelayScale::default()),
            Ok(text) => match text.trim().parse::<f64>() {
                Ok(v) if (0.0..=1.0).contains(&v) => Ok(DelayScale(v)),
                _ => Err(YtError::invalid_field(
                    ytmaker_core::ErrorCode::CONFIG_INVALID,
                    Self::ENV,
                    "a number from 0 to 1",
                    text,
                )),
            },
        }
    }

    fn apply(self, d: Duration) -> Duration {
        d.mul_f64(self.0)
    }
}

/// Calls `attempt(n)` (n from 1) until it succeeds, fails with a code that is not retryable, or
/// the code's retries are used up. Before each retry `before_retry` is told (given the error) (it logs and reports
/// it; an error from it ends the loop), then the delay is waited. Returns the last error with the
/// number of attempts made.
pub async fn run<T, A, AFut, B, BFut>(
    scale: DelayScale,
    mut attempt: A,
    mut before_retry: B,
) -> Result<T, (YtError, u32)>
where
    A: FnMut(u32) -> AFut,
    AFut: Future<Output = YtResult<T>>,
    B: FnMut(YtError, Retry) -> BFut,
    BFut: Future<Output = YtResult<()>>,
{
    let mut made = 0u32;
    loop {
        made += 1;
        let err = match attempt(made).await {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        let policy = err.code.spec().retry;
        let retries_so_far = made - 1;
        if !policy.is_retryable() || retries_so_far >= policy.max_retries {
            return Err((err, made));
        }
        let hint = err
            .details
            .get("retry_after_ms")
            .and_then(Value::as_u64)
            .map(Duration::from_millis);
        let retry = Retry {
            retry: made,
            max_attempts: policy.max_retries + 1,
            delay: scale.apply(policy.delay_before(made, hint)),
        };
        metrics::counter!(ytmaker_core::metric::RETRIES_TOTAL, "code" => err.code.as_str())
            .increment(1);
        if let Err(report_err) = before_retry(err.clone(), retry).await {
            return Err((report_err, made));
        }
        tokio::time::sleep(retry.delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use ytmaker_core::ErrorCode;

    async fn failing_with(code: ErrorCode, succeed_on: Option<u32>) -> (Result<u32, u32>, u32) {
        let calls = AtomicU32::new(0);
        let retries = AtomicU32::new(0);
        let out = run(
            DelayScale(0.0),
            |n| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move {
                    if Some(n) == succeed_on {
                        Ok(n)
                    } else {
                        Err(YtError::new(code, "scripted"))
                    }
                }
            },
            |_, _| {
                retries.fetch_add(1, Ordering::SeqCst);
                async { Ok(()) }
            },
        )
        .await
        .map_err(|(_, attempts)| attempts);
        assert_eq!(
            retries.load(Ordering::SeqCst) + 1,
            calls.load(Ordering::SeqCst)
        );
        (out, calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn attempts_follow_the_catalogue() {
        // GEMINI_SERVER_ERROR: 3 retries; DID_SERVER_ERROR: 2; GEMINI_TIMEOUT: 1; quota: none.
        assert_eq!(
            failing_with(ErrorCode::GEMINI_SERVER_ERROR, None).await,
            (Err(4), 4)
        );
        assert_eq!(
            failing_with(ErrorCode::DID_SERVER_ERROR, None).await,
            (Err(3), 3)
        );
        assert_eq!(
            failing_with(ErrorCode::GEMINI_TIMEOUT, None).await,
            (Err(2), 2)
        );
        assert_eq!(
            failing_with(ErrorCode::DID_QUOTA_EXCEEDED, None).await,
            (Err(1), 1)
        );
        assert_eq!(
            failing_with(ErrorCode::STABILITY_RATE_LIMIT, Some(3)).await,
            (Ok(3), 3)
        );
    }

    /// The delays `run` waits for a code that always fails, as `before_retry` is told them.
    async fn delays_of(code: ErrorCode, scale: f64, retry_after_ms: Option<u64>) -> Vec<Duration> {
        let mut seen = Vec::new();
        let out: Result<(), _> = run(
            DelayScale(scale),
            |_| async {
                let err = YtError::new(code, "scripted");
                Err(match retry_after_ms {
                    Some(ms) => err.detail("retry_after_ms", ms),
                    None => err,
                })
            },
            |_, r| {
                seen.push(r.delay);
                async { Ok(()) }
            },
        )
        .await;
        assert!(out.is_err());
        seen
    }

    #[tokio::test]
    async fn waits_have_equal_jitter_within_the_catalogue_delay() {
        // STABILITY_RATE_LIMIT: exponential from 2 s, four retries; scaled to 2, 4, 8, 16 ms.
        let catalogue = [2u64, 4, 8, 16].map(Duration::from_millis);
        let mut runs = Vec::new();
        for _ in 0..3 {
            let seen = delays_of(ErrorCode::STABILITY_RATE_LIMIT, 0.001, None).await;
            assert_eq!(seen.len(), 4);
            for (delay, full) in seen.iter().zip(catalogue) {
                assert!(
                    *delay >= full / 2 && *delay <= full,
                    "{delay:?} outside [{:?}, {full:?}]",
                    full / 2
                );
            }
            runs.push(seen);
        }
        assert!(
            runs.iter()
                .flatten()
                .zip(catalogue.iter().cycle())
                .any(|(d, full)| d != full),
            "no jitter: every wait is exactly the catalogue's {runs:?}"
        );
        assert!(
            runs[0] != runs[1] || runs[1] != runs[2],
            "three runs waited the same: {runs:?}"
        );
    }

    #[tokio::test]
    async fn a_retry_after_past_the_cap_ends_the_retries_and_says_so() {
        let mut retries = 0;
        let out: Result<(), _> = run(
            DelayScale(0.0),
            |_| async {
                Err(YtError::new(ErrorCode::DID_RATE_LIMIT, "slow down")
                    .detail("retry_after_ms", 3_600_000u64))
            },
            |_, _| {
                retries += 1;
                async { Ok(()) }
            },
        )
        .await;
        let (err, attempts) = out.unwrap_err();
        assert_eq!(attempts, 1, "an hour's Retry-After is not slept through");
        assert_eq!(retries, 0);
        assert_eq!(err.code, ErrorCode::DID_RATE_LIMIT);
        assert_eq!(err.details["retry_after_ms"], 3_600_000);
        assert_eq!(err.details["retry_after_cap_ms"], 300_000);
        assert!(
            err.details["retries_stopped"]
                .as_str()
                .is_some_and(|s| s.contains("3600 s")),
            "{:?}",
            err.details
        );

        // A Retry-After of exactly the cap is waited for (scaled).
        let seen = delays_of(ErrorCode::DID_RATE_LIMIT, 0.0001, Some(300_000)).await;
        assert_eq!(seen.len(), 3);
        assert!(
            seen.iter().all(|d| *d == Duration::from_millis(30)),
            "{seen:?}"
        );
    }

    #[tokio::test]
    async fn retry_after_wins_when_longer_and_scale_shrinks_it() {
        let mut seen = Vec::new();
        let out: Result<(), _> = run(
            DelayScale(0.001),
            |_| async {
                Err(YtError::new(ErrorCode::STABILITY_RATE_LIMIT, "slow down")
                    .detail("retry_after_ms", 60_000u64))
            },
            |_, r| {
                seen.push(r);
                async { Ok(()) }
            },
        )
        .await;
        assert!(out.is_err());
        assert_eq!(seen.len(), 4);
        assert_eq!(seen[0].delay, Duration::from_millis(60));
        assert_eq!(seen[0].max_attempts, 5);
        assert_eq!(seen[3].retry, 4);
    }
}
