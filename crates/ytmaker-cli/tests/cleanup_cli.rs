//! `ytmaker cleanup` against the real binary: "forever" (the default) removes nothing; with 7 days
//! a project that finished long ago loses its intermediates (a dry run only measures them), the
//! article, script and output stay, and a folder that cannot be deleted is reported with its
//! code and path and a non-zero exit while the other projects are cleaned.

mod common;

use std::path::Path;

use common::{TestEnv, block_on};
use serde_json::{Value, json};
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetKind};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::{ProjectStatus, TraceId};
use ytmaker_store::{NewProject, Store};

/// A COMPLETED project that finished in 2000, with an article, a narration line and a video.
fn old_completed_project(env: &TestEnv, store: &Store) -> Uuid {
    let id = block_on(async {
        let p = store
            .create_project(&NewProject {
                name: "old".into(),
                content: "內容".repeat(300),
                configuration: ProjectConfig::default(),
            })
            .await
            .unwrap();
        let t = TraceId::generate();
        for &s in &ProjectStatus::ALL[1..=10] {
            store.set_status(p.id, s, &t).await.unwrap();
        }
        let key = AssetKey::indexed(AssetKind::Audio, 0);
        store.begin_asset(p.id, key, "test").await.unwrap();
        store
            .complete_asset(p.id, key, "audio/line-000.wav", "h", &json!({}))
            .await
            .unwrap();
        let mut conn =
            <sqlx::AnyConnection as sqlx::Connection>::connect(&Store::sqlite_url(&env.db_path()))
                .await
                .unwrap();
        sqlx::query("UPDATE projects SET updated_at = '2000-01-01T00:00:00.000Z' WHERE id = $1")
            .bind(p.id.to_string())
            .execute(&mut conn)
            .await
            .unwrap();
        p.id
    });
    let dir = env.project_dir(id);
    for (file, bytes) in [
        ("input.txt", 10),
        ("audio/line-000.wav", 2_000_000),
        ("output/final_video.mp4", 10),
    ] {
        std::fs::create_dir_all(dir.join(file).parent().unwrap()).unwrap();
        std::fs::write(dir.join(file), vec![0u8; bytes]).unwrap();
    }
    id
}

fn json_of(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn cleanup_applies_the_stored_retention_and_reports_failures() {
    let env = TestEnv::new();
    std::fs::create_dir_all(&env.data).unwrap();
    let store = env.open_store();
    let old = old_completed_project(&env, &store);

    let kept = env.run(&["cleanup", "--json"]);
    kept.assert_ok();
    let report = json_of(&kept.stdout);
    assert_eq!(report["policy"], "forever");
    assert_eq!(report["projects"], json!([]));
    assert!(env.project_dir(old).join("audio/line-000.wav").exists());

    block_on(store.put_setting("retention", &json!("7d"))).unwrap();
    let dry = env.run(&["cleanup", "--dry-run", "--json"]);
    dry.assert_ok();
    let report = json_of(&dry.stdout);
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["projects"][0]["project_id"], old.to_string());
    assert_eq!(report["projects"][0]["bytes_freed"], 2_000_000);
    assert!(
        env.project_dir(old).join("audio/line-000.wav").exists(),
        "dry"
    );

    // A second old project whose `segments` is a file where a folder belongs.
    let broken = old_completed_project(&env, &store);
    let segments = env.project_dir(broken).join("segments");
    std::fs::write(&segments, b"not a folder").unwrap();

    let run = env.run(&["cleanup"]);
    assert_eq!(run.code(), Some(6), "{}", run.describe());
    assert!(
        run.stdout.contains(&format!("{old} (COMPLETED"))
            && run.stdout.contains("removed audio/ — 2.0 MB"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("error[FILE_SYSTEM_ERROR]"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&segments.display().to_string()),
        "the failure names the path: {}",
        run.stderr
    );
    assert!(run.stderr.contains(&broken.to_string()), "{}", run.stderr);
    let dir = env.project_dir(old);
    assert!(!dir.join("audio").exists());
    for f in ["input.txt", "output/final_video.mp4"] {
        assert!(Path::new(&dir.join(f)).exists(), "{f} is kept");
    }
    let audio = &env.assets(old)[0];
    assert!(audio.removed_at.is_some());

    // Once done, a sweep has nothing left for the cleaned project.
    let again = env.run(&["cleanup", "--json"]);
    let report = json_of(&again.stdout);
    assert_eq!(report["projects"], json!([]), "{}", again.stdout);
    assert_eq!(report["failures"][0]["project_id"], broken.to_string());
}
