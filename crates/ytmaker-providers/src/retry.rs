//! The one retry loop: a call that fails with a retryable code is made again as the catalogue's
//! policy for that code says (count, delay, fixed or exponential), waiting longer when the
//! provider's `Retry-After` asks for it. Nothing else in the product decides whether or when to
//! retry; the pipeline's checkpoints and the publish stage both run their calls through [`run`].
//!
//! Each wait has *equal jitter*: half the catalogue's delay plus a random part of the other half,
//! so the many narration lines and images of a run that hit one rate limit together do not all
//! come back at the same instant. A provider's `Retry-After` is a floor (never shortened by the
//! jitter) up to [`RETRY_AFTER_CAP`]; one asking for longer ends the retries with its code, and the
//! details say so, rather than holding a worker asleep for hours.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
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

/// The longest `Retry-After` the loop waits for. A provider asking for more (a quota window, an
/// outage) is not waited out: the error ends the retries and the user retries later.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(5 * 60);

/// The random part of the waits: SplitMix64, seeded from the OS's per-process randomness in
/// production ([`Jitter::from_entropy`]) and from a fixed seed in tests ([`Jitter::seeded`]).
#[derive(Clone, Debug)]
pub struct Jitter {
    state: u64,
}

impl Jitter {
    pub fn seeded(seed: u64) -> Self {
        Jitter { state: seed }
    }

    /// A seed nobody else has: std's `RandomState` keys come from the OS's random source.
    pub fn from_entropy() -> Self {
        Jitter::seeded(RandomState::new().build_hasher().finish())
    }

    /// The next number in `[0, 1)`.
    fn next_unit(&mut self) -> f64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits fill an f64's mantissa exactly.
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Equal jitter: half of `delay`, plus a random part of the other half.
    pub fn apply(&mut self, delay: Duration) -> Duration {
        let half = delay / 2;
        half + (delay - half).mul_f64(self.next_unit())
    }
}

/// Calls `attempt(n)` (n from 1) until it succeeds, fails with a code that is not retryable, or
/// the code's retries are used up. Before each retry `before_retry` is told (given the error) (it
/// logs and reports it; an error from it ends the loop), then the delay is waited. Returns the
/// last error with the number of attempts made. The waits are jittered from the OS's randomness;
/// [`run_with`] takes the [`Jitter`].
pub async fn run<T, A, AFut, B, BFut>(
    scale: DelayScale,
    attempt: A,
    before_retry: B,
) -> Result<T, (YtError, u32)>
where
    A: FnMut(u32) -> AFut,
    AFut: Future<Output = YtResult<T>>,
    B: FnMut(YtError, Retry) -> BFut,
    BFut: Future<Output = YtResult<()>>,
{
    run_with(scale, Jitter::from_entropy(), attempt, before_retry).await
}

/// [`run`] with a given [`Jitter`] (a seeded one makes the waits reproducible).
pub async fn run_with<T, A, AFut, B, BFut>(
    scale: DelayScale,
    mut jitter: Jitter,
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
        if let Some(hint) = hint.filter(|h| *h > RETRY_AFTER_CAP) {
            let why = format!(
                "the provider asked to wait {} s (Retry-After), longer than the {} s a retry waits; not retried now, retry later",
                hint.as_secs(),
                RETRY_AFTER_CAP.as_secs()
            );
            tracing::warn!(error_code = %err.code, attempt = made, "{why}");
            let err = err
                .detail("retry_after_cap_ms", RETRY_AFTER_CAP.as_millis() as u64)
                .detail("retries_stopped", why);
            return Err((err, made));
        }
        let ours = jitter.apply(policy.delay_before(made, None));
        let wait = match hint {
            Some(hint) if hint > ours => hint,
            _ => ours,
        };
        let retry = Retry {
            retry: made,
            max_attempts: policy.max_retries + 1,
            delay: scale.apply(wait),
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

    #[test]
    fn jitter_is_reproducible_from_its_seed_and_stays_in_the_upper_half() {
        let full = Duration::from_secs(30);
        let draw = |seed| {
            let mut jitter = Jitter::seeded(seed);
            (0..1000).map(|_| jitter.apply(full)).collect::<Vec<_>>()
        };
        let a = draw(7);
        assert_eq!(a, draw(7), "same seed, same waits");
        assert_ne!(a, draw(8), "another seed, other waits");
        assert!(a.iter().all(|d| *d >= full / 2 && *d <= full));
        // Spread over the whole upper half, not stuck at one end.
        let low = a.iter().filter(|d| **d < full * 3 / 4).count();
        assert!(
            (400..=600).contains(&low),
            "{low} of 1000 in the lower quarter"
        );
        assert_eq!(Jitter::seeded(1).apply(Duration::ZERO), Duration::ZERO);
    }

    #[tokio::test]
    async fn a_seeded_run_waits_the_same_jittered_delays() {
        let waits = |seed| async move {
            let mut seen = Vec::new();
            let out: Result<(), _> = run_with(
                DelayScale(0.0001),
                Jitter::seeded(seed),
                |_| async { Err(YtError::new(ErrorCode::DID_SERVER_ERROR, "scripted")) },
                |_, r| {
                    seen.push(r.delay);
                    async { Ok(()) }
                },
            )
            .await;
            assert!(out.is_err());
            seen
        };
        let first = waits(3).await;
        assert_eq!(first, waits(3).await);
        // DID_SERVER_ERROR: two retries of 30 s, scaled to 3 ms, jittered into [1.5, 3] ms.
        let mut jitter = Jitter::seeded(3);
        let expected: Vec<_> = (0..2)
            .map(|_| DelayScale(0.0001).apply(jitter.apply(Duration::from_secs(30))))
            .collect();
        assert_eq!(first, expected);
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
