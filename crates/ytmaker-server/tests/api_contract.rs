//! The API contract (issue 13): the served OpenAPI document says what the server does, and every
//! metric family on `/metrics` is one of `ytmaker_core::metric`, with its help text. (The full
//! validators, openapi-spec-validator and promtool, run on a live `ytmaker serve` in
//! `scripts/check-openapi.sh`; this test keeps the same promises inside `cargo test`.)

mod common;

use std::collections::{BTreeMap, BTreeSet};

use reqwest::StatusCode;
use serde_json::Value;
use ytmaker_core::metric::{self, MetricKind};

use common::{Options, spawn_app};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(op) = item.get(method) {
                all.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    all
}

fn is_error_body(response: &Value) -> bool {
    response["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/ErrorBody"
}

#[tokio::test]
async fn the_openapi_document_declares_what_the_server_answers() {
    let app = spawn_app(Options::default()).await;
    let doc = app.json("/api/v1/openapi.json").await;
    let ops = operations(&doc);
    assert!(ops.len() > 40, "{} operations", ops.len());

    // A bearer security scheme, required by default; the error catalogue needs none.
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["type"],
        "http"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["access_token"]["in"],
        "query"
    );
    let required: Vec<&str> = doc["security"]
        .as_array()
        .expect("global security")
        .iter()
        .flat_map(|r| r.as_object().expect("requirement").keys())
        .map(String::as_str)
        .collect();
    assert_eq!(required, ["bearer", "access_token"]);
    assert!(doc["components"]["headers"]["X-Trace-Id"]["schema"].is_object());

    let mut ids = BTreeMap::new();
    for (method, path, op) in &ops {
        let what = format!("{method} {path}");
        let id = op["operationId"].as_str().expect("operationId");
        if let Some(other) = ids.insert(id.to_owned(), what.clone()) {
            panic!("operationId {id} is used by {other} and {what}");
        }
        // Path parameters are the template's, and only those; the rest are in the query.
        let template: BTreeSet<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split('}').next())
            .collect();
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let in_path: BTreeSet<String> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| p["name"].as_str().expect("name").to_owned())
            .collect();
        assert_eq!(
            in_path,
            template.iter().map(|s| s.to_string()).collect(),
            "{what}: path parameters"
        );
        for p in params.iter().filter(|p| p["in"] == "query") {
            assert_ne!(
                p["schema"]["type"],
                serde_json::json!(["string", "null"]),
                "{what}: a query value cannot be null"
            );
        }

        let responses = op["responses"].as_object().expect("responses");
        for (status, response) in responses {
            let description = response["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{what} {status}: no description");
            assert_eq!(
                response["headers"]["X-Trace-Id"]["$ref"], "#/components/headers/X-Trace-Id",
                "{what} {status}: X-Trace-Id"
            );
        }
        let error = |status: &str| responses.get(status).filter(|r| is_error_body(r));
        assert!(error("500").is_some(), "{what}: 500 with ErrorBody");
        assert!(error("403").is_some(), "{what}: 403 with ErrorBody");
        let public = path.starts_with("/api/v1/system/errors");
        if public {
            assert_eq!(op["security"], serde_json::json!([{}]), "{what}");
        } else {
            let unauthorized = error("401").unwrap_or_else(|| panic!("{what}: 401"));
            assert!(unauthorized["headers"]["WWW-Authenticate"].is_object());
        }
        if !template.is_empty() {
            assert!(error("404").is_some(), "{what}: 404 for an unknown id");
        }
        let takes_input = op.get("requestBody").is_some()
            || params.iter().any(|p| p["in"] == "query")
            || params
                .iter()
                .any(|p| p["in"] == "path" && p["schema"]["format"] == "uuid");
        if takes_input {
            assert!(error("422").is_some(), "{what}: 422 VALIDATION_ERROR");
        }
        if op.get("requestBody").is_some() {
            assert!(error("400").is_some(), "{what}: 400 REQUEST_MALFORMED");
            assert!(error("413").is_some(), "{what}: 413 PAYLOAD_TOO_LARGE");
        }
    }
    // The operations that ask a provider say how a provider fails.
    for (method, path) in [
        ("post", "/api/v1/projects/{id}/start"),
        ("post", "/api/v1/keys/{provider}/test"),
        ("get", "/api/v1/providers/gemini/models"),
    ] {
        let responses = &doc["paths"][path][method]["responses"];
        for status in ["429", "502", "503", "504"] {
            assert!(
                is_error_body(&responses[status]),
                "{method} {path}: {status}"
            );
        }
    }
}

#[tokio::test]
async fn offset_and_limit_are_refused_outside_the_documented_range() {
    let app = spawn_app(Options::default()).await;
    let doc = app.json("/api/v1/openapi.json").await;
    let params = doc["paths"]["/api/v1/projects"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .clone();
    let schema = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| {
                assert_eq!(p["in"], "query", "{name}");
                p["schema"].clone()
            })
            .unwrap_or_else(|| panic!("no parameter {name}"))
    };
    let offset = schema("offset");
    assert_eq!(offset["format"], "int32");
    assert_eq!(offset["maximum"], i32::MAX);
    let limit = schema("limit");
    assert_eq!(
        (limit["minimum"].clone(), limit["maximum"].clone()),
        (1.into(), 200.into())
    );

    let status = |query: &'static str| {
        let app = &app;
        async move {
            let r = app.get(&format!("/api/v1/projects?{query}")).await;
            let status = r.status();
            let body: Value = r.json().await.expect("JSON");
            (status, body["error"]["code"].as_str().map(str::to_owned))
        }
    };
    assert_eq!(status("offset=2147483647").await.0, StatusCode::OK);
    assert_eq!(
        status("offset=2147483648").await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("VALIDATION_ERROR".into())
        )
    );
    assert_eq!(
        status("offset=99999999999").await,
        (StatusCode::BAD_REQUEST, Some("REQUEST_MALFORMED".into()))
    );
    assert_eq!(status("limit=200").await.0, StatusCode::OK);
    for refused in ["limit=0", "limit=201"] {
        assert_eq!(
            status(refused).await,
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("VALIDATION_ERROR".into())
            ),
            "{refused}"
        );
    }
}

#[tokio::test]
async fn every_metric_family_is_defined_once_with_its_help_text() {
    let app = spawn_app(Options::default()).await;
    assert!(app.get("/api/v1/projects").await.status().is_success());
    let text = app.get("/metrics").await.text().await.expect("metrics");
    let mut help = BTreeMap::new();
    let mut types = BTreeMap::new();
    for line in text.lines() {
        let mut words = line.splitn(4, ' ');
        match (words.next(), words.next(), words.next(), words.next()) {
            (Some("#"), Some("HELP"), Some(name), Some(h)) => {
                help.insert(name.to_owned(), h.to_owned());
            }
            (Some("#"), Some("TYPE"), Some(name), Some(kind)) => {
                types.insert(name.to_owned(), kind.to_owned());
            }
            _ => {}
        }
    }
    assert!(types.contains_key(metric::HTTP_REQUESTS_TOTAL), "{text}");
    for (name, kind) in &types {
        let spec = metric::spec(name).unwrap_or_else(|| panic!("{name} is not in metric::ALL"));
        let expected = match spec.kind {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
        };
        assert_eq!(kind, expected, "{name}");
        assert_eq!(
            help.get(name).map(String::as_str),
            Some(spec.help),
            "{name}"
        );
    }
}

/// The schema of the configuration field at `field` (dotted), read from the served document.
fn field_schema<'a>(doc: &'a Value, field: &str) -> &'a Value {
    let schemas = &doc["components"]["schemas"];
    let mut component = "ProjectConfig".to_owned();
    let mut segments = field.split('.').peekable();
    while let Some(segment) = segments.next() {
        let property = &schemas[&component]["properties"][segment];
        assert!(property.is_object(), "{field}: no {segment} in {component}");
        if segments.peek().is_none() {
            return property;
        }
        let reference = property["$ref"]
            .as_str()
            .or_else(|| {
                property["oneOf"]
                    .as_array()?
                    .iter()
                    .find_map(|a| a["$ref"].as_str())
            })
            .unwrap_or_else(|| panic!("{field}: {segment} refers to nothing"));
        component = reference.rsplit('/').next().expect("name").to_owned();
    }
    panic!("{field}: empty path");
}

#[tokio::test]
async fn every_configuration_range_in_the_document_is_the_one_the_server_enforces() {
    use ytmaker_core::config::{ProjectConfig, RULES, Rule};

    let app = spawn_app(Options::default()).await;
    let doc = app.json("/api/v1/openapi.json").await;
    let defaults = serde_json::to_value(ProjectConfig::default()).expect("defaults");
    // What the server says about `value` in `field`: accepted, or refused naming the field and
    // `rule` (another rule on the same field, e.g. max > min, may break at the same time).
    let verdict = |field: &'static str, rule: String, value: Value| {
        let mut configuration = defaults.clone();
        *configuration
            .pointer_mut(&format!("/{}", field.replace('.', "/")))
            .expect("field in the defaults") = value;
        let app = &app;
        async move {
            let r = app
                .post(
                    "/api/v1/configurations",
                    &serde_json::json!({ "name": "limits", "configuration": configuration }),
                )
                .await;
            let status = r.status();
            let body: Value = r.json().await.expect("JSON");
            let named = body["error"]["details"]["violations"]
                .as_array()
                .is_some_and(|v| v.iter().any(|v| v["field"] == field && v["rule"] == rule));
            let unparsed = body["error"]["details"]["parser_message"].is_string();
            (status, named || unparsed)
        }
    };
    let mut checked = 0;
    for rule in RULES {
        let Rule::Range { .. } = rule.rule else {
            continue;
        };
        // A logo needs an uploaded file; its ranges are ytmaker-core's unit tests.
        if rule.field.starts_with("logo.") {
            continue;
        }
        let schema = field_schema(&doc, rule.field);
        let integer = schema["type"] == "integer";
        let step = if integer { 1.0 } else { 0.01 };
        let number = |v: f64| {
            if integer {
                serde_json::json!(v as i64)
            } else {
                serde_json::json!(v)
            }
        };
        let min = schema["minimum"].as_f64().expect("minimum");
        let max = schema["maximum"].as_f64().expect("maximum");
        for inside in [min, max] {
            let (status, named) = verdict(rule.field, rule.rule.describe(), number(inside)).await;
            assert!(
                status == StatusCode::CREATED || !named,
                "{}: {inside} is in the document's range but refused ({status})",
                rule.field
            );
        }
        for outside in [min - step, max + step] {
            let (status, named) = verdict(rule.field, rule.rule.describe(), number(outside)).await;
            assert_eq!(
                (status, named),
                (StatusCode::UNPROCESSABLE_ENTITY, true),
                "{}: {outside} is outside the document's range",
                rule.field
            );
        }
        checked += 1;
    }
    assert!(checked >= 19, "{checked} ranges checked");
}

#[tokio::test]
async fn texts_and_choices_are_checked_as_the_document_states_them() {
    let app = spawn_app(Options::default()).await;
    let doc = app.json("/api/v1/openapi.json").await;
    let code = |r: reqwest::Response| async move {
        let status = r.status();
        let body: Value = r.json().await.expect("JSON");
        (status, body["error"]["code"].as_str().map(str::to_owned))
    };
    let refused = (
        StatusCode::UNPROCESSABLE_ENTITY,
        Some("VALIDATION_ERROR".to_owned()),
    );

    // Statuses are listed as written: upper case only.
    let statuses = doc["paths"]["/api/v1/projects"]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == "status")
        .map(|p| p["schema"]["enum"].clone())
        .expect("status parameter");
    assert!(
        statuses
            .as_array()
            .is_some_and(|s| s.contains(&"FAILED".into()))
    );
    assert_eq!(
        app.get("/api/v1/projects?status=FAILED").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        code(app.get("/api/v1/projects?status=failed").await).await,
        refused
    );

    // A name is at most 100 characters as sent (the document's maxLength), spaces included.
    let create = &doc["components"]["schemas"]["CreateProject"]["properties"];
    assert_eq!(create["name"]["maxLength"], 100);
    assert_eq!(create["content"]["minLength"], 500);
    assert_eq!(create["llm_model"]["maxLength"], 100);
    let project = |extra: Value| {
        let mut body = serde_json::json!({ "content": common::article() });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body
    };
    let padded = format!(" {} ", "n".repeat(99));
    assert_eq!(
        code(
            app.post(
                "/api/v1/projects",
                &project(serde_json::json!({ "name": padded }))
            )
            .await
        )
        .await,
        refused
    );
    let long_model = "m".repeat(101);
    assert_eq!(
        code(
            app.post(
                "/api/v1/projects",
                &project(serde_json::json!({ "llm_model": long_model }))
            )
            .await
        )
        .await,
        refused
    );
    let created = app
        .post(
            "/api/v1/projects",
            &project(
                serde_json::json!({ "name": "名".repeat(100), "llm_model": "gemini-2.5-flash" }),
            ),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    // A key is counted in characters, as the document's maxLength: 4096 of them, whatever their
    // bytes.
    let key_schema = &doc["components"]["schemas"]["KeyBody"]["properties"]["value"];
    assert_eq!(key_schema["maxLength"], 4096);
    assert_eq!(
        app.put_key("gemini", &"é".repeat(4096)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        code(app.put_key("gemini", &"é".repeat(4097)).await).await,
        refused
    );
    assert_eq!(code(app.put_key("gemini", "   ").await).await, refused);

    // A date is an RFC 3339 full-date, nothing looser.
    assert_eq!(
        app.get("/api/v1/monitoring/summary?date=2026-01-05")
            .await
            .status(),
        StatusCode::OK
    );
    for loose in ["2026-1-05", "%202026-01-05"] {
        assert_eq!(
            code(
                app.get(&format!("/api/v1/monitoring/summary?date={loose}"))
                    .await
            )
            .await,
            refused,
            "{loose}"
        );
    }
    assert_eq!(code(app.get("/api/v1/alerts?state=").await).await, refused);
    assert_eq!(
        app.get("/api/v1/alerts?state=all").await.status(),
        StatusCode::OK
    );
}
