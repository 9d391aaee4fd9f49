//! A lease for a runner outside the worker pool (issue 12, defect 7): the CLI's `generate` and
//! `projects resume` take the project's job with `JobQueue::acquire`, so the server cannot start a
//! second runner of the same project while the CLI runs it, and vice versa. Both backends.

use std::time::Duration;

use uuid::Uuid;
use ytmaker_core::TraceId;
use ytmaker_core::config::ProjectConfig;

#[macro_use]
mod common;

use ytmaker_store::{JobQueue, JobState, Lease, LeaseHolder, NewProject, Store};

const LEASE: Duration = Duration::from_secs(30);

both_backends! {
    racing => racing_acquires_give_the_project_to_one_runner;
    queued => acquire_takes_the_queued_job_and_workers_then_cannot;
    live_worker => a_worker_holding_a_live_lease_is_the_holder;
    expired => an_expired_lease_is_taken_over;
    heartbeats => heartbeats_keep_an_acquired_lease;
    finished => a_finished_run_leaves_the_project_free_to_acquire;
}

async fn project(store: &Store, name: &str) -> Uuid {
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

fn lease_ms(lease: Duration) -> i64 {
    i64::try_from(lease.as_millis()).unwrap()
}

fn assert_holder(holder: &LeaseHolder, job: Uuid, owner: &str, lease: Duration) {
    assert_eq!(holder.job_id, job);
    assert_eq!(holder.lease_owner, owner);
    assert!(
        holder.expires_in_ms > 0 && holder.expires_in_ms <= lease_ms(lease),
        "{holder:?}"
    );
}

async fn racing_acquires_give_the_project_to_one_runner(store: Store) {
    for round in 0..8 {
        let p = project(&store, &format!("race {round}")).await;
        let mut tasks = tokio::task::JoinSet::new();
        for runner in 0..4 {
            let store = store.clone();
            tasks.spawn(async move {
                let name = format!("cli-{runner}");
                let got = store
                    .acquire(p, &name, LEASE, &TraceId::generate())
                    .await
                    .unwrap();
                (name, got)
            });
        }
        let answers = tasks.join_all().await;
        let winners: Vec<_> = answers
            .iter()
            .filter_map(|(name, got)| got.as_ref().ok().map(|job| (name, job)))
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
        let (winner, job) = winners[0];
        assert_eq!(job.project_id, p);
        assert_eq!(job.state, JobState::Running);
        assert_eq!(job.lease_owner.as_deref(), Some(winner.as_str()));
        assert_eq!(job.attempts, 1);
        for (_, got) in &answers {
            if let Err(holder) = got {
                assert_holder(holder, job.id, winner, LEASE);
            }
        }
        let live = store.live_job(p).await.unwrap().expect("live");
        assert_eq!(live.id, job.id);
        assert!(store.claim("server-worker", LEASE).await.unwrap().is_none());
    }
}

async fn acquire_takes_the_queued_job_and_workers_then_cannot(store: Store) {
    let p = project(&store, "queued").await;
    let queued = store.enqueue(p, &TraceId::generate()).await.unwrap();
    let job = store
        .acquire(p, "cli", LEASE, &TraceId::generate())
        .await
        .unwrap()
        .expect("the queued job is ours");
    assert_eq!(job.id, queued.id);
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.lease_owner.as_deref(), Some("cli"));
    assert_eq!(
        job.trace_id, queued.trace_id,
        "a queued run keeps its trace"
    );
    assert!(store.claim("server-worker", LEASE).await.unwrap().is_none());
    let err = store.enqueue(p, &TraceId::generate()).await.unwrap_err();
    assert_eq!(err.code, ytmaker_core::ErrorCode::INVALID_STATE_TRANSITION);
}

async fn a_worker_holding_a_live_lease_is_the_holder(store: Store) {
    let p = project(&store, "worker").await;
    store.enqueue(p, &TraceId::generate()).await.unwrap();
    let job = store
        .claim("server-worker", LEASE)
        .await
        .unwrap()
        .expect("claimed");
    let holder = store
        .acquire(p, "cli", LEASE, &TraceId::generate())
        .await
        .unwrap()
        .expect_err("the worker holds it");
    assert_holder(&holder, job.id, "server-worker", LEASE);
    assert_eq!(holder.lease_expires_ms, job.lease_expires_ms.unwrap());
    assert_eq!(
        store
            .heartbeat(job.id, "server-worker", LEASE)
            .await
            .unwrap(),
        Lease::Held(None)
    );
}

async fn an_expired_lease_is_taken_over(store: Store) {
    let p = project(&store, "expired").await;
    let short = Duration::from_millis(300);
    let first = store
        .acquire(p, "cli-dead", short, &TraceId::generate())
        .await
        .unwrap()
        .expect("free");
    let holder = store
        .acquire(p, "cli-new", LEASE, &TraceId::generate())
        .await
        .unwrap()
        .expect_err("still held");
    assert_holder(&holder, first.id, "cli-dead", short);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let taken = store
        .acquire(p, "cli-new", LEASE, &TraceId::generate())
        .await
        .unwrap()
        .expect("the lease ran out");
    assert_eq!(taken.id, first.id);
    assert_eq!(taken.attempts, 2);
    assert_eq!(taken.abandoned_runs, 1);
    assert_eq!(taken.previous_owner.as_deref(), Some("cli-dead"));
    assert_eq!(taken.lease_owner.as_deref(), Some("cli-new"));
    assert_eq!(
        store.heartbeat(first.id, "cli-dead", short).await.unwrap(),
        Lease::Lost
    );
    assert!(
        !store
            .finish(first.id, "cli-dead", JobState::Failed, Some("late"))
            .await
            .unwrap()
    );
    // A dead CLI's run is also taken over by the server's workers.
    let q = project(&store, "expired for a worker").await;
    store
        .acquire(q, "cli-dead", short, &TraceId::generate())
        .await
        .unwrap()
        .expect("free");
    tokio::time::sleep(Duration::from_millis(600)).await;
    let claimed = store
        .claim("server-worker", LEASE)
        .await
        .unwrap()
        .expect("taken over");
    assert_eq!(claimed.project_id, q);
    assert_eq!(claimed.previous_owner.as_deref(), Some("cli-dead"));
}

async fn heartbeats_keep_an_acquired_lease(store: Store) {
    let p = project(&store, "renewed").await;
    let lease = Duration::from_secs(1);
    let job = store
        .acquire(p, "cli", lease, &TraceId::generate())
        .await
        .unwrap()
        .expect("free");
    // Renewed for over twice the lease: nobody else gets the project meanwhile.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            store.heartbeat(job.id, "cli", lease).await.unwrap(),
            Lease::Held(None)
        );
        let holder = store
            .acquire(p, "other-cli", LEASE, &TraceId::generate())
            .await
            .unwrap()
            .expect_err("renewed");
        assert_holder(&holder, job.id, "cli", lease);
        assert!(store.claim("server-worker", LEASE).await.unwrap().is_none());
    }
    assert!(
        store
            .finish(job.id, "cli", JobState::Done, None)
            .await
            .unwrap()
    );
}

async fn a_finished_run_leaves_the_project_free_to_acquire(store: Store) {
    let p = project(&store, "again").await;
    let trace = TraceId::generate();
    let first = store
        .acquire(p, "cli", LEASE, &trace)
        .await
        .unwrap()
        .expect("free");
    assert_eq!(first.trace_id, trace, "a new run has the caller's trace");
    assert_eq!(first.abandoned_runs, 0);
    assert_eq!(first.previous_owner, None);
    assert!(
        store
            .finish(first.id, "cli", JobState::Stopped, Some("paused"))
            .await
            .unwrap()
    );
    assert!(store.live_job(p).await.unwrap().is_none());
    let second = store
        .acquire(p, "cli-2", LEASE, &TraceId::generate())
        .await
        .unwrap()
        .expect("free again");
    assert_ne!(second.id, first.id);
    assert_eq!(second.attempts, 1);
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.queued, stats.running), (0, 1));
}
