//! A model-based test of the seams (issue 12): seeded random sequences of user and system actions
//! over the real product — a `ytmaker serve` process, `ytmaker projects resume|retry` processes
//! next to it on the same SQLite database, SIGKILL of either, the five real cloud clients against
//! the fake cloud with faults injected, keys removed and put back, edits and configuration
//! changes — and after every sequence the invariants of the issue:
//!
//! 1. a COMPLETED project's outputs reflect every accepted edit and configuration change (the
//!    assets they touch were made after the change, and YouTube has the final video asset);
//! 2. no paid call is made twice for the same inputs (the fake cloud's own record);
//! 3. every FAILED project has `error_info` and a stored `error` event with the same code and
//!    trace id (and an accepted start never ends in silence);
//! 4. no project sits in a running status without a live lease once nothing runs;
//! 5. the REST view, the WebSocket snapshot and the database agree.
//!
//! After the random part the sequence settles (every runner ends), the invariants 3–5 are
//! checked, then every fault is cleared, every key put back and every project continued until
//! it completes ("finish"), and all invariants are checked again, plus liveness (a project that
//! can be continued completes).
//!
//! Knobs (environment):
//! - `YTMAKER_SEAMS_CASES`: sequences to run (default 100, as `make test` runs them; `make soak`
//!   runs 2,000).
//! - `YTMAKER_SEAMS_STEPS`: random actions per sequence after the starts (default 14).
//! - `YTMAKER_SEAMS_SEED`: seed of the first case (default: from the clock, printed); case n uses
//!   seed + n, so `YTMAKER_SEAMS_SEED=<s> YTMAKER_SEAMS_CASES=1` replays one case.
//! - `YTMAKER_SEAMS_KEEP`: `1,4,5`, replay only these action indices of the case.
//! - `YTMAKER_SEAMS_SEQUENCE`: `Start(0); Pause(0); WaitFor(p0, idle); …`, run this sequence as
//!   written (what a failure prints after `replay:`; independent of the generator's version).
//! - `YTMAKER_SEAMS_SHRINK`: re-runs the shrinker may spend per failing case (default 12), and
//!   `YTMAKER_SEAMS_SHRINK_TOTAL` in the whole run (default 24).
//! - `YTMAKER_SEAMS_BUDGET_S`: start no new case after this many seconds (default 1200, which
//!   keeps `make test` within CI's time; the count run is printed; 0: no limit, as in
//!   `make soak`).
//! - `YTMAKER_SEAMS_LEASE_MS`: job lease of every runner (default 1500).
//! - `YTMAKER_SEAMS_JOBS`: sequences run at once, each in its own world (default 2: a case
//!   waits on leases and processes as much as it computes); a failing sequence is shrunk while
//!   the others go on.
//! - `YTMAKER_SEAMS_VERBOSE=1`: print what happened in every case, not only in failing ones.
//! - `YTMAKER_SEAMS_KEEP_DIR=1`: keep the data directory of a failing case (logs, database).
//!
//! Run: `cargo test -p ytmaker-cli --test seams_model -- --nocapture` (part of `make test`).

mod seams;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use seams::actions::{self, Case};
use seams::invariants::{self, Violation};
use seams::world::World;

struct Settings {
    cases: u64,
    steps: usize,
    seed: u64,
    keep: Option<Vec<usize>>,
    shrink_runs: usize,
    shrink_total: usize,
    budget: Option<Duration>,
    lease_ms: u64,
    jobs: usize,
}

fn env_num(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

impl Settings {
    fn from_env() -> Settings {
        let seed = env_num("YTMAKER_SEAMS_SEED").unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64 % 1_000_000_007)
        });
        Settings {
            cases: env_num("YTMAKER_SEAMS_CASES").unwrap_or(100),
            steps: env_num("YTMAKER_SEAMS_STEPS").unwrap_or(14) as usize,
            seed,
            keep: std::env::var("YTMAKER_SEAMS_KEEP")
                .ok()
                .map(|k| k.split(',').filter_map(|i| i.trim().parse().ok()).collect()),
            shrink_runs: env_num("YTMAKER_SEAMS_SHRINK").unwrap_or(12) as usize,
            shrink_total: env_num("YTMAKER_SEAMS_SHRINK_TOTAL").unwrap_or(24) as usize,
            budget: Some(env_num("YTMAKER_SEAMS_BUDGET_S").unwrap_or(1200))
                .filter(|s| *s > 0)
                .map(Duration::from_secs),
            lease_ms: env_num("YTMAKER_SEAMS_LEASE_MS").unwrap_or(1500),
            jobs: env_num("YTMAKER_SEAMS_JOBS").unwrap_or(2).max(1) as usize,
        }
    }
}

/// What one run of a sequence found.
struct Outcome {
    violations: Vec<Violation>,
    log: Vec<String>,
    seconds: f64,
}

async fn run_case(case: &Case, keep: &[usize], lease_ms: u64) -> Outcome {
    let started = Instant::now();
    let mut log = Vec::new();
    let mut world = match World::new(lease_ms).await {
        Ok(w) => w,
        Err(e) => {
            return Outcome {
                violations: vec![Violation {
                    invariant: 0,
                    tag: "setup",
                    project: None,
                    message: e,
                }],
                log,
                seconds: started.elapsed().as_secs_f64(),
            };
        }
    };
    let setup = async {
        world.set_up_accounts().await?;
        actions::create_projects(&world, case).await
    }
    .await;
    let mut model = match setup {
        Ok(m) => m,
        Err(e) => {
            log.push(world.server_log_tail());
            return Outcome {
                violations: vec![Violation {
                    invariant: 0,
                    tag: "setup",
                    project: None,
                    message: e,
                }],
                log,
                seconds: started.elapsed().as_secs_f64(),
            };
        }
    };
    for (p, proj) in model.projects.iter().enumerate() {
        log.push(format!("  p{p} = {} ({})", proj.id, proj.tag));
    }
    for &i in keep {
        actions::apply(&mut world, &mut model, i, &case.actions[i]).await;
    }
    let mut violations = invariants::settle(&mut world, &mut model, Duration::from_secs(300)).await;
    model
        .log
        .push("  -- settled; checking invariants 3, 4, 5".into());
    violations.extend(invariants::check_quiescent(&world, &model).await);
    model
        .log
        .push("  -- finish: faults cleared, keys back, every project continued".into());
    violations.extend(invariants::finish(&mut world, &mut model).await);
    violations.extend(invariants::check_quiescent(&world, &model).await);
    violations.extend(invariants::check_outputs(&world, &model).await);
    violations.extend(invariants::check_payments(&world, &model).await);
    // One line per distinct violation (the quiescent checks run twice).
    let mut seen = BTreeSet::new();
    violations.retain(|v| seen.insert(v.to_string()));
    log.extend(model.log.iter().cloned());
    if !violations.is_empty() {
        log.push(world.server_log_tail());
        log.push(format!(
            "  last error/warn log lines:\n{}",
            world.log_problems(25)
        ));
        if std::env::var("YTMAKER_SEAMS_KEEP_DIR").is_ok_and(|v| v == "1") {
            log.push(format!("  files kept in {}", world.keep_files().display()));
        }
    }
    Outcome {
        violations,
        log,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn signature(v: &Violation) -> (u8, &'static str) {
    (v.invariant, v.tag)
}

/// Removes actions while the run still breaks the same invariant (same tag), spending at most
/// `budget` runs. Timing makes a run not fully repeatable, so a removal is kept only when the
/// smaller sequence fails again.
async fn shrink(
    case: &Case,
    keep: Vec<usize>,
    target: (u8, &'static str),
    budget: usize,
    lease_ms: u64,
) -> (Vec<usize>, Option<Outcome>, usize) {
    let mut current = keep;
    let mut best = None;
    let mut runs = 0;
    let mut chunk = current.len().div_ceil(2);
    while chunk >= 1 && runs < budget {
        let mut i = 0;
        let mut removed = false;
        while i < current.len() && runs < budget {
            let candidate: Vec<usize> = current
                .iter()
                .enumerate()
                .filter(|(n, _)| *n < i || *n >= i + chunk)
                .map(|(_, x)| *x)
                .collect();
            if candidate.is_empty() {
                i += chunk;
                continue;
            }
            runs += 1;
            let outcome = run_case(case, &candidate, lease_ms).await;
            let again = outcome.violations.iter().any(|v| signature(v) == target);
            eprintln!(
                "    shrink run {runs}: {} actions -> {}",
                candidate.len(),
                if again { "still fails" } else { "passes" }
            );
            if again {
                current = candidate;
                best = Some(outcome);
                removed = true;
            } else {
                i += chunk;
            }
        }
        if !removed || chunk > current.len() {
            chunk /= 2;
        }
    }
    (current, best, runs)
}

fn describe(case: &Case, keep: &[usize]) -> String {
    let listed = keep
        .iter()
        .map(|i| format!("    [{i}] {}", case.actions[*i]))
        .collect::<Vec<_>>()
        .join("\n");
    let replay = keep
        .iter()
        .map(|i| case.actions[*i].to_string())
        .collect::<Vec<_>>()
        .join("; ");
    format!("{listed}\n    replay: YTMAKER_SEAMS_SEQUENCE='{replay}'")
}

#[test]
fn seams_model() {
    let settings = Settings::from_env();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let pin_dir = tempfile::Builder::new()
        .prefix("ytmaker-seams-bin-")
        .tempdir()
        .expect("temp dir for the binary");
    seams::world::pin_binary(pin_dir.path()).expect("pin the ytmaker binary");
    let started = Instant::now();
    let verbose = std::env::var("YTMAKER_SEAMS_VERBOSE").is_ok_and(|v| v == "1");
    eprintln!(
        "seams model: {} case(s) of {} random actions from seed {} (YTMAKER_SEAMS_SEED), lease {} ms",
        settings.cases, settings.steps, settings.seed, settings.lease_ms
    );
    let mut failures = Vec::new();
    let mut shrink_left = settings.shrink_total;
    let mut ran = 0;
    let mut actions_run = 0;
    runtime.block_on(async {
        let mut running = tokio::task::JoinSet::new();
        let mut next = 0;
        loop {
            while running.len() < settings.jobs && next < settings.cases {
                if settings.budget.is_some_and(|b| started.elapsed() > b) {
                    eprintln!("seams model: time budget spent; no case after case {next}");
                    next = settings.cases;
                    break;
                }
                let n = next;
                next += 1;
                let seed = seams::rng::case_seed(settings.seed, n);
                let case = match std::env::var("YTMAKER_SEAMS_SEQUENCE") {
                    Ok(text) => actions::parse_sequence(&text).expect("YTMAKER_SEAMS_SEQUENCE"),
                    Err(_) => actions::generate(seed, settings.steps),
                };
                let keep: Vec<usize> = match &settings.keep {
                    Some(k) => k
                        .iter()
                        .copied()
                        .filter(|i| *i < case.actions.len())
                        .collect(),
                    None => (0..case.actions.len()).collect(),
                };
                let lease_ms = settings.lease_ms;
                running.spawn(async move {
                    let outcome = run_case(&case, &keep, lease_ms).await;
                    (n, seed, case, keep, outcome)
                });
            }
            let Some(joined) = running.join_next().await else {
                break;
            };
            let (n, seed, case, keep, outcome) = joined.expect("a case panicked");
            ran += 1;
            actions_run += keep.len();
            eprintln!(
                "case {n} seed {seed}: {} project(s), {} actions, {:.0} s, {}",
                case.projects,
                keep.len(),
                outcome.seconds,
                if outcome.violations.is_empty() {
                    "ok".to_owned()
                } else {
                    format!("{} violation(s)", outcome.violations.len())
                }
            );
            if verbose {
                eprintln!("  what happened:\n{}", outcome.log.join("\n"));
            }
            if outcome.violations.is_empty() {
                continue;
            }
            for v in &outcome.violations {
                eprintln!("  {v}");
            }
            eprintln!("  sequence:\n{}", describe(&case, &keep));
            if !verbose {
                eprintln!("  what happened:\n{}", outcome.log.join("\n"));
            }
            let target = signature(&outcome.violations[0]);
            let (minimal, shrunk, runs) = shrink(
                &case,
                keep.clone(),
                target,
                settings.shrink_runs.min(shrink_left),
                settings.lease_ms,
            )
            .await;
            shrink_left -= runs;
            let report = format!(
                "seed {seed} (YTMAKER_SEAMS_SEED={seed} YTMAKER_SEAMS_CASES=1 YTMAKER_SEAMS_STEPS={} YTMAKER_SEAMS_KEEP={}):\n  {}\n  minimal sequence ({} of {} actions, {runs} shrink runs):\n{}{}",
                settings.steps,
                minimal
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                outcome
                    .violations
                    .iter()
                    .map(Violation::to_string)
                    .collect::<Vec<_>>()
                    .join("\n  "),
                minimal.len(),
                keep.len(),
                describe(&case, &minimal),
                shrunk
                    .map(|o| format!("\n  the minimal run:\n{}", o.log.join("\n")))
                    .unwrap_or_default()
            );
            eprintln!("FAILED {report}");
            failures.push(report);
        }
    });
    eprintln!(
        "seams model: {ran} sequence(s), {actions_run} actions, {:.0} s, {} failing",
        started.elapsed().as_secs_f64(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} sequence(s) broke an invariant:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
