//! Storage tests, run against both backends: a SQLite file in a temp dir and a fresh database on
//! the PostgreSQL server of this machine (`YTMAKER_TEST_PG_URL`, default postgres://postgres@127.0.0.1:5432/postgres).

use serde_json::json;
use std::time::Duration;
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetKind, AssetStatus};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::error::Lang;
use ytmaker_core::event::ProjectEvent;
use ytmaker_core::{ErrorCode, ProjectStatus, Stage, TraceId, YtError};

#[macro_use]
mod common;

use ytmaker_store::{
    JobQueue, JobState, Lease, NewProject, ProjectFilter, ProviderCall, ProviderUsage, StopRequest,
    Store,
};

fn new_project(name: &str) -> NewProject {
    NewProject {
        name: name.into(),
        content: "內容".repeat(300),
        configuration: ProjectConfig::default(),
    }
}

async fn project_round_trip(store: Store) {
    let p = store.create_project(&new_project("茶文化")).await.unwrap();
    assert_eq!(p.status, ProjectStatus::Initialized);
    let again = store.get_project(p.id).await.unwrap();
    assert_eq!(again.name, "茶文化");
    assert_eq!(again.configuration, ProjectConfig::default());
    let prefix = &p.id.to_string()[..8];
    assert_eq!(store.find_project(prefix).await.unwrap().id, p.id);
    let missing = store.get_project(Uuid::new_v4()).await.unwrap_err();
    assert_eq!(missing.code, ErrorCode::PROJECT_NOT_FOUND);
}

async fn status_changes_follow_the_state_machine_and_are_logged(store: Store) {
    let trace = TraceId::generate();
    let p = store.create_project(&new_project("a")).await.unwrap();
    store
        .set_status(p.id, ProjectStatus::ScriptGenerating, &trace)
        .await
        .unwrap();
    let err = store
        .set_status(p.id, ProjectStatus::Completed, &trace)
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::INVALID_STATE_TRANSITION);
    assert_eq!(
        store.get_project(p.id).await.unwrap().status,
        ProjectStatus::ScriptGenerating
    );
    let events = store.events_since(p.id, 0).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].payload,
        json!({"from": "INITIALIZED", "to": "SCRIPT_GENERATING"})
    );
    assert_eq!(events[0].trace_id.as_deref(), Some(trace.as_str()));
}

async fn failure_records_error_info_and_retry_clears_it(store: Store) {
    let trace = TraceId::generate();
    let p = store.create_project(&new_project("a")).await.unwrap();
    store
        .set_status(p.id, ProjectStatus::ScriptGenerating, &trace)
        .await
        .unwrap();
    let info = YtError::new(ErrorCode::FFMPEG_NOT_FOUND, "no ffmpeg")
        .at_stage(Stage::Render)
        .to_info(&trace, 1, Lang::En);
    store.fail_project(p.id, &info).await.unwrap();
    let failed = store.get_project(p.id).await.unwrap();
    assert_eq!(failed.status, ProjectStatus::Failed);
    assert_eq!(
        failed.error_info.as_ref().unwrap().error_code,
        ErrorCode::FFMPEG_NOT_FOUND
    );
    let listed = store
        .list_projects(&ProjectFilter {
            status: Some(ProjectStatus::Failed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].error_code, Some(ErrorCode::FFMPEG_NOT_FOUND));
    store
        .set_status(p.id, ProjectStatus::ScriptGenerating, &trace)
        .await
        .unwrap();
    assert!(store.get_project(p.id).await.unwrap().error_info.is_none());
    let kinds: Vec<String> = store
        .events_since(p.id, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["status", "error", "status", "status"]);
}

async fn assets_count_attempts_and_keep_their_state(store: Store) {
    let p = store.create_project(&new_project("a")).await.unwrap();
    let key = AssetKey::indexed(AssetKind::Audio, 3);
    assert!(store.asset(p.id, key).await.unwrap().is_none());
    store.begin_asset(p.id, key, "espeak-ng").await.unwrap();
    let info =
        YtError::new(ErrorCode::TTS_ENGINE_FAILED, "x").to_info(&TraceId::generate(), 1, Lang::En);
    store.fail_asset(p.id, key, &info).await.unwrap();
    let a = store.begin_asset(p.id, key, "espeak-ng").await.unwrap();
    assert_eq!(a.attempts, 2);
    assert_eq!(a.status, AssetStatus::Generating);
    assert!(a.error.is_none());
    store
        .complete_asset(
            p.id,
            key,
            "audio/line-003.wav",
            "abc",
            &json!({"duration_s": 7.5}),
        )
        .await
        .unwrap();
    let done = store.asset(p.id, key).await.unwrap().unwrap();
    assert!(done.is_completed());
    assert_eq!(done.metadata["duration_s"], 7.5);
    assert_eq!(done.key, key);
    let single = AssetKey::single(AssetKind::FinalVideo);
    let err = store
        .complete_asset(p.id, single, "x", "y", &json!({}))
        .await
        .unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::DATABASE_ERROR,
        "finishing an asset that was never started is a bug, not a no-op"
    );
    assert_eq!(store.assets(p.id).await.unwrap().len(), 1);
}

fn progress(percent: f64) -> ProjectEvent {
    ProjectEvent::Progress {
        stage: Stage::Assets,
        done: 1.0,
        total: 2.0,
        unit: "images".into(),
        percent,
    }
}

async fn events_replay_from_a_sequence_number(store: Store) {
    let p = store.create_project(&new_project("a")).await.unwrap();
    let t = TraceId::generate();
    let s1 = store.append_event(p.id, &progress(10.0), &t).await.unwrap();
    let s2 = store.append_event(p.id, &progress(20.0), &t).await.unwrap();
    assert!(s2 > s1);
    let after = store.events_since(p.id, s1).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].payload["percent"], 20.0);
    assert_eq!(after[0].event, progress(20.0));
}

both_backends! {
    project_round_trip => project_round_trip;
    status_changes => status_changes_follow_the_state_machine_and_are_logged;
    failure_and_retry => failure_records_error_info_and_retry_clears_it;
    asset_attempts => assets_count_attempts_and_keep_their_state;
    event_replay => events_replay_from_a_sequence_number;
    queue_one_live_job => a_project_has_at_most_one_live_job;
    queue_lease_takeover => an_expired_lease_is_taken_over_and_the_old_owner_loses_it;
    queue_racing_workers => racing_workers_never_claim_the_same_job;
    queue_stop_requests => stop_requests_end_queued_jobs_and_flag_running_ones;
    prompt_templates => prompt_templates_are_versioned_and_the_default_is_protected;
    config_templates => configuration_templates_round_trip;
    provider_calls => provider_calls_round_trip_in_time_order;
    provider_usage => provider_usage_sums_one_api_in_a_window;
}

#[tokio::test]
async fn an_unreachable_database_is_a_database_error_without_the_password() {
    let err = Store::open("postgres://user:hunter2@127.0.0.1:1/nope")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DATABASE_ERROR);
    let shown = format!("{} {:?}", err.message, err.details);
    assert!(!shown.contains("hunter2"), "{shown}");
}

const LEASE: Duration = Duration::from_secs(30);

async fn a_project_has_at_most_one_live_job(store: Store) {
    let trace = TraceId::generate();
    let p = store.create_project(&new_project("q")).await.unwrap();
    let job = store.enqueue(p.id, &trace).await.unwrap();
    assert_eq!(job.state, JobState::Queued);
    assert_eq!(job.trace_id, trace);
    let err = store.enqueue(p.id, &trace).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::INVALID_STATE_TRANSITION);
    let stats = store.stats().await.unwrap();
    assert_eq!((stats.queued, stats.running), (1, 0));

    let claimed = store.claim("w1", LEASE).await.unwrap().expect("a job");
    assert_eq!(claimed.id, job.id);
    assert_eq!(claimed.attempts, 1);
    assert!(
        store.claim("w2", LEASE).await.unwrap().is_none(),
        "a held job is not claimable"
    );
    assert!(
        store
            .finish(job.id, "w1", JobState::Done, None)
            .await
            .unwrap()
    );
    assert!(store.live_job(p.id).await.unwrap().is_none());
    // Once finished, the project can be queued again (resume, retry).
    store.enqueue(p.id, &trace).await.unwrap();
}

async fn an_expired_lease_is_taken_over_and_the_old_owner_loses_it(store: Store) {
    let p = store.create_project(&new_project("lease")).await.unwrap();
    let job = store.enqueue(p.id, &TraceId::generate()).await.unwrap();
    store
        .claim("dead", Duration::from_millis(1))
        .await
        .unwrap()
        .expect("claimed");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let taken = store
        .claim("alive", LEASE)
        .await
        .unwrap()
        .expect("taken over");
    assert_eq!(taken.id, job.id);
    assert_eq!(taken.attempts, 2);
    assert_eq!(taken.lease_owner.as_deref(), Some("alive"));
    assert_eq!(
        store.heartbeat(job.id, "dead", LEASE).await.unwrap(),
        Lease::Lost
    );
    assert!(
        !store
            .finish(job.id, "dead", JobState::Failed, Some("late"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.heartbeat(job.id, "alive", LEASE).await.unwrap(),
        Lease::Held(None)
    );
}

async fn racing_workers_never_claim_the_same_job(store: Store) {
    let mut projects = Vec::new();
    for i in 0..6 {
        let p = store
            .create_project(&new_project(&format!("r{i}")))
            .await
            .unwrap();
        store.enqueue(p.id, &TraceId::generate()).await.unwrap();
        projects.push(p.id);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..4 {
        let store = store.clone();
        tasks.spawn(async move {
            let mut got = Vec::new();
            while let Some(job) = store.claim(&format!("w{w}"), LEASE).await.unwrap() {
                got.push(job.project_id);
            }
            got
        });
    }
    let mut claimed: Vec<Uuid> = tasks.join_all().await.into_iter().flatten().collect();
    claimed.sort();
    projects.sort();
    assert_eq!(claimed, projects, "every job claimed exactly once");
}

async fn stop_requests_end_queued_jobs_and_flag_running_ones(store: Store) {
    let queued = store.create_project(&new_project("queued")).await.unwrap();
    let running = store.create_project(&new_project("running")).await.unwrap();
    store
        .enqueue(running.id, &TraceId::generate())
        .await
        .unwrap();
    let job = store.claim("w", LEASE).await.unwrap().expect("claimed");
    store
        .enqueue(queued.id, &TraceId::generate())
        .await
        .unwrap();

    let r = store
        .request_stop(queued.id, StopRequest::Cancel)
        .await
        .unwrap();
    assert_eq!(r, Some(JobState::Stopped));
    assert!(store.live_job(queued.id).await.unwrap().is_none());
    let r = store
        .request_stop(running.id, StopRequest::Pause)
        .await
        .unwrap();
    assert_eq!(r, Some(JobState::Running));
    assert_eq!(
        store.heartbeat(job.id, "w", LEASE).await.unwrap(),
        Lease::Held(Some(StopRequest::Pause))
    );
    let nobody = store.create_project(&new_project("idle")).await.unwrap();
    assert_eq!(
        store
            .request_stop(nobody.id, StopRequest::Pause)
            .await
            .unwrap(),
        None
    );
}

async fn prompt_templates_are_versioned_and_the_default_is_protected(store: Store) {
    let default = store.default_prompt_template().await.unwrap();
    assert!(default.is_default);
    assert!(default.content.contains("5 to 20 seconds"));
    let err = store.delete_prompt_template(default.id).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::VALIDATION_ERROR);
    assert_eq!(store.list_prompt_templates().await.unwrap().len(), 1);

    let mine = store
        .create_prompt_template("mine", "Say {article}")
        .await
        .unwrap();
    assert_eq!(mine.version, 1);
    let edited = store
        .update_prompt_template(mine.id, "mine 2", "Tell {article}")
        .await
        .unwrap();
    assert_eq!((edited.version, edited.name.as_str()), (2, "mine 2"));
    store.delete_prompt_template(mine.id).await.unwrap();
    let gone = store.prompt_template(mine.id).await.unwrap_err();
    assert_eq!(gone.code, ErrorCode::NOT_FOUND);
}

async fn configuration_templates_round_trip(store: Store) {
    let mut config = ProjectConfig::default();
    config.presenter.enabled = false;
    let t = store
        .create_config_template("no presenter", &config)
        .await
        .unwrap();
    assert_eq!(
        store.config_template(t.id).await.unwrap().configuration,
        config
    );
    let updated = store
        .update_config_template(t.id, "renamed", &ProjectConfig::default())
        .await
        .unwrap();
    assert!(updated.configuration.presenter.enabled);
    assert_eq!(store.list_config_templates().await.unwrap().len(), 1);
    store.delete_config_template(t.id).await.unwrap();
    let err = store.delete_config_template(t.id).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NOT_FOUND);
}

fn call(
    at_ms: i64,
    api: &str,
    endpoint: &str,
    error_code: Option<&str>,
    units: u64,
) -> ProviderCall {
    ProviderCall {
        at_ms,
        api: api.into(),
        endpoint: endpoint.into(),
        status: if error_code.is_some() {
            Some(503)
        } else {
            Some(200)
        },
        error_code: error_code.map(str::to_string),
        duration_ms: 120,
        quota_units: units,
        project_id: None,
        trace_id: None,
    }
}

async fn provider_calls_round_trip_in_time_order(store: Store) {
    let project = Uuid::new_v4();
    let transport_failure = ProviderCall {
        status: None,
        project_id: Some(project),
        trace_id: Some("trace-1".into()),
        ..call(2_000, "stability", "generate", Some("STABILITY_TIMEOUT"), 0)
    };
    store
        .record_provider_call(&transport_failure)
        .await
        .unwrap();
    store
        .record_provider_call(&call(1_000, "youtube", "videos.insert", None, 1600))
        .await
        .unwrap();
    store
        .record_provider_call(&call(3_000, "stability", "generate", None, 0))
        .await
        .unwrap();

    let all = store.provider_calls_since(0).await.unwrap();
    let times: Vec<i64> = all.iter().map(|c| c.at_ms).collect();
    assert_eq!(times, [1_000, 2_000, 3_000]);
    assert_eq!(all[1], transport_failure);
    assert_eq!(store.provider_calls_since(2_001).await.unwrap().len(), 1);

    let recent = store.recent_provider_calls("stability", 10).await.unwrap();
    let times: Vec<i64> = recent.iter().map(|c| c.at_ms).collect();
    assert_eq!(times, [3_000, 2_000]);
    assert_eq!(
        store
            .recent_provider_calls("stability", 1)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .recent_provider_calls("did", 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn provider_usage_sums_one_api_in_a_window(store: Store) {
    for c in [
        call(500, "youtube", "videos.insert", None, 1600),
        call(1_000, "youtube", "videos.insert", None, 1600),
        call(
            1_100,
            "youtube",
            "thumbnails.set",
            Some("YOUTUBE_SERVER_ERROR"),
            50,
        ),
        call(1_200, "gemini", "generateContent", None, 0),
    ] {
        store.record_provider_call(&c).await.unwrap();
    }
    assert_eq!(
        store
            .provider_usage_since("youtube", None, 1_000)
            .await
            .unwrap(),
        ProviderUsage {
            calls: 2,
            successes: 1,
            quota_units: 1650
        }
    );
    let inserts = store
        .provider_usage_since("youtube", Some("videos.insert"), 0)
        .await
        .unwrap();
    assert_eq!((inserts.calls, inserts.quota_units), (2, 3200));
    assert_eq!(
        store
            .provider_usage_since("stability", None, 0)
            .await
            .unwrap(),
        ProviderUsage::default()
    );
}
