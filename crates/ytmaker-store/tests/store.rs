//! Storage tests, run against both backends: a SQLite file in a temp dir and a fresh database on
//! the PostgreSQL server of this machine (`YTMAKER_TEST_PG_URL`, default postgres://postgres@127.0.0.1:5432/postgres).

use serde_json::json;
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetKind, AssetStatus};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::error::Lang;
use ytmaker_core::{ErrorCode, ProjectStatus, Stage, TraceId, YtError};
use ytmaker_store::{NewProject, ProjectFilter, Store};

struct TestDb {
    store: Store,
    _dir: Option<tempfile::TempDir>,
}

async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Store::sqlite_url(&dir.path().join("t.db")))
        .await
        .unwrap();
    TestDb {
        store,
        _dir: Some(dir),
    }
}

async fn postgres() -> TestDb {
    let admin_url = std::env::var("YTMAKER_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("ytmaker_test_{}", Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .expect("PostgreSQL must be running for the storage tests (see scripts/ci-services.sh)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let base = admin_url.rsplit_once('/').unwrap().0;
    let store = Store::open(&format!("{base}/{name}")).await.unwrap();
    TestDb { store, _dir: None }
}

fn new_project(name: &str) -> NewProject {
    NewProject {
        name: name.into(),
        content: "內容".repeat(300),
        configuration: ProjectConfig::default(),
    }
}

macro_rules! both_backends {
    ($($name:ident => $body:ident;)+) => {
        mod on_sqlite { $( #[tokio::test] async fn $name() { let db = super::sqlite().await; super::$body(db.store).await } )+ }
        mod on_postgres { $( #[tokio::test] async fn $name() { let db = super::postgres().await; super::$body(db.store).await } )+ }
    };
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
        .set_status(p.id, ProjectStatus::Rendering, &trace)
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

async fn events_replay_from_a_sequence_number(store: Store) {
    let p = store.create_project(&new_project("a")).await.unwrap();
    let t = TraceId::generate();
    let s1 = store
        .append_event(p.id, "progress", &json!({"percent": 10}), &t)
        .await
        .unwrap();
    let s2 = store
        .append_event(p.id, "progress", &json!({"percent": 20}), &t)
        .await
        .unwrap();
    assert!(s2 > s1);
    let after = store.events_since(p.id, s1).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].payload["percent"], 20);
}

both_backends! {
    project_round_trip => project_round_trip;
    status_changes => status_changes_follow_the_state_machine_and_are_logged;
    failure_and_retry => failure_records_error_info_and_retry_clears_it;
    asset_attempts => assets_count_attempts_and_keep_their_state;
    event_replay => events_replay_from_a_sequence_number;
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
