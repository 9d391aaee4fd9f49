//! `/api/v1/settings` and the retention sweep through the service: the default is "forever", a
//! valid choice is stored and answered, anything else is refused naming the field, and after a
//! sweep the assets list offers no download of a removed file while downloading it anyway is the
//! catalogued `ASSET_FILE_REMOVED` — the kept output still downloads.

mod common;

use reqwest::StatusCode;
use serde_json::{Value, json};

use common::{Options, TestApp, spawn_app};
use uuid::Uuid;
use ytmaker_core::asset::{AssetKey, AssetKind};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::{ProjectStatus, TraceId};
use ytmaker_store::NewProject;

async fn put(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .put(app.url("/api/v1/settings"))
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn error_of(r: reqwest::Response) -> Value {
    let body: Value = r.json().await.unwrap();
    body["error"].clone()
}

#[tokio::test]
async fn retention_defaults_to_forever_and_only_the_three_policies_are_stored() {
    let app = spawn_app(Options::default()).await;
    assert_eq!(
        app.json("/api/v1/settings").await,
        json!({"retention": "forever"})
    );

    let r = put(&app, &json!({"retention": "7d"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"retention": "7d"}));
    assert_eq!(
        app.json("/api/v1/settings").await,
        json!({"retention": "7d"})
    );

    for bad in [json!("14d"), json!(7), json!("Forever")] {
        let r = put(&app, &json!({ "retention": bad })).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let e = error_of(r).await;
        assert_eq!(e["code"], "VALIDATION_ERROR");
        assert_eq!(e["details"]["field"], "retention");
        assert_eq!(e["details"]["value"], bad);
        assert!(e["trace_id"].as_str().is_some_and(|t| !t.is_empty()));
    }
    let r = put(&app, &json!({"keep": "7d"})).await;
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );
    assert_eq!(error_of(r).await["code"], "REQUEST_MALFORMED");
    assert_eq!(
        app.json("/api/v1/settings").await,
        json!({"retention": "7d"}),
        "a refused change leaves the stored value"
    );
}

/// A COMPLETED project that finished in 2000, with a narration line (intermediate) and the final
/// video (output) on disk and in the assets table.
async fn old_completed_project(app: &TestApp) -> Uuid {
    let store = &app.store;
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
    let root = app.data.project(p.id).root().to_owned();
    for (key, file) in [
        (AssetKey::indexed(AssetKind::Audio, 0), "audio/line-000.wav"),
        (
            AssetKey::single(AssetKind::FinalVideo),
            "output/final_video.mp4",
        ),
    ] {
        std::fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
        std::fs::write(root.join(file), b"RIFF-test-bytes").unwrap();
        store.begin_asset(p.id, key, "test").await.unwrap();
        store
            .complete_asset(p.id, key, file, "hash", &json!({}))
            .await
            .unwrap();
    }
    // Back-date the finish, on whichever backend the test runs.
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query("UPDATE projects SET updated_at = '2000-01-01T00:00:00.000Z' WHERE id = $1")
        .bind(p.id.to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    p.id
}

fn asset_of<'a>(assets: &'a Value, kind: &str) -> &'a Value {
    assets["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"]["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} asset in {assets}"))
}

#[tokio::test]
async fn a_removed_intermediate_is_not_offered_and_its_download_is_asset_file_removed() {
    let app = spawn_app(Options::default()).await;
    let id = old_completed_project(&app).await;
    let assets_path = format!("/api/v1/projects/{id}/assets");

    // Kept: both files are offered and download.
    let before = app.json(&assets_path).await;
    let audio_url = asset_of(&before, "audio")["file_url"]
        .as_str()
        .expect("a kept file is offered")
        .to_owned();
    let r = app.get(&audio_url).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "audio/wav");
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"RIFF-test-bytes");

    // "forever" (the default) removes nothing, even for a project finished in 2000.
    let swept: Value = app
        .post("/api/v1/settings/retention/sweep", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(swept["policy"], "forever");
    assert_eq!(swept["projects"], json!([]));
    assert_eq!(app.get(&audio_url).await.status(), StatusCode::OK);

    assert_eq!(
        put(&app, &json!({"retention": "7d"})).await.status(),
        StatusCode::OK
    );
    let dry: Value = app
        .post("/api/v1/settings/retention/sweep?dry_run=true", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["projects"][0]["project_id"], id.to_string());
    assert_eq!(app.get(&audio_url).await.status(), StatusCode::OK, "dry");

    let swept: Value = app
        .post("/api/v1/settings/retention/sweep", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(swept["policy"], "7d");
    assert_eq!(swept["failures"], json!([]));
    assert_eq!(swept["projects"][0]["project_id"], id.to_string());
    assert_eq!(swept["projects"][0]["removed"], json!(["audio"]));
    assert_eq!(swept["bytes_freed"], b"RIFF-test-bytes".len());

    let after = app.json(&assets_path).await;
    let audio = asset_of(&after, "audio");
    assert!(audio["removed_at"].is_string());
    assert!(audio["file_url"].is_null(), "a removed file is not offered");
    let video = asset_of(&after, "final_video");
    assert!(video["removed_at"].is_null());
    let video_url = video["file_url"].as_str().unwrap().to_owned();

    let r = app.get(&audio_url).await;
    assert_eq!(r.status(), StatusCode::GONE);
    let e = error_of(r).await;
    assert_eq!(e["code"], "ASSET_FILE_REMOVED");
    assert_eq!(e["details"]["kind"], "audio");
    assert!(e["details"]["removed_at"].is_string());
    assert!(!e["solutions"].as_array().unwrap().is_empty());

    let r = app.get(&video_url).await;
    assert_eq!(r.status(), StatusCode::OK, "the output is always kept");
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert_eq!(
        app.get(&format!("/api/v1/projects/{id}/files/video"))
            .await
            .status(),
        StatusCode::OK
    );

    // The project's event log says when and what.
    let events = app.json(&format!("/api/v1/projects/{id}/events")).await;
    let retention: Vec<&Value> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "retention")
        .collect();
    assert_eq!(retention.len(), 1);
    assert_eq!(retention[0]["payload"]["removed"], json!(["audio"]));

    // An unknown asset is a plain NOT_FOUND.
    let r = app
        .get(&format!(
            "/api/v1/projects/{id}/assets/{}/file",
            Uuid::new_v4()
        ))
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_of(r).await["code"], "NOT_FOUND");
}
