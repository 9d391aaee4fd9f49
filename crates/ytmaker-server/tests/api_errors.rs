//! Every error path of the API returns the documented JSON shape with a catalogued code, the
//! catalogue's HTTP status, solutions, and the request's trace id (SPEC §5).

mod common;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use ytmaker_core::ErrorCode;

use common::{Options, TestApp, article, spawn_app};

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Body>,
    code: ErrorCode,
    /// A `details` key that must be present, with its value if it matters.
    detail: Option<(&'static str, Option<Value>)>,
}

enum Body {
    Json(Value),
    Raw(&'static str, Vec<u8>),
}

fn case(name: &'static str, method: Method, path: impl Into<String>, code: ErrorCode) -> Case {
    Case {
        name,
        method,
        path: path.into(),
        headers: Vec::new(),
        body: None,
        code,
        detail: None,
    }
}

impl Case {
    fn json(mut self, v: Value) -> Self {
        self.body = Some(Body::Json(v));
        self
    }
    fn raw(mut self, content_type: &'static str, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Some(Body::Raw(content_type, bytes.into()));
        self
    }
    fn header(mut self, k: &'static str, v: impl Into<String>) -> Self {
        self.headers.push((k, v.into()));
        self
    }
    fn detail(mut self, key: &'static str, value: Option<Value>) -> Self {
        self.detail = Some((key, value));
        self
    }
}

async fn check(app: &TestApp, c: &Case) {
    let mut req = app.client.request(c.method.clone(), app.url(&c.path));
    for (k, v) in &c.headers {
        req = req.header(*k, v);
    }
    req = match &c.body {
        Some(Body::Json(v)) => req.json(v),
        Some(Body::Raw(ct, bytes)) => req.header("content-type", *ct).body(bytes.clone()),
        None => req,
    };
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let header_trace = resp
        .headers()
        .get("x-trace-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{}: no X-Trace-Id", c.name));
    let text = resp.text().await.unwrap();
    let body: Value = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("{}: body is not JSON: {text}", c.name));
    let spec = c.code.spec();
    assert_eq!(status.as_u16(), spec.http_status, "{}: {body}", c.name);
    let e = &body["error"];
    assert_eq!(e["code"], c.code.as_str(), "{}: {body}", c.name);
    assert_eq!(e["is_retryable"], spec.retry.is_retryable(), "{}", c.name);
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        c.name
    );
    assert!(e["details"].is_object(), "{}", c.name);
    assert!(
        e["solutions"].as_array().is_some_and(|s| !s.is_empty()),
        "{}: no solutions",
        c.name
    );
    assert_eq!(e["trace_id"], header_trace.as_str(), "{}", c.name);
    assert!(
        chrono::DateTime::parse_from_rfc3339(e["timestamp"].as_str().unwrap_or_default()).is_ok(),
        "{}: timestamp",
        c.name
    );
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "{}: only `error`",
        c.name
    );
    if let Some((key, value)) = &c.detail {
        let got = &e["details"][key];
        assert!(!got.is_null(), "{}: details.{key} missing: {body}", c.name);
        if let Some(v) = value {
            assert_eq!(got, v, "{}: details.{key}", c.name);
        }
    }
}

#[tokio::test]
async fn every_error_path_returns_the_documented_shape_on_sqlite() {
    error_table(spawn_app(Options::default()).await).await;
}

#[tokio::test]
async fn every_error_path_returns_the_documented_shape_on_postgres() {
    error_table(
        spawn_app(Options {
            postgres: true,
            ..Default::default()
        })
        .await,
    )
    .await;
}

async fn error_table(app: TestApp) {
    let missing = uuid::Uuid::new_v4();
    let created: Value = app
        .post("/api/v1/projects", &json!({ "content": article() }))
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let default_prompt = app.json("/api/v1/prompt-templates").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // A short subtitles file so that a range past its end can be asked for.
    let subs = app.data.project(id.parse().unwrap()).subtitles();
    std::fs::create_dir_all(subs.parent().unwrap()).unwrap();
    std::fs::write(&subs, "1\n00:00:00,000 --> 00:00:01,000\nhi\n").unwrap();
    let port = app.addr.port();

    let cases = vec![
        case("unknown route", Method::GET, "/api/v1/nothing-here", ErrorCode::NOT_FOUND)
            .detail("path", Some(json!("/api/v1/nothing-here"))),
        case("wrong method", Method::DELETE, "/api/v1/system/health", ErrorCode::METHOD_NOT_ALLOWED),
        case("malformed JSON", Method::POST, "/api/v1/projects", ErrorCode::REQUEST_MALFORMED)
            .raw("application/json", "{\"content\": "),
        case("not JSON", Method::POST, "/api/v1/projects", ErrorCode::REQUEST_MALFORMED)
            .raw("text/plain", "hello"),
        case("unknown field", Method::POST, "/api/v1/projects", ErrorCode::REQUEST_MALFORMED)
            .json(json!({ "content": article(), "colour": "red" })),
        case("oversized body", Method::POST, "/api/v1/projects", ErrorCode::PAYLOAD_TOO_LARGE)
            .raw("application/json", format!("{{\"content\": \"{}\"}}", "a".repeat(300 * 1024))),
        case("article too short", Method::POST, "/api/v1/projects", ErrorCode::INPUT_TOO_SHORT)
            .json(json!({ "content": "too short" })),
        case("article too long", Method::POST, "/api/v1/projects", ErrorCode::INPUT_TOO_LONG)
            .json(json!({ "content": "長".repeat(10_001) })),
        case("configuration out of range", Method::POST, "/api/v1/projects", ErrorCode::CONFIG_INVALID)
            .json(json!({ "content": article(), "configuration": { "subtitles": { "font_size": 1 } } }))
            .detail("violations", None),
        case("unknown configuration field", Method::POST, "/api/v1/projects", ErrorCode::CONFIG_INVALID)
            .json(json!({ "content": article(), "configuration": { "subtitles": { "colour": 1 } } }))
            .detail("field", Some(json!("configuration"))),
        case("title over 100 characters", Method::POST, "/api/v1/projects", ErrorCode::VALIDATION_ERROR)
            .json(json!({ "content": article(), "youtube": { "title": "x".repeat(101) } }))
            .detail("field", Some(json!("youtube.title"))),
        case("schedule in the past", Method::POST, "/api/v1/projects", ErrorCode::VALIDATION_ERROR)
            .json(json!({ "content": article(), "youtube": { "publish_at": "2020-01-01T00:00:00Z" } }))
            .detail("field", Some(json!("youtube.publish_at"))),
        case("more than 30 tags", Method::POST, "/api/v1/projects", ErrorCode::VALIDATION_ERROR)
            .json(json!({ "content": article(), "youtube": { "tags": (0..31).map(|i| format!("t{i}")).collect::<Vec<_>>() } }))
            .detail("field", Some(json!("youtube.tags"))),
        // SPEC §8: a file path never comes from an API caller; the server would read it.
        case("portrait path at creation", Method::POST, "/api/v1/projects", ErrorCode::VALIDATION_ERROR)
            .json(json!({ "content": article(), "configuration": { "presenter": { "portrait": "/etc/passwd" } } }))
            .detail("field", Some(json!("presenter.portrait"))),
        case("portrait path in an edit", Method::PUT, format!("/api/v1/projects/{id}/configuration"), ErrorCode::VALIDATION_ERROR)
            .json(json!({ "presenter": { "portrait": "/etc/passwd" } }))
            .detail("field", Some(json!("presenter.portrait"))),
        case("portrait path in a template", Method::POST, "/api/v1/configurations", ErrorCode::VALIDATION_ERROR)
            .json(json!({ "name": "t", "configuration": { "presenter": { "portrait": "/etc/passwd" } } }))
            .detail("field", Some(json!("presenter.portrait"))),
        case("name too long", Method::POST, "/api/v1/projects", ErrorCode::VALIDATION_ERROR)
            .json(json!({ "content": article(), "name": "n".repeat(101) }))
            .detail("field", Some(json!("name"))),
        case("unknown project", Method::GET, format!("/api/v1/projects/{missing}"), ErrorCode::PROJECT_NOT_FOUND),
        case("malformed project id", Method::GET, "/api/v1/projects/not-a-uuid", ErrorCode::VALIDATION_ERROR)
            .detail("field", Some(json!("path"))),
        case("bad status filter", Method::GET, "/api/v1/projects?status=DANCING", ErrorCode::VALIDATION_ERROR)
            .detail("field", Some(json!("status"))),
        case("limit out of range", Method::GET, "/api/v1/projects?limit=0", ErrorCode::VALIDATION_ERROR)
            .detail("rule", Some(json!("1 to 200"))),
        case("bad query value", Method::GET, "/api/v1/projects?limit=many", ErrorCode::REQUEST_MALFORMED),
        case("pause a project that is not running", Method::POST, format!("/api/v1/projects/{id}/pause"), ErrorCode::INVALID_STATE_TRANSITION)
            .detail("status", Some(json!("INITIALIZED"))),
        case("resume a new project", Method::POST, format!("/api/v1/projects/{id}/resume"), ErrorCode::INVALID_STATE_TRANSITION),
        case("retry a project that did not fail", Method::POST, format!("/api/v1/projects/{id}/retry"), ErrorCode::INVALID_STATE_TRANSITION),
        case("result before completion", Method::GET, format!("/api/v1/projects/{id}/result"), ErrorCode::INVALID_STATE_TRANSITION),
        case("unknown file name", Method::GET, format!("/api/v1/projects/{id}/files/..%2F..%2Fetc%2Fpasswd"), ErrorCode::NOT_FOUND),
        case("file not made yet", Method::GET, format!("/api/v1/projects/{id}/files/video"), ErrorCode::NOT_FOUND),
        case("range past the end", Method::GET, format!("/api/v1/projects/{id}/files/subtitles"), ErrorCode::RANGE_NOT_SATISFIABLE)
            .header("range", "bytes=5000-6000")
            .detail("size", None),
        case("delete the default prompt template", Method::DELETE, format!("/api/v1/prompt-templates/{default_prompt}"), ErrorCode::VALIDATION_ERROR)
            .detail("rule", Some(json!("the default template is protected"))),
        case("template without {article}", Method::POST, "/api/v1/prompt-templates", ErrorCode::VALIDATION_ERROR)
            .json(json!({ "name": "x", "content": "no placeholder" })),
        case("unknown configuration template", Method::GET, format!("/api/v1/configurations/{missing}"), ErrorCode::NOT_FOUND),
        case("unknown error code", Method::GET, "/api/v1/system/errors/NOPE", ErrorCode::NOT_FOUND),
        case("foreign Host (DNS rebinding)", Method::GET, "/api/v1/system/stats", ErrorCode::ORIGIN_FORBIDDEN)
            .header("host", "evil.example:80")
            .detail("header", Some(json!("Host"))),
        case("foreign Origin (cross-site)", Method::POST, "/api/v1/projects", ErrorCode::ORIGIN_FORBIDDEN)
            .header("origin", "http://evil.example")
            .json(json!({ "content": article() }))
            .detail("header", Some(json!("Origin"))),
        case("client log with a bad level", Method::POST, "/api/v1/system/client-logs", ErrorCode::VALIDATION_ERROR)
            .json(json!({ "level": "loud", "message": "x" })),
    ];
    for c in &cases {
        check(&app, c).await;
    }

    // The same origin the UI uses is accepted.
    let ok = app
        .client
        .get(app.url("/api/v1/system/stats"))
        .header("origin", format!("http://localhost:{port}"))
        .header("host", format!("localhost:{port}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // The refused cross-site request created nothing.
    let page = app.json("/api/v1/projects").await;
    assert_eq!(page["total"], 1);
}

#[tokio::test]
async fn incoming_trace_ids_are_honoured() {
    let app = spawn_app(Options::default()).await;
    let r = app
        .client
        .get(app.url("/api/v1/projects/not-a-uuid"))
        .header("x-trace-id", "mytrace0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-trace-id"], "mytrace0123456789");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["trace_id"], "mytrace0123456789");

    let r = app
        .client
        .get(app.url("/api/v1/system/stats"))
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["x-trace-id"],
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );

    // A header that could inject text into logs is replaced, not echoed.
    let r = app
        .client
        .get(app.url("/api/v1/system/stats"))
        .header("x-trace-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let echoed = r.headers()["x-trace-id"].to_str().unwrap().to_owned();
    assert_ne!(echoed, "bad id with spaces");
    assert_eq!(echoed.len(), 32);

    // A project started with a trace id keeps it on its job.
    let created: Value = app
        .client
        .post(app.url("/api/v1/projects"))
        .header("x-trace-id", "starttrace0123456")
        .json(&json!({ "content": article(), "start": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["job"], "queued");
    let job = ytmaker_store::JobQueue::live_job(
        &app.store,
        created["id"].as_str().unwrap().parse().unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(job.trace_id.as_str(), "starttrace0123456");
}

#[tokio::test]
async fn a_token_server_refuses_requests_without_it() {
    let app = spawn_app(Options {
        token: Some("s3cret-token".into()),
        ..Default::default()
    })
    .await;
    let c = case(
        "no token",
        Method::GET,
        "/api/v1/system/stats",
        ErrorCode::UNAUTHORIZED,
    );
    check(&app, &c).await;
    let wrong = case(
        "wrong token",
        Method::GET,
        "/api/v1/system/stats",
        ErrorCode::UNAUTHORIZED,
    )
    .header("authorization", "Bearer nope");
    check(&app, &wrong).await;
    let ok = app
        .client
        .get(app.url("/api/v1/system/stats"))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body = ok.text().await.unwrap();
    assert!(!body.contains("s3cret-token"));
}

#[tokio::test]
async fn binding_beyond_loopback_without_a_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store =
        ytmaker_store::Store::open(&ytmaker_store::Store::sqlite_url(&dir.path().join("db")))
            .await
            .unwrap();
    let err = ytmaker_server::start(ytmaker_server::ServerConfig {
        bind: "0.0.0.0".parse().unwrap(),
        port: 0,
        token: None,
        store,
        data: ytmaker_store::DataDir::new(dir.path()),
        tools: ytmaker_render::Toolchain::locate().unwrap(),
        lang: ytmaker_core::error::Lang::En,
        default_config: Default::default(),
        workers: None,
        ui_dir: None,
        cloud: ytmaker_pipeline::CloudAccess::from_env(&ytmaker_store::DataDir::new(dir.path()))
            .unwrap(),
        retry_delay_scale: Default::default(),
        monitoring: Default::default(),
        quotas: Default::default(),
    })
    .await
    .err()
    .expect("refused");
    assert_eq!(err.code, ErrorCode::SERVER_BIND_FAILED);
}

#[tokio::test]
async fn templates_openapi_health_and_metrics() {
    let app = spawn_app(Options::default()).await;
    // Prompt templates: create, duplicate, update (version grows), delete.
    let t: Value = app
        .post(
            "/api/v1/prompt-templates",
            &json!({ "name": "short", "content": "Summarise {article}" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = t["id"].as_str().unwrap();
    let dup = app
        .post(
            &format!("/api/v1/prompt-templates/{id}/duplicate"),
            &json!({}),
        )
        .await;
    assert_eq!(dup.status(), StatusCode::CREATED);
    assert_eq!(dup.json::<Value>().await.unwrap()["name"], "short (copy)");
    let updated: Value = app
        .client
        .put(app.url(&format!("/api/v1/prompt-templates/{id}")))
        .json(&json!({ "name": "short", "content": "Briefly: {article}" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(updated["version"], 2);
    assert_eq!(
        app.json("/api/v1/prompt-templates")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Configuration templates feed new projects.
    let c: Value = app
        .post("/api/v1/configurations", &json!({ "name": "no presenter", "configuration": { "presenter": { "enabled": false } } }))
        .await
        .json()
        .await
        .unwrap();
    let p: Value = app
        .post(
            "/api/v1/projects",
            &json!({ "content": article(), "config_template_id": c["id"] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["configuration"]["presenter"]["enabled"], false);
    assert_eq!(p["configuration"]["providers"]["images"], "local");
    assert!(p["prompt_content"].as_str().unwrap().contains("{article}"));

    // Listing sorts and paginates.
    for n in ["b", "a", "c"] {
        app.post(
            "/api/v1/projects",
            &json!({ "content": article(), "name": n }),
        )
        .await;
    }
    let page = app
        .json("/api/v1/projects?sort=name&order=asc&limit=2&offset=0")
        .await;
    assert_eq!(page["total"], 4);
    let names: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["", "a"]);

    let api = app.json("/api/v1/openapi.json").await;
    for path in [
        "/api/v1/projects",
        "/api/v1/projects/{id}/start",
        "/api/v1/system/health",
        "/api/v1/prompt-templates/{id}/duplicate",
    ] {
        assert!(api["paths"][path].is_object(), "OpenAPI lacks {path}");
    }
    let health = app.get("/api/v1/system/health").await;
    let health: Value = health.json().await.unwrap();
    for check in [
        "database",
        "queue",
        "workers",
        "disk",
        "ffmpeg",
        "fonts",
        "providers",
    ] {
        assert!(
            health["checks"][check]["status"].is_string(),
            "{check}: {health}"
        );
    }
    assert_eq!(health["checks"]["database"]["status"], "ok");
    assert_eq!(health["checks"]["providers"]["status"], "ok", "{health}");
    assert!(
        health["checks"]["providers"]["details"]["narration"]
            .as_str()
            .unwrap()
            .contains("cmn-latn-pinyin")
    );
    // API only (no workers in this process): degraded, not healthy.
    assert_eq!(health["status"], "degraded");

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("ytmaker_http_requests_total{"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/api/v1/projects\""), "{metrics}");
    assert!(
        metrics.contains("ytmaker_queue_jobs{state=\"queued\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ytmaker_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_ui_folder_is_served_beside_the_api() {
    let ui = tempfile::tempdir().unwrap();
    std::fs::write(
        ui.path().join("index.html"),
        "<!doctype html><title>ytmaker</title>",
    )
    .unwrap();
    std::fs::create_dir(ui.path().join("assets")).unwrap();
    std::fs::write(ui.path().join("assets/app.js"), "console.log(1)").unwrap();
    let app = spawn_app(Options {
        ui_dir: Some(ui.path().to_owned()),
        ..Default::default()
    })
    .await;
    let index = app.get("/").await;
    assert_eq!(index.status(), StatusCode::OK);
    assert!(
        index
            .text()
            .await
            .unwrap()
            .contains("<title>ytmaker</title>")
    );
    let js = app.get("/assets/app.js").await;
    assert_eq!(js.status(), StatusCode::OK);
    assert!(
        js.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    // A client-side route gets the app, so a reload of /projects/… works.
    let deep = app.get("/projects/123/progress").await;
    assert_eq!(deep.status(), StatusCode::OK);
    assert!(deep.text().await.unwrap().contains("ytmaker"));
    // Unknown API routes are still JSON errors, and traversal out of the folder finds nothing.
    check(
        &app,
        &case(
            "unknown API route beside the UI",
            Method::GET,
            "/api/v1/nothing",
            ErrorCode::NOT_FOUND,
        ),
    )
    .await;
    let escape = app.get("/../../etc/passwd").await;
    assert!(!escape.text().await.unwrap().contains("root:"));
}

#[tokio::test]
async fn without_a_ui_folder_pages_say_the_ui_is_not_built() {
    let app = spawn_app(Options::default()).await;
    for page in ["/", "/projects/new"] {
        check(
            &app,
            &case(
                "a page of a server without a UI",
                Method::GET,
                page,
                ErrorCode::WEB_UI_NOT_BUILT,
            ),
        )
        .await;
    }
    let body: Value = app.get("/").await.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("make web"),
        "{body}"
    );
    // The API itself still answers, and its unknown routes stay NOT_FOUND.
    check(
        &app,
        &case(
            "unknown API route without a UI",
            Method::GET,
            "/api/v1/nothing",
            ErrorCode::NOT_FOUND,
        ),
    )
    .await;
}

/// Requests over the HTTP limits get the catalogued JSON error with a trace id, like any other
/// refusal, instead of the HTTP library's bare 414/431 (issue 13).
#[tokio::test]
async fn oversized_requests_get_the_json_error_and_a_trace_id() {
    let app = spawn_app(Options::default()).await;
    let long_query = "x".repeat(9 * 1024);
    let r = app
        .client
        .get(app.url(&format!("/api/v1/projects?status={long_query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 414);
    let trace = r.headers()["x-trace-id"].to_str().unwrap().to_owned();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "REQUEST_URI_TOO_LONG");
    assert_eq!(body["error"]["trace_id"], trace.as_str());
    assert_eq!(body["error"]["details"]["limit_bytes"], 8 * 1024);
    assert!(!body["error"]["solutions"].as_array().unwrap().is_empty());

    let r = app
        .client
        .get(app.url("/api/v1/projects"))
        .header("x-big", "y".repeat(40 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "REQUEST_HEADERS_TOO_LARGE");
    assert!(body["error"]["details"]["bytes"].as_u64().unwrap() > 40 * 1024);

    let mut many = app.client.get(app.url("/api/v1/projects"));
    for i in 0..97 {
        many = many.header(format!("x-h{i}"), "1");
    }
    let r = many.send().await.unwrap();
    assert_eq!(r.status(), 431);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "REQUEST_HEADERS_TOO_LARGE");

    // Past hyper's own default of 100 headers too: the API answers, not the HTTP library.
    let mut past_hyper = app.client.get(app.url("/api/v1/projects"));
    for i in 0..150 {
        past_hyper = past_hyper.header(format!("x-h{i}"), "1");
    }
    let r = past_hyper.send().await.unwrap();
    assert_eq!(r.status(), 431);
    assert!(r.headers().contains_key("x-trace-id"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "REQUEST_HEADERS_TOO_LARGE");
    assert_eq!(body["error"]["details"]["headers"].as_u64(), Some(150 + 2));

    // A request line hyper cannot parse is answered by hyper (400, nothing of ours can run), and
    // the server goes on serving.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut raw = tokio::net::TcpStream::connect(app.addr).await.unwrap();
        raw.write_all(b"NOT AN HTTP REQUEST\r\n\r\n").await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            raw.read_to_end(&mut answer),
        )
        .await
        .expect("hyper answers and closes")
        .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
    }

    // Within the limits, the same request is served.
    let r = app
        .client
        .get(app.url("/api/v1/projects"))
        .header("x-big", "y".repeat(1024))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}
