//! The retention clean-up with real files in a temp data dir and a real SQLite store: only the
//! intermediates of COMPLETED/CANCELLED projects older than the policy go; the article, the
//! script and the output always stay; FAILED and recent projects keep everything; "forever"
//! deletes nothing; a second sweep is a no-op; each clean-up is a `retention` event and the
//! assets whose files went are marked.

use std::path::Path;

use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetKind};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::error::Lang;
use ytmaker_core::retention::Retention;
use ytmaker_core::{ErrorCode, ProjectStatus, TraceId, YtError};
use ytmaker_pipeline::retention::{self, INTERMEDIATE_DIRS, SweepMode};
use ytmaker_store::{DataDir, NewProject, Store};

struct Env {
    store: Store,
    data: DataDir,
    _dir: tempfile::TempDir,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = DataDir::new(dir.path());
    let store = Store::open(&Store::sqlite_url(&dir.path().join("t.db")))
        .await
        .unwrap();
    Env {
        store,
        data,
        _dir: dir,
    }
}

const KEPT: [&str; 5] = [
    "input.txt",
    "script.json",
    "output/final_video.mp4",
    "output/thumbnail.jpg",
    "output/subtitles.srt",
];
const INTERMEDIATE_FILES: [&str; 6] = [
    "audio/line-000.wav",
    "images/segment-000.png",
    "avatar/intro.mp4",
    "segments/clip-000.mp4",
    "segments/nested/part.bin",
    "work/youtube-upload.json",
];

/// A project in status `to` with every file of the layout on disk (1000 bytes each) and a
/// completed asset row for the narration line and the image.
async fn project_with_files(env: &Env, to: ProjectStatus) -> Uuid {
    let p = env
        .store
        .create_project(&NewProject {
            name: format!("{to}"),
            content: "內容".repeat(300),
            configuration: ProjectConfig::default(),
        })
        .await
        .unwrap();
    let t = TraceId::generate();
    let path: Vec<ProjectStatus> = match to {
        ProjectStatus::Completed => ProjectStatus::ALL[1..=10].to_vec(),
        ProjectStatus::Cancelled => vec![ProjectStatus::ScriptGenerating, ProjectStatus::Cancelled],
        ProjectStatus::Failed | ProjectStatus::Paused => {
            vec![ProjectStatus::ScriptGenerating, to]
        }
        other => panic!("no path to {other}"),
    };
    for s in path {
        if s == ProjectStatus::Failed {
            let info = YtError::new(ErrorCode::TTS_ENGINE_FAILED, "x").to_info(&t, 1, Lang::En);
            env.store.fail_project(p.id, &info).await.unwrap();
        } else {
            env.store.set_status(p.id, s, &t).await.unwrap();
        }
    }
    let root = env.data.project(p.id).root().to_owned();
    for f in KEPT.iter().chain(INTERMEDIATE_FILES.iter()) {
        let path = root.join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, vec![7u8; 1000]).unwrap();
    }
    for (key, file) in [
        (AssetKey::indexed(AssetKind::Audio, 0), "audio/line-000.wav"),
        (
            AssetKey::indexed(AssetKind::Image, 0),
            "images/segment-000.png",
        ),
        (
            AssetKey::single(AssetKind::FinalVideo),
            "output/final_video.mp4",
        ),
    ] {
        env.store.begin_asset(p.id, key, "test").await.unwrap();
        env.store
            .complete_asset(p.id, key, file, "hash", &json!({}))
            .await
            .unwrap();
    }
    p.id
}

fn exists(env: &Env, id: Uuid, rel: &str) -> bool {
    env.data.project(id).root().join(rel).exists()
}

fn assert_all_kept(env: &Env, id: Uuid) {
    for f in KEPT.iter().chain(INTERMEDIATE_FILES.iter()) {
        assert!(exists(env, id, f), "{f} must be kept");
    }
}

async fn retention_events(store: &Store, id: Uuid) -> Vec<serde_json::Value> {
    store
        .events_since(id, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "retention")
        .map(|e| e.payload)
        .collect()
}

fn in_days(days: i64) -> chrono::DateTime<Utc> {
    Utc::now() + Duration::days(days)
}

#[tokio::test]
async fn old_finished_projects_lose_only_their_intermediates() {
    let env = env().await;
    let completed = project_with_files(&env, ProjectStatus::Completed).await;
    let cancelled = project_with_files(&env, ProjectStatus::Cancelled).await;
    let failed = project_with_files(&env, ProjectStatus::Failed).await;
    let paused = project_with_files(&env, ProjectStatus::Paused).await;
    retention::set_policy(&env.store, Retention::SevenDays)
        .await
        .unwrap();
    let t = TraceId::generate();

    // Today every project is recent: nothing goes.
    let now = retention::sweep(&env.store, &env.data, Utc::now(), SweepMode::Delete, &t)
        .await
        .unwrap();
    assert!(now.projects.is_empty() && now.failures.is_empty());
    assert_eq!(now.bytes_freed, 0);
    for id in [completed, cancelled, failed, paused] {
        assert_all_kept(&env, id);
    }

    // Eight days on, the finished ones lose their intermediates.
    let report = retention::sweep(&env.store, &env.data, in_days(8), SweepMode::Delete, &t)
        .await
        .unwrap();
    assert!(report.failures.is_empty(), "{:?}", report.failures);
    let mut cleaned: Vec<Uuid> = report.projects.iter().map(|p| p.project_id).collect();
    cleaned.sort();
    let mut expected = vec![completed, cancelled];
    expected.sort();
    assert_eq!(cleaned, expected);
    let per_project = INTERMEDIATE_FILES.len() as u64 * 1000;
    assert_eq!(report.bytes_freed, 2 * per_project);
    for id in [completed, cancelled] {
        for f in KEPT {
            assert!(exists(&env, id, f), "{f} is never removed");
        }
        for d in INTERMEDIATE_DIRS {
            assert!(!exists(&env, id, d), "{d}/ is removed");
        }
        let events = retention_events(&env.store, id).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["policy"], "7d");
        assert_eq!(events[0]["bytes_freed"], per_project);
        assert_eq!(
            events[0]["removed"],
            json!(["audio", "images", "avatar", "segments", "work"])
        );
        assert_eq!(events[0]["assets"], 2);
    }
    let assets = env.store.assets(completed).await.unwrap();
    for a in &assets {
        let intermediate = a.key.kind != AssetKind::FinalVideo;
        assert_eq!(
            a.removed_at.is_some(),
            intermediate,
            "{:?}: only assets whose file went are marked",
            a.key
        );
    }
    for id in [failed, paused] {
        assert_all_kept(&env, id);
        assert!(retention_events(&env.store, id).await.is_empty());
    }

    // Again: nothing left to do, nothing recorded.
    let again = retention::sweep(&env.store, &env.data, in_days(8), SweepMode::Delete, &t)
        .await
        .unwrap();
    assert!(again.projects.is_empty() && again.failures.is_empty());
    assert_eq!(again.bytes_freed, 0);
    assert_eq!(retention_events(&env.store, completed).await.len(), 1);
}

#[tokio::test]
async fn forever_deletes_nothing_and_thirty_days_waits_thirty_days() {
    let env = env().await;
    let completed = project_with_files(&env, ProjectStatus::Completed).await;
    let t = TraceId::generate();
    let report = retention::sweep(&env.store, &env.data, in_days(3650), SweepMode::Delete, &t)
        .await
        .unwrap();
    assert_eq!(
        report.policy,
        Retention::Forever,
        "the default keeps everything"
    );
    assert!(report.cutoff.is_none() && report.projects.is_empty());
    assert_all_kept(&env, completed);

    retention::set_policy(&env.store, Retention::ThirtyDays)
        .await
        .unwrap();
    let early = retention::sweep(&env.store, &env.data, in_days(29), SweepMode::Delete, &t)
        .await
        .unwrap();
    assert!(early.projects.is_empty());
    assert_all_kept(&env, completed);
    let late = retention::sweep(&env.store, &env.data, in_days(31), SweepMode::Delete, &t)
        .await
        .unwrap();
    assert_eq!(late.projects.len(), 1);
    assert!(!exists(&env, completed, "audio"));
}

#[tokio::test]
async fn a_dry_run_measures_without_deleting_or_recording() {
    let env = env().await;
    let completed = project_with_files(&env, ProjectStatus::Completed).await;
    retention::set_policy(&env.store, Retention::SevenDays)
        .await
        .unwrap();
    let t = TraceId::generate();
    let dry = retention::sweep(&env.store, &env.data, in_days(8), SweepMode::DryRun, &t)
        .await
        .unwrap();
    assert!(dry.dry_run);
    assert_eq!(dry.projects.len(), 1);
    assert_eq!(dry.bytes_freed, INTERMEDIATE_FILES.len() as u64 * 1000);
    assert_eq!(dry.projects[0].assets, 2);
    assert_all_kept(&env, completed);
    assert!(retention_events(&env.store, completed).await.is_empty());
    assert!(
        env.store
            .assets(completed)
            .await
            .unwrap()
            .iter()
            .all(|a| a.removed_at.is_none())
    );
}

#[tokio::test]
async fn a_deletion_failure_is_reported_with_its_path_and_the_sweep_goes_on() {
    let env = env().await;
    let broken = project_with_files(&env, ProjectStatus::Completed).await;
    let fine = project_with_files(&env, ProjectStatus::Completed).await;
    // `segments` is a file where a folder belongs: removing it as a folder fails (this holds for
    // root too, unlike a permission trick).
    let segments = env.data.project(broken).root().join("segments");
    std::fs::remove_dir_all(&segments).unwrap();
    std::fs::write(&segments, b"not a folder").unwrap();
    retention::set_policy(&env.store, Retention::SevenDays)
        .await
        .unwrap();
    let t = TraceId::generate();
    let report = retention::sweep(&env.store, &env.data, in_days(8), SweepMode::Delete, &t)
        .await
        .unwrap();
    assert_eq!(report.failures.len(), 1, "{:?}", report.failures);
    let failure = &report.failures[0];
    assert_eq!(failure.project_id, broken);
    assert_eq!(failure.code, ErrorCode::FILE_SYSTEM_ERROR);
    assert_eq!(failure.details["path"], segments.display().to_string());
    assert_eq!(failure.details["operation"], "delete");
    // The other project was cleaned all the same.
    assert_eq!(report.projects.len(), 1);
    assert_eq!(report.projects[0].project_id, fine);
    assert!(!exists(&env, fine, "segments"));
    // What went before the failure is recorded; the sweep stopped at the failing folder.
    assert!(Path::new(&segments).exists());
    assert!(exists(&env, broken, "work/youtube-upload.json"));
    let events = retention_events(&env.store, broken).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["removed"], json!(["audio", "images", "avatar"]));
    let assets = env.store.assets(broken).await.unwrap();
    for a in &assets {
        assert_eq!(
            a.removed_at.is_some(),
            a.key.kind != AssetKind::FinalVideo,
            "{:?}",
            a.key
        );
    }
    for f in KEPT {
        assert!(exists(&env, broken, f), "{f} is never removed");
    }

    // The next sweep meets the same failure again and reports it again; nothing is recorded twice.
    let again = retention::sweep(&env.store, &env.data, in_days(8), SweepMode::Delete, &t)
        .await
        .unwrap();
    assert_eq!(again.failures.len(), 1);
    assert!(again.projects.is_empty());
    assert_eq!(retention_events(&env.store, broken).await.len(), 1);
}

#[tokio::test]
async fn a_stored_policy_that_is_not_one_of_the_three_is_a_database_error() {
    let env = env().await;
    env.store
        .put_setting("retention", &json!("1d"))
        .await
        .unwrap();
    let err = retention::policy(&env.store).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::DATABASE_ERROR);
    let t = TraceId::generate();
    let err = retention::sweep(&env.store, &env.data, Utc::now(), SweepMode::Delete, &t)
        .await
        .unwrap_err();
    assert_eq!(
        err.code,
        ErrorCode::DATABASE_ERROR,
        "never guessed into a policy"
    );
}
