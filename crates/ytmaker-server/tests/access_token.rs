//! A server started with an access token (SPEC §8): the token guards the API, the WebSocket and
//! `/metrics` but not the UI's files (the page that asks for the token must load without it),
//! the Host check still covers everything, a token in the query is accepted (percent-decoded)
//! and removed before handlers parse their query, and the token never reaches a log line or an
//! answer — neither the right one nor a wrong one.

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use common::{Options, TestApp, spawn_app};

/// Characters that must be percent-encoded in a URL, so decoding is exercised.
const TOKEN: &str = "tok3n+with/odd&chars=%41~";

fn encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A built UI: `index.html` and one script.
fn ui_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        "<!doctype html><title>ui</title>",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("assets/app.js"), "console.log('ui');").unwrap();
    dir
}

async fn token_app(token: &str, ui: &tempfile::TempDir) -> TestApp {
    spawn_app(Options {
        token: Some(token.into()),
        ui_dir: Some(ui.path().to_owned()),
        ..Default::default()
    })
    .await
}

async fn assert_unauthorized(resp: reqwest::Response, what: &str, never_echoed: &[&str]) {
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{what}");
    // RFC 9110 §11.6.1: a 401 says which scheme it wants.
    let challenge = resp
        .headers()
        .get(reqwest::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer"),
        "{what}: WWW-Authenticate {challenge:?}"
    );
    let text = resp.text().await.unwrap();
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: {text}"));
    assert_eq!(body["error"]["code"], "UNAUTHORIZED", "{what}: {body}");
    assert!(body["error"]["trace_id"].is_string(), "{what}: {body}");
    for secret in never_echoed {
        assert!(!text.contains(secret), "{what} echoes {secret:?}: {text}");
        assert!(
            !text.contains(&encoded(secret)),
            "{what} echoes {secret:?}: {text}"
        );
    }
}

#[tokio::test]
async fn the_token_guards_the_api_and_metrics_but_not_the_ui_files() {
    let ui = ui_dir();
    let app = token_app(TOKEN, &ui).await;

    // The UI's files (and the page for any client-side route) load without the token.
    for path in ["/", "/assets/app.js", "/projects/new", "/settings"] {
        let r = app.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let text = r.text().await.unwrap();
        assert!(text.contains("ui"), "{path}: {text}");
    }
    // Data does not: the API, an unknown API path (no 404 telling what exists), the OpenAPI
    // document, the metrics.
    for path in [
        "/api/v1/system/health",
        "/api/v1/projects",
        "/api/v1/no-such-route",
        "/api/v1/openapi.json",
        "/metrics",
    ] {
        assert_unauthorized(app.get(path).await, path, &[]).await;
        let ok = app
            .client
            .get(app.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        let expected = if path == "/api/v1/no-such-route" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(ok.status(), expected, "{path} with the token");
        // The scheme name is case-insensitive (RFC 9110 §11.1).
        for scheme in ["bearer", "BEARER"] {
            let r = app
                .client
                .get(app.url(path))
                .header("Authorization", format!("{scheme} {TOKEN}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), expected, "{path} with `{scheme}`");
        }
    }
    // The error catalogue is documentation: readable without the token, so the sign-in screen
    // can explain a refusal; a path beside it is not.
    for path in [
        "/api/v1/system/errors",
        "/api/v1/system/errors/UNAUTHORIZED",
    ] {
        let r = app.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(r.text().await.unwrap().contains("UNAUTHORIZED"), "{path}");
    }
    assert_unauthorized(
        app.get("/api/v1/system/errors-and-more").await,
        "a path beside the catalogue",
        &[],
    )
    .await;
    // The Host check still covers the UI's files.
    let rebound = app
        .client
        .get(app.url("/"))
        .header("host", "attacker.example:80")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    let body: Value = rebound.json().await.unwrap();
    assert_eq!(body["error"]["code"], "ORIGIN_FORBIDDEN", "{body}");
}

#[tokio::test]
async fn a_query_token_is_decoded_and_removed_before_the_handler_reads_its_query() {
    let ui = ui_dir();
    let app = token_app(TOKEN, &ui).await;
    let q = encoded(TOKEN);

    // `ListQuery` refuses unknown fields: a 200 proves the token pair was taken out.
    let listed = app
        .get(&format!("/api/v1/projects?limit=5&access_token={q}"))
        .await;
    assert_eq!(listed.status(), StatusCode::OK);
    let alone = app
        .get(&format!("/api/v1/system/stats?access_token={q}"))
        .await;
    assert_eq!(alone.status(), StatusCode::OK);
    // Another query field still gets its own validation.
    let bad = app
        .get(&format!("/api/v1/projects?access_token={q}&colour=red"))
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "REQUEST_MALFORMED", "{body}");
    assert!(body.to_string().contains("colour"), "{body}");
    assert!(!body.to_string().contains("tok3n"), "{body}");

    // The WebSocket: refused without the token before upgrading, served with it in the query.
    let created = app
        .client
        .post(app.url("/api/v1/projects"))
        .bearer_auth(TOKEN)
        .json(&json!({ "content": common::article(), "configuration": {} }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = tokio_tungstenite::connect_async(
        app.ws_url(&format!("/api/v1/projects/{id}/progress?after_seq=0")),
    )
    .await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status().as_u16(), 401)
        }
        other => panic!("expected a 401 handshake refusal, got {other:?}"),
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(app.ws_url(&format!(
        "/api/v1/projects/{id}/progress?after_seq=0&access_token={q}"
    )))
    .await
    .expect("the socket opens with the token in its query");
    let first = loop {
        let msg = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message within 30 s")
            .expect("socket open")
            .expect("valid frame");
        if let Message::Text(t) = msg {
            break serde_json::from_str::<Value>(&t).unwrap();
        }
    };
    assert_eq!(first["type"], "snapshot", "{first}");
    assert_eq!(first["project"]["id"], id.as_str(), "{first}");
}

#[tokio::test]
async fn neither_the_token_nor_a_wrong_one_reaches_a_log_line_or_an_answer() {
    let logs = tempfile::tempdir().unwrap();
    ytmaker_telemetry::init(&ytmaker_telemetry::LogOptions {
        dir: logs.path().to_owned(),
        stdout: false,
        // Everything our crates and the HTTP stack say, not only the request lines.
        filter: "debug".into(),
    })
    .unwrap();
    const SECRET: &str = "right-token-7f3a9c";
    const WRONG: &str = "wrong-token-51b0e2";
    let ui = ui_dir();
    let app = token_app(SECRET, &ui).await;

    let with_header = app
        .client
        .get(app.url("/api/v1/system/stats"))
        .bearer_auth(SECRET)
        .send()
        .await
        .unwrap();
    assert_eq!(with_header.status(), StatusCode::OK);
    assert!(!with_header.text().await.unwrap().contains(SECRET));
    let with_query = app
        .get(&format!("/api/v1/system/stats?access_token={SECRET}"))
        .await;
    assert_eq!(with_query.status(), StatusCode::OK);
    // A client log sent with the token is logged with the UI's text only.
    let client_log = app
        .client
        .post(app.url("/api/v1/system/client-logs"))
        .bearer_auth(SECRET)
        .json(&json!({ "level": "error", "message": "shown to the user", "context": "test" }))
        .send()
        .await
        .unwrap();
    assert_eq!(client_log.status(), StatusCode::ACCEPTED);

    let wrong_header = app
        .client
        .get(app.url("/api/v1/system/stats"))
        .bearer_auth(WRONG)
        .send()
        .await
        .unwrap();
    assert_unauthorized(
        wrong_header,
        "a wrong token in the header",
        &[WRONG, SECRET],
    )
    .await;
    let wrong_query = app
        .get(&format!("/api/v1/system/stats?access_token={WRONG}"))
        .await;
    assert_unauthorized(wrong_query, "a wrong token in the query", &[WRONG, SECRET]).await;
    let wrong_socket = tokio_tungstenite::connect_async(app.ws_url(&format!(
        "/api/v1/projects/{}/progress?access_token={WRONG}",
        uuid::Uuid::new_v4()
    )))
    .await;
    assert!(wrong_socket.is_err(), "a wrong token opens no socket");

    // Stopping flushes what the server had to say.
    app.server.unwrap().stop().await.unwrap();
    let lines = ytmaker_telemetry::read_lines(logs.path(), &Default::default()).unwrap();
    let served: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("/api/v1/system/stats"))
        .collect();
    assert!(
        served.iter().any(|l| l.contains("request served")),
        "the requests were logged: {lines:?}"
    );
    assert!(
        served
            .iter()
            .any(|l| l.contains("request refused") && l.contains("UNAUTHORIZED")),
        "the refusals were logged: {lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("shown to the user")),
        "the client log was logged: {lines:?}"
    );
    for line in &lines {
        assert!(!line.contains(SECRET), "the token in a log line: {line}");
        assert!(!line.contains(WRONG), "a wrong token in a log line: {line}");
        assert!(
            !line.contains("access_token="),
            "a query in a log line: {line}"
        );
    }
}

#[tokio::test]
async fn a_token_a_browser_cannot_send_in_a_header_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        ytmaker_store::Store::open(&ytmaker_store::Store::sqlite_url(&dir.path().join("db")))
            .await
            .unwrap();
    let data = ytmaker_store::DataDir::new(dir.path());
    let err = ytmaker_server::start(ytmaker_server::ServerConfig {
        bind: "0.0.0.0".parse().unwrap(),
        port: 0,
        token: Some("tøken with space".into()),
        store,
        data: data.clone(),
        tools: ytmaker_render::Toolchain::locate().unwrap(),
        lang: ytmaker_core::error::Lang::En,
        default_config: Default::default(),
        workers: None,
        ui_dir: None,
        cloud: ytmaker_pipeline::CloudAccess::from_env(&data).unwrap(),
        retry_delay_scale: Default::default(),
        monitoring: Default::default(),
        quotas: Default::default(),
    })
    .await
    .err()
    .expect("refused");
    assert_eq!(err.code, ytmaker_core::ErrorCode::CONFIG_INVALID);
    assert_eq!(err.details["field"], "token");
    assert!(
        !format!("{err:?} {}", err.message).contains("tøken"),
        "the value is not repeated"
    );
}
