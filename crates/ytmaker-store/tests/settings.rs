//! The `settings` table and the retention records, on both backends.

use serde_json::json;
use ytmaker_core::asset::{AssetKey, AssetKind};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::event::ProjectEvent;
use ytmaker_core::{ProjectStatus, TraceId};

#[macro_use]
mod common;

use ytmaker_store::{NewProject, Store};

async fn settings_round_trip_and_replace(store: Store) {
    assert!(
        store.setting("retention").await.unwrap().is_none(),
        "a fresh database has no stored value, so the default applies"
    );
    let first = store.put_setting("retention", &json!("7d")).await.unwrap();
    let read = store.setting("retention").await.unwrap().unwrap();
    assert_eq!(read.value, json!("7d"));
    assert_eq!(read.updated_at, first.updated_at);
    store.put_setting("retention", &json!("30d")).await.unwrap();
    assert_eq!(
        store.setting("retention").await.unwrap().unwrap().value,
        json!("30d"),
        "a second write replaces the value instead of adding a row"
    );
    store
        .put_setting("other", &json!({"nested": [1, 2]}))
        .await
        .unwrap();
    assert_eq!(
        store.setting("other").await.unwrap().unwrap().value,
        json!({"nested": [1, 2]})
    );
    assert_eq!(
        store.setting("retention").await.unwrap().unwrap().value,
        json!("30d")
    );
}

async fn finish(store: &Store, to: ProjectStatus) -> uuid::Uuid {
    let p = store
        .create_project(&NewProject {
            name: "p".into(),
            content: "內容".repeat(300),
            configuration: ProjectConfig::default(),
        })
        .await
        .unwrap();
    let t = TraceId::generate();
    let path = match to {
        ProjectStatus::Completed => &ProjectStatus::ALL[1..=10],
        ProjectStatus::Cancelled => {
            &[ProjectStatus::ScriptGenerating, ProjectStatus::Cancelled][..]
        }
        ProjectStatus::Paused => &[ProjectStatus::ScriptGenerating, ProjectStatus::Paused][..],
        other => panic!("no path to {other}"),
    };
    for &s in path {
        store.set_status(p.id, s, &t).await.unwrap();
    }
    assert_eq!(store.get_project(p.id).await.unwrap().status, to);
    p.id
}

async fn finished_projects_are_listed_by_age_and_removals_recorded(store: Store) {
    let completed = finish(&store, ProjectStatus::Completed).await;
    let cancelled = finish(&store, ProjectStatus::Cancelled).await;
    let paused = finish(&store, ProjectStatus::Paused).await;
    let far_future = "2999-01-01T00:00:00.000Z";
    let listed: Vec<_> = store
        .finished_before(far_future)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.id, f.status))
        .collect();
    assert!(listed.contains(&(completed, ProjectStatus::Completed)));
    assert!(listed.contains(&(cancelled, ProjectStatus::Cancelled)));
    assert!(
        !listed.iter().any(|(id, _)| *id == paused),
        "a paused project is never a retention candidate"
    );
    assert!(
        store
            .finished_before("2000-01-01T00:00:00.000Z")
            .await
            .unwrap()
            .is_empty(),
        "nothing finished before it was made"
    );

    let key = AssetKey::indexed(AssetKind::Audio, 0);
    let audio = store
        .begin_asset(completed, key, "espeak-ng")
        .await
        .unwrap();
    store
        .complete_asset(completed, key, "audio/line-000.wav", "h", &json!({}))
        .await
        .unwrap();
    assert!(audio.removed_at.is_none());
    let t = TraceId::generate();
    let seq = store
        .record_files_removed(completed, &[audio.id], &retention(42), &t)
        .await
        .unwrap();
    let removed = store.asset(completed, key).await.unwrap().unwrap();
    let removed_at = removed.removed_at.clone().expect("marked removed");
    assert!(
        removed.is_completed(),
        "the row still records what was made"
    );
    let events = store.events_since(completed, seq - 1).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, "retention");
    assert_eq!(events[0].payload["bytes_freed"], 42);

    // Recording again does not move the first removal time.
    store
        .record_files_removed(completed, &[audio.id], &retention(0), &t)
        .await
        .unwrap();
    assert_eq!(
        store
            .asset(completed, key)
            .await
            .unwrap()
            .unwrap()
            .removed_at,
        Some(removed_at)
    );
    // Making the asset again gives it a file again.
    let again = store
        .begin_asset(completed, key, "espeak-ng")
        .await
        .unwrap();
    assert!(again.removed_at.is_none());
}

both_backends! {
    settings_round_trip => settings_round_trip_and_replace;
    retention_records => finished_projects_are_listed_by_age_and_removals_recorded;
}

fn retention(bytes_freed: u64) -> ProjectEvent {
    ProjectEvent::Retention {
        policy: "7d".into(),
        removed: vec!["audio".into()],
        bytes_freed,
        assets: 1,
        finished_at: "2026-01-01T00:00:00.000Z".into(),
    }
}
