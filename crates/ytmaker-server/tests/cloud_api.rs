//! The cloud providers through the service: keys go in through the API and never come out; a
//! project on Gemini, Google TTS, Stability AI and D-ID shows its retries on the WebSocket; a
//! D-ID quota failure stops the project at once, and the user's explicit choices (their own
//! image for a segment, continuing without the presenter) let a retry finish it without paying
//! again for anything already made. Everything runs against the fake cloud.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use common::cloud_app;
use ytmaker_fake_cloud::{Api, Fault};

const STABILITY_KEY: &str = "sk-api-test-stability-77aa";

#[tokio::test]
async fn keys_go_in_and_never_come_out() {
    let (_cloud, app) = cloud_app().await;
    let wrong = "invalid-key-for-the-test-123456";
    let stored = app.put_key("stability", wrong).await;
    assert_eq!(stored.status(), 200);
    let stored = stored.text().await.unwrap();
    assert!(!stored.contains(wrong), "{stored}");

    // The provider refuses it: the answer names the code, never the key.
    let tested = app.post("/api/v1/keys/stability/test", &json!({})).await;
    assert_eq!(tested.status(), 401);
    let body = tested.text().await.unwrap();
    assert!(body.contains("STABILITY_INVALID_API_KEY"), "{body}");
    assert!(!body.contains(wrong), "{body}");

    assert_eq!(app.put_key("stability", STABILITY_KEY).await.status(), 200);
    let tested: Value = app
        .post("/api/v1/keys/stability/test", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        tested["message"].as_str().unwrap().contains("credits"),
        "{tested}"
    );

    let listed = app.get("/api/v1/keys").await.text().await.unwrap();
    assert!(
        !listed.contains(STABILITY_KEY) && !listed.contains("77aa-"),
        "{listed}"
    );
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let stability = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["provider"] == "stability")
        .unwrap();
    assert_eq!(stability["stored"], true);
    assert_eq!(stability["hint"], "…77aa (26 characters)");

    let unknown = app.put_key("openai", "x").await;
    assert_eq!(unknown.status(), 422);
    // A key for a provider with none stored: refused before any call.
    let missing = app.post("/api/v1/keys/gemini/test", &json!({})).await;
    assert_eq!(missing.status(), 400);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("PROVIDER_KEY_MISSING")
    );

    // At rest: encrypted, in an owner-only file; not in the database.
    let raw = std::fs::read(app.data.root().join("secrets/keys.age")).unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains(STABILITY_KEY));
    let db =
        std::fs::read(app.data.root().parent().unwrap().join("ytmaker.db")).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&db).contains(STABILITY_KEY));

    let deleted = app
        .client
        .delete(app.url("/api/v1/keys/stability"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let again = app
        .client
        .delete(app.url("/api/v1/keys/stability"))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn the_llm_key_is_sent_only_to_the_server_it_was_stored_for() {
    let (cloud, app) = cloud_app().await;
    let key = "sk-bound-llm-SECRET-4242";
    let base_url = format!("{}/v1", cloud.url());
    let origin = cloud.url().trim_end_matches('/').to_owned();

    // Another key takes no server; the LLM key is stored with the one it is for.
    let refused = app
        .client
        .put(app.url("/api/v1/keys/stability"))
        .json(&json!({ "value": "sk-x", "base_url": base_url }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let stored = app
        .client
        .put(app.url("/api/v1/keys/openai_compatible"))
        .json(&json!({ "value": key, "base_url": base_url }))
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
    let stored: Value = stored.json().await.unwrap();
    assert_eq!(stored["server"], origin.as_str());
    let listed: Value = app.json("/api/v1/keys").await;
    let llm = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["provider"] == "openai_compatible")
        .unwrap();
    assert_eq!(llm["server"], origin.as_str());

    // A project that points llm.base_url elsewhere is refused at Start, before anything is sent
    // there: the key would otherwise go to whoever listens at that address.
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let configuration = json!({
        "providers": { "script": "openai_compatible" },
        "llm": {
            "base_url": format!("http://{}/v1", elsewhere.local_addr().unwrap()),
            "model": "gpt-4o-mini",
            "api_key": "openai_compatible",
        },
    });
    let created = app
        .post(
            "/api/v1/projects",
            &json!({ "content": common::article(), "configuration": configuration }),
        )
        .await;
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let started = app
        .post(&format!("/api/v1/projects/{id}/start"), &json!({}))
        .await;
    let status = started.status();
    let body = started.text().await.unwrap();
    assert_eq!(status, 422, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "LLM_KEY_FOR_OTHER_SERVER");
    assert_eq!(body["error"]["details"]["key_server"], origin.as_str());
    assert!(!body.to_string().contains(key));
    assert!(
        matches!(elsewhere.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "something connected to the other server"
    );
    assert_eq!(cloud.count(Api::OpenaiCompatible, "chat.completions"), 0);

    // Deleting the key forgets its server.
    let deleted = app
        .client
        .delete(app.url("/api/v1/keys/openai_compatible"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let listed: Value = app.json("/api/v1/keys").await;
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["server"].is_null()),
        "{listed}"
    );
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Reads messages until `complete` or `error`; returns all of them.
async fn follow(socket: &mut Socket) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(300), socket.next())
            .await
            .expect("a message within 300 s")
            .expect("socket open")
            .expect("valid frame");
        if let Message::Text(t) = msg {
            let m: Value = serde_json::from_str(&t).unwrap();
            let end = m["type"] == "complete" || m["type"] == "error";
            seen.push(m);
            if end {
                return seen;
            }
        }
    }
}

#[tokio::test]
async fn a_cloud_project_shows_retries_fails_on_quota_and_finishes_by_the_users_choice() {
    let (cloud, app) = cloud_app().await;
    for (provider, key) in [
        ("gemini", "AIza-api-test-gemini"),
        ("google_tts", "AIza-api-test-tts"),
        ("stability", STABILITY_KEY),
        ("did", "api-test-did-key"),
    ] {
        assert_eq!(app.put_key(provider, key).await.status(), 200);
    }
    let models = app.json("/api/v1/providers/gemini/models").await;
    let names: Vec<&str> = models["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&models["default_model"].as_str().unwrap()),
        "{models}"
    );
    cloud.add_fault(
        Fault::error(Api::Stability, Some("generate"), 429, Some("rate"))
            .retry_after(0)
            .times(2),
    );
    cloud.add_fault(Fault::error(Api::Did, Some("talks.create"), 402, None));
    let id = app
        .create_started(json!({ "providers": {
            "script": "gemini", "narration": "google_tts", "images": "stability",
            "avatar": "did", "publish": "local"
        }}))
        .await;
    let mut socket = tokio_tungstenite::connect_async(
        app.ws_url(&format!("/api/v1/projects/{id}/progress?after_seq=0")),
    )
    .await
    .unwrap()
    .0;
    let seen = follow(&mut socket).await;
    let retries: Vec<&Value> = seen.iter().filter(|m| m["type"] == "retry").collect();
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert!(
        retries
            .iter()
            .all(|r| r["error_code"] == "STABILITY_RATE_LIMIT")
    );
    assert_eq!(retries[0]["max_attempts"], 5);
    let error = seen.last().unwrap();
    assert_eq!(error["type"], "error", "{error}");
    assert_eq!(error["code"], "DID_QUOTA_EXCEEDED");
    assert_eq!(error["is_retryable"], false);
    assert!(!error["solutions"].as_array().unwrap().is_empty());

    let project = app.json(&format!("/api/v1/projects/{id}")).await;
    assert_eq!(project["status"], "FAILED");
    let info = &project["error_info"];
    assert_eq!(info["error_code"], "DID_QUOTA_EXCEEDED");
    assert!(!info["solutions"].as_array().unwrap().is_empty());
    let assets: Value = app.json(&format!("/api/v1/projects/{id}/assets")).await;
    let listed = assets["assets"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|a| a["key"]["kind"] == "avatar_intro" && a["status"] == "FAILED"),
        "the presenter failure is on its asset: {assets}"
    );
    let segments = project["script"]["segments"].as_array().unwrap().len();
    let paid_images = cloud
        .calls()
        .iter()
        .filter(|c| c.endpoint == "generate" && c.status == 200)
        .count();
    assert_eq!(paid_images, segments);

    // The user puts their own picture on segment 1 and edits segment 0's description, then
    // chooses to go on without the presenter.
    let mut png = Vec::new();
    image::RgbImage::from_pixel(800, 450, image::Rgb([20, 120, 200]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let uploaded = app
        .client
        .put(app.url(&format!("/api/v1/projects/{id}/segments/1/image/file")))
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 200, "{}", uploaded.text().await.unwrap());
    let edited = app
        .client
        .put(app.url(&format!("/api/v1/projects/{id}/segments/0/image")))
        .json(&json!({ "image_description": "a lighthouse at dawn, watercolor" }))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.status(), 200);
    let chose = app
        .post(
            &format!("/api/v1/projects/{id}/continue-without-presenter"),
            &json!({}),
        )
        .await;
    assert_eq!(chose.status(), 200);
    let chose: Value = chose.json().await.unwrap();
    assert_eq!(chose["configuration"]["presenter"]["enabled"], false);

    let before = cloud.calls();
    let retried = app
        .post(&format!("/api/v1/projects/{id}/retry"), &json!({}))
        .await;
    assert_eq!(retried.status(), 202, "{}", retried.text().await.unwrap());
    let done = app
        .wait_for(&id, Duration::from_secs(300), |p| {
            // The retry queued a job; the run is over when no job is live any more.
            p["job"].is_null() && (p["status"] == "COMPLETED" || p["status"] == "FAILED")
        })
        .await;
    assert_eq!(done["status"], "COMPLETED", "{}", done["error_info"]);
    let after = cloud.calls();
    let new: Vec<_> = after[before.len()..].iter().collect();
    let made: Vec<_> = new.iter().map(|c| c.endpoint).collect();
    // Only the edited segment's image is made again; nothing else is paid for twice, and no
    // talk is asked for now that the presenter is off. The retry's start check lists the
    // voices once (free: it proves the narrator's key still works before anything is paid).
    assert_eq!(
        made,
        ["voices.list", "generate"],
        "calls after the retry: {made:?}"
    );
    let last = ytmaker_fake_cloud::stability::StabilityState::requests(&cloud.state().stability);
    let prompt = last.last().unwrap().prompt.clone().unwrap_or_default();
    assert!(prompt.starts_with("a lighthouse at dawn"), "{prompt}");
    let events: Value = app.json(&format!("/api/v1/projects/{id}/events")).await;
    let text = events.to_string();
    assert!(text.contains("continue_without_presenter") && text.contains("image_upload"));
}

#[tokio::test]
async fn a_youtube_account_is_linked_through_the_servers_own_callback() {
    let (_cloud, app) = cloud_app().await;
    let not_linked = app.get("/api/v1/youtube/channel").await;
    assert_eq!(not_linked.status(), 400);
    assert!(
        not_linked
            .text()
            .await
            .unwrap()
            .contains("YOUTUBE_NOT_LINKED")
    );

    let started: Value = app
        .post(
            "/api/v1/youtube/login",
            &json!({ "client_id": "api-test.apps.googleusercontent.com" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let url = started["authorize_url"].as_str().unwrap();
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(
        url.contains(&format!(
            "127.0.0.1%3A{}%2Fapi%2Fv1%2Fyoutube%2Fcallback",
            app.addr.port()
        )),
        "{url}"
    );
    // The browser: the fake consent page redirects to this server's callback.
    let page = reqwest::get(url).await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Linked to the YouTube channel"), "{page}");

    let channel = app.json("/api/v1/youtube/channel").await;
    assert_eq!(channel["title"], ytmaker_fake_cloud::youtube::CHANNEL_TITLE);
    let keys = app.get("/api/v1/keys").await.text().await.unwrap();
    assert!(
        keys.contains("\"provider\":\"youtube\",\"stored\":true,\"hint\":null"),
        "{keys}"
    );

    // An answer for a login this server never started is refused.
    let stray = app
        .get("/api/v1/youtube/callback?code=abc&state=not-ours")
        .await;
    assert_eq!(stray.status(), 400);
    assert!(stray.text().await.unwrap().contains("YOUTUBE_LOGIN_FAILED"));

    let unlinked = app
        .client
        .delete(app.url("/api/v1/youtube/channel"))
        .send()
        .await
        .unwrap();
    assert_eq!(unlinked.status(), 204);
}
