//! Several linked YouTube accounts, through the server's own login/callback flow against the fake
//! cloud: two channels linked, listed with one default, the default switched and removed,
//! unknown channels 404, a project's chosen account validated and used for its upload (the fake
//! records which channel's token uploaded), a removed chosen account refused rather than
//! replaced, tokens never in answers or logs, and the single account of earlier versions
//! imported without a re-link.

mod common;

use common::{article, cloud_app, fast_config};
use serde_json::{Value, json};
use ytmaker_core::ErrorCode;
use ytmaker_core::config::ProviderKind;
use ytmaker_core::script::{Language, NarrationLine, Script};
use ytmaker_fake_cloud::youtube::{CHANNELS, FakeChannel};
use ytmaker_pipeline::{CloudAccess, Providers};
use ytmaker_providers::PublishRequest;
use ytmaker_providers::cloud::youtube::YoutubeTokens;
use ytmaker_providers::cloud::{Endpoints, Timeouts};
use ytmaker_store::SecretStore;

const CLIENT_ID: &str = "accounts-test.apps.googleusercontent.com";

/// What the fake's tokens look like; none may appear in an answer or a log line.
fn assert_no_token(text: &str) {
    for pattern in ["ya29.", "1//fake", "access_token", "refresh_token"] {
        assert!(!text.contains(pattern), "{pattern} leaked: {text}");
    }
}

/// The login a person makes in the browser: start it here, consent as `channel` on the fake's
/// account chooser (Google's `login_hint`), which redirects to this server's callback.
async fn link(app: &common::TestApp, channel: FakeChannel) -> String {
    let started: Value = app
        .post("/api/v1/youtube/login", &json!({ "client_id": CLIENT_ID }))
        .await
        .json()
        .await
        .unwrap();
    let url = format!(
        "{}&login_hint={}",
        started["authorize_url"].as_str().unwrap(),
        channel.id
    );
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains(channel.id), "{page}");
    assert_no_token(&page);
    page
}

async fn accounts(app: &common::TestApp) -> Vec<Value> {
    let answer = app.get("/api/v1/youtube/accounts").await;
    assert_eq!(answer.status(), 200);
    let text = answer.text().await.unwrap();
    assert_no_token(&text);
    serde_json::from_str::<Vec<Value>>(&text).unwrap()
}

fn ids_and_defaults(list: &[Value]) -> Vec<(String, bool)> {
    list.iter()
        .map(|a| {
            (
                a["channel_id"].as_str().unwrap().to_owned(),
                a["is_default"].as_bool().unwrap(),
            )
        })
        .collect()
}

async fn put(app: &common::TestApp, path: &str) -> reqwest::Response {
    app.client.put(app.url(path)).send().await.unwrap()
}

async fn delete(app: &common::TestApp, path: &str) -> reqwest::Response {
    app.client.delete(app.url(path)).send().await.unwrap()
}

fn script() -> Script {
    let line = |text: &str| NarrationLine {
        text: text.into(),
        estimated_seconds: 3.0,
    };
    Script {
        language: Language::En,
        title: "Two channels".into(),
        description: "A test upload.".into(),
        tags: vec!["test".into()],
        intro: line("Hello."),
        segments: Vec::new(),
        outro: line("Bye."),
        condensation: None,
        warnings: Vec::new(),
    }
}

/// Publishes small files with the publisher `Providers::for_project` builds for `project_id`,
/// as the pipeline's publish stage does.
async fn publish(
    app: &common::TestApp,
    cloud: &ytmaker_fake_cloud::FakeCloud,
    project_id: &str,
) -> ytmaker_core::YtResult<ytmaker_providers::PublishResult> {
    let project = app
        .store
        .get_project(project_id.parse().unwrap())
        .await
        .unwrap();
    let access = CloudAccess::new(
        &app.data,
        Endpoints::all_at(&cloud.url()),
        Timeouts::default(),
    )
    .unwrap();
    let providers = Providers::for_project(&project, &app.tools, &access, &app.store)?;
    let dir = tempfile::tempdir().unwrap();
    let video = dir.path().join("final_video.mp4");
    std::fs::write(&video, vec![7u8; 300 * 1024]).unwrap();
    let thumbnail = dir.path().join("thumbnail.jpg");
    image::RgbImage::from_fn(128, 72, |x, y| image::Rgb([x as u8, y as u8, 90]))
        .save_with_format(&thumbnail, image::ImageFormat::Jpeg)
        .unwrap();
    let subtitles = dir.path().join("subtitles.srt");
    std::fs::write(&subtitles, "1\n00:00:00,000 --> 00:00:01,000\nHello.\n").unwrap();
    let state_dir = dir.path().join("work");
    std::fs::create_dir_all(&state_dir).unwrap();
    let youtube = ytmaker_pipeline::youtube_accounts::project_youtube_settings(&project)?;
    let script = script();
    providers
        .publisher
        .publish(&PublishRequest {
            video: &video,
            thumbnail: &thumbnail,
            subtitles: &subtitles,
            script: &script,
            output_dir: dir.path(),
            youtube: youtube.as_ref(),
            state_dir: &state_dir,
        })
        .await
}

async fn create_project(app: &common::TestApp, account: &str) -> reqwest::Response {
    let mut configuration = serde_json::to_value(fast_config()).unwrap();
    configuration["providers"]["publish"] = json!(ProviderKind::Youtube.as_str());
    app.post(
        "/api/v1/projects",
        &json!({
            "content": article(),
            "configuration": configuration,
            "youtube": { "title": "Two channels", "account": account },
        }),
    )
    .await
}

#[tokio::test]
async fn two_accounts_are_linked_switched_chosen_per_project_and_removed() {
    let logs = tempfile::tempdir().unwrap();
    ytmaker_telemetry::init(&ytmaker_telemetry::LogOptions {
        dir: logs.path().to_owned(),
        stdout: false,
        filter: "info".into(),
    })
    .unwrap();
    let (cloud, app) = cloud_app().await;
    let [first, second] = CHANNELS;
    assert!(accounts(&app).await.is_empty());

    link(&app, first).await;
    link(&app, second).await;
    let listed = accounts(&app).await;
    assert_eq!(
        ids_and_defaults(&listed),
        [(first.id.into(), true), (second.id.into(), false)],
        "the first account linked is the default"
    );
    assert_eq!(listed[1]["channel_title"], second.title);
    assert!(listed[0]["linked_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(app.json("/api/v1/youtube/channel").await["id"], first.id);

    // Linking the same channel again replaces its tokens, not adds a row.
    link(&app, second).await;
    assert_eq!(accounts(&app).await.len(), 2);

    // Switching the default: the channel route follows it.
    let switched = put(
        &app,
        &format!("/api/v1/youtube/accounts/{}/default", second.id),
    )
    .await;
    let switched_status = switched.status();
    let switched: Value = switched.json().await.unwrap();
    assert_eq!(switched_status, 200, "{switched}");
    assert_eq!(switched["is_default"], true);
    assert_eq!(
        ids_and_defaults(&accounts(&app).await),
        [(first.id.into(), false), (second.id.into(), true)]
    );
    assert_eq!(app.json("/api/v1/youtube/channel").await["id"], second.id);

    // Unknown channels, well-formed or not, are 404 NOT_FOUND naming them.
    for unknown in ["UCzzzzzzzzzzzzzzzzzzzzzz", "not-a-channel"] {
        for answer in [
            put(&app, &format!("/api/v1/youtube/accounts/{unknown}/default")).await,
            delete(&app, &format!("/api/v1/youtube/accounts/{unknown}")).await,
        ] {
            assert_eq!(answer.status(), 404);
            let body: Value = answer.json().await.unwrap();
            assert_eq!(body["error"]["code"], "NOT_FOUND", "{body}");
            assert_eq!(body["error"]["details"]["youtube_account"], unknown);
        }
    }

    // A project may choose an account, which must be linked.
    let refused = create_project(&app, "UCzzzzzzzzzzzzzzzzzzzzzz").await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(
        body["error"]["details"]["field"], "youtube.account",
        "{body}"
    );
    let created = create_project(&app, first.id).await;
    assert_eq!(created.status(), 201);
    let on_first: Value = created.json().await.unwrap();
    let on_first = on_first["id"].as_str().unwrap().to_owned();
    let on_default: Value = create_project(&app, "").await.json().await.unwrap();
    let on_default = on_default["id"].as_str().unwrap().to_owned();
    // Changing the account later is validated the same way.
    let update = app
        .client
        .put(app.url(&format!("/api/v1/projects/{on_default}/youtube")))
        .json(&json!({ "account": "UCzzzzzzzzzzzzzzzzzzzzzz" }))
        .send()
        .await
        .unwrap();
    assert_eq!(update.status(), 422);

    // The project that chose the first (not the default) channel uploads with its token; the
    // one that chose none uploads with the default's. The thumbnail goes with the same token
    // (the fake lets only the owning channel set it).
    let uploaded = publish(&app, &cloud, &on_first).await.unwrap();
    let videos = cloud.state().youtube.videos();
    assert_eq!(videos.len(), 1);
    assert_eq!(uploaded.video_id.as_deref(), Some(videos[0].id.as_str()));
    assert_eq!(videos[0].channel_id, first.id);
    assert!(cloud.state().youtube.thumbnail(&videos[0].id).is_some());
    publish(&app, &cloud, &on_default).await.unwrap();
    let videos = cloud.state().youtube.videos();
    assert_eq!(videos[1].channel_id, second.id);

    // Removing the chosen account: its upload is refused, never sent to another channel.
    let removed = delete(&app, &format!("/api/v1/youtube/accounts/{}", first.id)).await;
    assert_eq!(removed.status(), 204);
    assert_eq!(
        ids_and_defaults(&accounts(&app).await),
        [(second.id.into(), true)]
    );
    let err = publish(&app, &cloud, &on_first).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::YOUTUBE_NOT_LINKED);
    assert_eq!(err.details["account"], first.id);
    assert_eq!(cloud.state().youtube.videos().len(), 2, "nothing uploaded");
    let secrets = SecretStore::open(&app.data);
    assert!(
        secrets
            .get(&format!("youtube:{}", first.id))
            .unwrap()
            .is_none(),
        "its tokens are gone too"
    );

    // Removing the default leaves none, and then nothing is linked.
    let removed = delete(&app, &format!("/api/v1/youtube/accounts/{}", second.id)).await;
    assert_eq!(removed.status(), 204);
    assert!(accounts(&app).await.is_empty());
    let err = publish(&app, &cloud, &on_default).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::YOUTUBE_NOT_LINKED);
    let channel = app.get("/api/v1/youtube/channel").await;
    assert_eq!(channel.status(), 400);
    assert!(channel.text().await.unwrap().contains("YOUTUBE_NOT_LINKED"));

    let lines = ytmaker_telemetry::read_lines(logs.path(), &Default::default()).unwrap();
    assert!(
        lines.iter().any(|l| l.contains("youtube account linked")),
        "the log has the links"
    );
    for line in &lines {
        assert!(
            !line.contains("ya29.") && !line.contains("1//fake"),
            "{line}"
        );
    }
}

#[tokio::test]
async fn the_single_account_of_an_earlier_version_is_imported_as_the_default() {
    let (cloud, app) = cloud_app().await;
    let second = CHANNELS[1];
    // What an earlier version left: the tokens under `youtube`, no account rows.
    let granted = cloud.state().youtube.grant_as(CLIENT_ID, second);
    let tokens = YoutubeTokens {
        client_id: CLIENT_ID.into(),
        client_secret: None,
        access_token: ytmaker_core::Secret::new(granted.access_token),
        refresh_token: ytmaker_core::Secret::new(granted.refresh_token),
        expires_at_ms: i64::MAX,
        scope: granted.scope,
    };
    let secrets = SecretStore::open(&app.data);
    secrets
        .set(
            "youtube",
            &ytmaker_core::Secret::new(tokens.to_store_json()),
        )
        .unwrap();

    // The channel route keeps working without a re-link…
    assert_eq!(app.json("/api/v1/youtube/channel").await["id"], second.id);
    // …because the account was imported: a row, the default, its tokens under its channel.
    assert_eq!(
        ids_and_defaults(&accounts(&app).await),
        [(second.id.into(), true)]
    );
    assert!(secrets.get("youtube").unwrap().is_none());
    assert!(
        secrets
            .get(&format!("youtube:{}", second.id))
            .unwrap()
            .is_some()
    );
    // Linking another account afterwards keeps the imported one the default.
    link(&app, CHANNELS[0]).await;
    assert_eq!(
        ids_and_defaults(&accounts(&app).await),
        [(second.id.into(), true), (CHANNELS[0].id.into(), false)]
    );
}

#[tokio::test]
async fn legacy_tokens_youtube_refuses_are_reported_and_can_be_unlinked() {
    let (_cloud, app) = cloud_app().await;
    let dead = YoutubeTokens {
        client_id: CLIENT_ID.into(),
        client_secret: None,
        access_token: ytmaker_core::Secret::new("ya29.revoked"),
        refresh_token: ytmaker_core::Secret::new("1//revoked"),
        expires_at_ms: i64::MAX,
        scope: "https://www.googleapis.com/auth/youtube.upload".into(),
    };
    let secrets = SecretStore::open(&app.data);
    secrets
        .set("youtube", &ytmaker_core::Secret::new(dead.to_store_json()))
        .unwrap();
    let answer = app.get("/api/v1/youtube/accounts").await;
    assert!(
        answer.status().is_client_error(),
        "the refusal is shown, not an empty list"
    );
    let text = answer.text().await.unwrap();
    assert!(text.contains("YOUTUBE_"), "{text}");
    assert_no_token(&text);
    assert!(
        secrets.get("youtube").unwrap().is_some(),
        "kept until unlinked"
    );
    assert_eq!(delete(&app, "/api/v1/youtube/channel").await.status(), 204);
    assert!(secrets.get("youtube").unwrap().is_none());
    assert!(accounts(&app).await.is_empty());
}
