//! A job whose worker keeps dying (issue 12, defect 7): each claim says how many earlier runs
//! ended with their worker gone and which worker that was last, so the claimer can end the job
//! after a bounded number of runs instead of claiming it again forever. Leases are read back on
//! the database's clock. Both backends.

use std::time::Duration;

use ytmaker_core::config::ProjectConfig;
use ytmaker_core::{ErrorCode, TraceId};

#[macro_use]
mod common;

use ytmaker_store::{Job, JobQueue, JobState, Lease, NewProject, Store};

const LEASE: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_millis(1);

both_backends! {
    kept_dying => a_job_whose_workers_keep_dying_is_given_up;
    released_is_not_dead => a_job_handed_back_is_not_counted_as_a_dead_run;
    lease_on_db_clock => a_claimed_lease_runs_out_on_the_database_clock;
}

async fn project(store: &Store, name: &str) -> uuid::Uuid {
    store
        .create_project(&NewProject {
            name: name.into(),
            content: "內容".repeat(300),
            configuration: ProjectConfig::default(),
        })
        .await
        .unwrap()
        .id
}

/// Claims the one claimable job with a lease that runs out at once, as a worker that dies.
async fn claim_and_die(store: &Store, worker: &str) -> Job {
    let job = store
        .claim(worker, SHORT)
        .await
        .unwrap()
        .expect("claimable");
    tokio::time::sleep(Duration::from_millis(20)).await;
    job
}

async fn a_job_whose_workers_keep_dying_is_given_up(store: Store) {
    let p = project(&store, "dies").await;
    let queued = store.enqueue(p, &TraceId::generate()).await.unwrap();
    assert_eq!(queued.abandoned_runs, 0);
    assert_eq!(queued.previous_owner, None);

    let max = Job::DEFAULT_MAX_ABANDONED_RUNS;
    assert_eq!(max, 3);
    for run in 0..max {
        let job = claim_and_die(&store, &format!("w{run}")).await;
        assert_eq!(job.id, queued.id);
        assert_eq!(job.attempts, i64::from(run) + 1);
        assert_eq!(job.abandoned_runs, i64::from(run));
        let expected_previous = (run > 0).then(|| format!("w{}", run - 1));
        assert_eq!(job.previous_owner, expected_previous, "run {run}");
        assert!(!job.kept_dying(max), "run {run} is within the cap");
    }

    // The fourth claim: three workers in a row ended without finishing.
    let job = store.claim("w3", LEASE).await.unwrap().expect("claimable");
    assert_eq!(job.attempts, 4);
    assert_eq!(job.abandoned_runs, 3);
    assert_eq!(job.previous_owner.as_deref(), Some("w2"));
    assert!(job.kept_dying(max));
    assert!(
        !job.kept_dying(max + 1),
        "the cap is the caller's to choose"
    );

    let err = job.worker_kept_dying();
    assert_eq!(err.code, ErrorCode::WORKER_KEPT_DYING);
    assert!(!err.code.is_retryable());
    assert_eq!(err.details["last_worker"], "w2");
    assert_eq!(err.details["abandoned_runs"], 3);
    assert_eq!(err.details["job_id"], job.id.to_string());
    assert_eq!(err.details["trace_id"], job.trace_id.as_str());

    // Only the holder of the lease can give the job up; then nobody claims it again.
    assert!(!store.give_up(job.id, "w2", &err).await.unwrap());
    assert!(store.give_up(job.id, "w3", &err).await.unwrap());
    assert!(store.live_job(p).await.unwrap().is_none());
    assert!(store.claim("w4", LEASE).await.unwrap().is_none());
    assert_eq!(
        store.heartbeat(job.id, "w3", LEASE).await.unwrap(),
        Lease::Lost
    );
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.queued, stats.running), (0, 0));
    // The project can be started again later (a retry), as a new job with a clean count.
    let again = store.enqueue(p, &TraceId::generate()).await.unwrap();
    assert_ne!(again.id, job.id);
    assert_eq!(again.abandoned_runs, 0);
}

async fn a_job_handed_back_is_not_counted_as_a_dead_run(store: Store) {
    let p = project(&store, "handed back").await;
    let queued = store.enqueue(p, &TraceId::generate()).await.unwrap();
    for run in 0..5 {
        let job = store
            .claim(&format!("stopping{run}"), LEASE)
            .await
            .unwrap()
            .expect("claimable");
        assert_eq!(job.id, queued.id);
        assert_eq!(job.abandoned_runs, 0, "a server that stopped cleanly");
        assert_eq!(job.previous_owner, None);
        assert!(!job.kept_dying(Job::DEFAULT_MAX_ABANDONED_RUNS));
        store
            .release(job.id, &format!("stopping{run}"))
            .await
            .unwrap();
    }
    // One dead run after the hand-backs counts once, and names the worker that died.
    claim_and_die(&store, "dead").await;
    let job = store
        .claim("next", LEASE)
        .await
        .unwrap()
        .expect("claimable");
    assert_eq!(job.abandoned_runs, 1);
    assert_eq!(job.previous_owner.as_deref(), Some("dead"));
    assert!(
        store
            .finish(job.id, "next", JobState::Done, None)
            .await
            .unwrap()
    );
}

async fn a_claimed_lease_runs_out_on_the_database_clock(store: Store) {
    let p = project(&store, "clock").await;
    store.enqueue(p, &TraceId::generate()).await.unwrap();
    let before = store.db_now_ms().await.unwrap();
    let job = store.claim("w", LEASE).await.unwrap().expect("claimable");
    let after = store.db_now_ms().await.unwrap();
    let lease = i64::try_from(LEASE.as_millis()).unwrap();
    let expires = job.lease_expires_ms.expect("a running job has a lease");
    assert!(
        (before + lease..=after + lease).contains(&expires),
        "lease expires at {expires}, database clock went {before}..{after}"
    );
    assert_eq!(job.lease_owner.as_deref(), Some("w"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    store.heartbeat(job.id, "w", LEASE).await.unwrap();
    let renewed = store.live_job(p).await.unwrap().expect("live");
    assert!(renewed.lease_expires_ms.unwrap() >= expires + 40);
    let queued_at = store.live_job(p).await.unwrap().unwrap().enqueued_ms;
    assert!(queued_at <= before, "enqueued on the database clock");
}
