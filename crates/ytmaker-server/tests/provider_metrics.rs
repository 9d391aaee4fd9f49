//! `/metrics` and `provider_calls` against what the fake cloud saw. The metrics recorder is
//! process-wide, so this file holds one test: every provider call in this process is one of its
//! own, and the counters can be compared exactly with the fake cloud's record.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use common::cloud_app;
use ytmaker_fake_cloud::{Api, Fault};

/// One sample line of the Prometheus text format.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn parse_value(raw: &str) -> Result<f64, String> {
    match raw {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => raw
            .parse::<f64>()
            .map_err(|e| format!("bad value {raw:?}: {e}")),
    }
}

/// `{a="x",b="y"}` (the part after the metric name); returns the labels and the rest of the line.
fn parse_labels(text: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = text.strip_prefix('{').ok_or("labels must start with {")?;
    loop {
        if let Some(after) = rest.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !valid_name(name) || name.contains(':') {
            return Err(format!("bad label name {name:?}"));
        }
        rest = rest[eq + 1..]
            .strip_prefix('"')
            .ok_or("label value must be quoted")?;
        let mut value = String::new();
        let mut chars = rest.char_indices();
        let end = loop {
            match chars.next() {
                Some((i, '"')) => break i,
                Some((_, '\\')) => match chars.next() {
                    Some((_, '\\')) => value.push('\\'),
                    Some((_, '"')) => value.push('"'),
                    Some((_, 'n')) => value.push('\n'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                Some((_, '\n')) | None => return Err("unterminated label value".into()),
                Some((_, c)) => value.push(c),
            }
        };
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("label {name} repeated"));
        }
        rest = &rest[end + 1..];
        rest = rest.strip_prefix(',').unwrap_or(rest);
        if !rest.starts_with('}')
            && !rest
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        {
            return Err(format!("junk after a label: {rest:?}"));
        }
    }
}

/// A strict reader of the Prometheus text exposition format (version 0.0.4): every line is a
/// comment, a `# HELP`/`# TYPE` line (a family's TYPE at most once, before its samples), or a
/// sample `name{labels} value [timestamp]` whose family was declared with a known type.
fn parse_prometheus(text: &str) -> Result<Vec<Sample>, String> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = |e: String| format!("line {}: {e}: {line:?}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            let parts: Vec<&str> = comment.trim_start().splitn(3, ' ').collect();
            match parts.as_slice() {
                ["TYPE", name, kind] => {
                    if !valid_name(name) {
                        return Err(at("bad metric name".into()));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(kind) {
                        return Err(at(format!("unknown type {kind}")));
                    }
                    if types
                        .insert((*name).to_owned(), (*kind).to_owned())
                        .is_some()
                    {
                        return Err(at("TYPE given twice".into()));
                    }
                }
                ["HELP", name, ..] if !valid_name(name) => {
                    return Err(at("bad metric name".into()));
                }
                _ => {}
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).ok_or_else(|| at("no value".into()))?;
        let name = &line[..name_end];
        if !valid_name(name) {
            return Err(at("bad metric name".into()));
        }
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(at)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let value = match fields.as_slice() {
            [value] => parse_value(value).map_err(at)?,
            [value, timestamp] => {
                timestamp
                    .parse::<i64>()
                    .map_err(|e| at(format!("bad timestamp: {e}")))?;
                parse_value(value).map_err(at)?
            }
            _ => return Err(at("expected a value and an optional timestamp".into())),
        };
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                let base = name.strip_suffix(suffix)?;
                matches!(
                    types.get(base).map(String::as_str),
                    Some("histogram" | "summary")
                )
                .then_some(base)
            })
            .unwrap_or(name);
        let kind = types
            .get(family)
            .ok_or_else(|| at(format!("sample of {family} before its TYPE")))?;
        if kind == "histogram" && name.ends_with("_bucket") && !labels.contains_key("le") {
            return Err(at("histogram bucket without le".into()));
        }
        if kind == "counter" && value < 0.0 {
            return Err(at("negative counter".into()));
        }
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    Ok(samples)
}

#[test]
fn the_parser_is_strict() {
    assert!(parse_prometheus("# TYPE a counter\na{x=\"1\"} 2\n").is_ok());
    assert!(parse_prometheus("a 1\n").is_err(), "no TYPE");
    assert!(
        parse_prometheus("# TYPE a counter\na{x=1} 2\n").is_err(),
        "unquoted"
    );
    assert!(
        parse_prometheus("# TYPE a counter\na{x=\"1\"} two\n").is_err(),
        "value"
    );
    assert!(
        parse_prometheus("# TYPE a counter\n# TYPE a gauge\n").is_err(),
        "twice"
    );
    assert!(
        parse_prometheus("# TYPE h histogram\nh_bucket{x=\"1\"} 2\n").is_err(),
        "le"
    );
    let parsed = parse_prometheus("# TYPE a gauge\na{x=\"q\\\"\\\\\"} -1.5e3 17\n").unwrap();
    assert_eq!(parsed[0].labels["x"], "q\"\\");
    assert_eq!(parsed[0].value, -1500.0);
}

fn sum(samples: &[Sample], name: &str, filter: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && filter
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

fn fake_api(api: Api) -> &'static str {
    match api {
        // The OAuth token endpoint is recorded under the client's own name.
        Api::Oauth => "google_oauth",
        other => other.as_str(),
    }
}

#[tokio::test]
async fn metrics_and_call_records_match_what_the_fake_cloud_saw() {
    let (cloud, app) = cloud_app().await;
    for (provider, key) in [
        ("gemini", "AIza-api-test-gemini"),
        ("google_tts", "AIza-api-test-tts"),
        ("stability", "sk-api-test-stability-1234"),
        ("did", "api-test-did-key"),
    ] {
        let stored = app
            .client
            .put(app.url(&format!("/api/v1/keys/{provider}")))
            .json(&json!({ "value": key }))
            .send()
            .await
            .unwrap();
        assert_eq!(stored.status(), 200);
    }
    // One image fails once with a server error and is retried: the call is recorded with the
    // code the client mapped the answer to.
    cloud.add_fault(Fault::error(Api::Stability, Some("generate"), 500, None).times(1));
    let id = app
        .create_started(json!({ "providers": {
            "script": "gemini", "narration": "google_tts", "images": "stability",
            "avatar": "did", "publish": "local"
        }}))
        .await;
    let done = app
        .wait_for(&id, Duration::from_secs(300), |p| {
            p["job"].is_null() && (p["status"] == "COMPLETED" || p["status"] == "FAILED")
        })
        .await;
    assert_eq!(done["status"], "COMPLETED", "{}", done["error_info"]);

    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let samples = parse_prometheus(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    // Read after the scrape: rendering /metrics refreshes the quota gauges, which may ask D-ID
    // for its credits (a real call, counted like any other).
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for call in cloud.calls() {
        *expected
            .entry((fake_api(call.api).to_owned(), call.endpoint.to_owned()))
            .or_default() += 1;
    }
    assert!(expected.len() >= 5, "{expected:?}");

    let mut counted: BTreeMap<(String, String), u64> = BTreeMap::new();
    for s in samples
        .iter()
        .filter(|s| s.name == "ytmaker_provider_calls_total")
    {
        *counted
            .entry((s.labels["api"].clone(), s.labels["endpoint"].clone()))
            .or_default() += s.value as u64;
    }
    assert_eq!(counted, expected);
    let failed_generate = [
        ("api", "stability"),
        ("endpoint", "generate"),
        ("outcome", "error"),
        ("code", "STABILITY_SERVER_ERROR"),
    ];
    assert_eq!(
        sum(&samples, "ytmaker_provider_calls_total", &failed_generate),
        1.0
    );
    assert_eq!(
        sum(
            &samples,
            "ytmaker_retries_total",
            &[("code", "STABILITY_SERVER_ERROR")]
        ),
        1.0
    );
    let generate_calls = expected[&("stability".to_owned(), "generate".to_owned())] as f64;
    assert_eq!(
        sum(
            &samples,
            "ytmaker_provider_call_duration_seconds_count",
            &[("api", "stability"), ("endpoint", "generate")]
        ),
        generate_calls
    );
    assert_eq!(
        sum(&samples, "ytmaker_projects", &[("status", "COMPLETED")]),
        1.0
    );
    // Images delivered today: every generate call but the failed one.
    assert_eq!(
        sum(
            &samples,
            "ytmaker_quota_used",
            &[("provider", "stability"), ("unit", "images")]
        ),
        generate_calls - 1.0
    );
    assert_eq!(
        sum(
            &samples,
            "ytmaker_quota_limit",
            &[("provider", "youtube"), ("unit", "units")]
        ),
        10_000.0
    );
    assert!(
        samples
            .iter()
            .any(|s| s.name == "ytmaker_disk_free_bytes" && s.value > 0.0)
    );

    // The database holds the same calls. Records are written on their own tasks after each
    // answer, so the last ones may still be landing when the project is reported done.
    let total: usize = expected.values().sum::<u64>() as usize;
    let mut rows = Vec::new();
    for _ in 0..100 {
        rows = app.store.provider_calls_since(0).await.unwrap();
        if rows.len() >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut stored: BTreeMap<(String, String), u64> = BTreeMap::new();
    for row in &rows {
        *stored
            .entry((row.api.clone(), row.endpoint.clone()))
            .or_default() += 1;
    }
    assert_eq!(stored, expected);
    let failed: Vec<_> = rows.iter().filter(|r| r.error_code.is_some()).collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(
        failed[0].error_code.as_deref(),
        Some("STABILITY_SERVER_ERROR")
    );
    assert_eq!(failed[0].status, Some(500));
    let project_id: uuid::Uuid = id.parse().unwrap();
    let trace = done["trace_id"].as_str().unwrap();
    // Rendering /metrics may read D-ID's credits for the quota gauges, outside any run; every
    // other call was made for the project.
    let strays: Vec<_> = rows
        .iter()
        .filter(|r| !(r.endpoint == "credits" && r.project_id.is_none() && r.trace_id.is_none()))
        .filter(|r| r.project_id != Some(project_id) || r.trace_id.as_deref() != Some(trace))
        .collect();
    assert!(
        strays.is_empty(),
        "every call made for the project carries its id and trace: {strays:?}"
    );

    // The quota report: D-ID's credits come from its API (a D-ID key is stored).
    let quotas = app.json("/api/v1/quotas").await;
    let by_provider = |p: &str| {
        quotas["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["provider"] == p)
            .cloned()
            .unwrap_or_else(|| panic!("no {p} in {quotas}"))
    };
    let did = by_provider("did");
    assert_eq!(did["source"], "api", "{did}");
    assert!(did["error"].is_null() && did["remaining"].is_u64(), "{did}");
    let stability = by_provider("stability");
    assert_eq!(stability["used"], generate_calls as u64 - 1);
    assert!(stability["limit"].is_null());
    let youtube = by_provider("youtube");
    assert_eq!(
        (youtube["used"].as_u64(), youtube["limit"].as_u64()),
        (Some(0), Some(10_000))
    );
    assert!(
        youtube["resets_at"].as_str().unwrap().ends_with('Z'),
        "{youtube}"
    );
}
