//! End to end with the OpenAI-compatible script writer: the real `ytmaker` binary against the
//! fake cloud, the script written through `[llm]` and everything else local.
//! - a local Ollama (the fake's Ollama-style `/ollama/v1`, no key): `keys test` lists its models,
//!   `generate` makes the video with one chat call;
//! - a keyed server (`/v1`, key stored with `ytmaker keys set openai-compatible`): two 429s
//!   without `Retry-After` are retried into a script, and the key is in no file of the data dir;
//! - the fault table through the binary: code, retryable, attempts, exit code;
//! - a key named but not stored: refused before anything is called.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use common::{FAST_RENDER, TestEnv, block_on};
use ytmaker_core::asset::AssetKind;
use ytmaker_core::{ErrorCode, ProjectStatus};
use ytmaker_fake_cloud::{Api, FakeCloud, Fault};

const KEY: &str = "sk-e2e-llm-SECRET-key-0005";
const CHAT: &str = "chat.completions";

fn article() -> String {
    common::repo_root()
        .join("crates/ytmaker-cli/tests/short-en.txt")
        .display()
        .to_string()
}

/// `<data>/config.toml`: read by `generate` and by `keys test`.
fn configure(env: &TestEnv, base_url: &str, model: &str, api_key: &str) {
    std::fs::create_dir_all(&env.data).unwrap();
    let toml = format!(
        "{FAST_RENDER}\n[providers]\nscript = \"openai_compatible\"\n\n[llm]\nbase_url = \"{base_url}\"\nmodel = \"{model}\"\napi_key = \"{api_key}\"\n"
    );
    std::fs::write(env.data.join("config.toml"), toml).unwrap();
}

fn store_key(env: &TestEnv) -> String {
    store_key_for(env, &[])
}

/// `ytmaker keys set openai-compatible <extra…>` with the key on stdin; returns what it printed.
fn store_key_for(env: &TestEnv, extra: &[&str]) -> String {
    let args: Vec<&str> = ["keys", "set", "openai-compatible"]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let mut child = env
        .command(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{KEY}").unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "keys set: {stdout}");
    assert!(!stdout.contains(KEY), "the key was echoed: {stdout}");
    stdout.into_owned()
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if let Ok(bytes) = std::fs::read(&path)
            && bytes.windows(needle.len()).any(|w| w == needle)
        {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn a_local_ollama_writes_the_script_with_no_cloud_at_all() {
    let cloud = block_on(FakeCloud::start_local()).unwrap();
    let env = TestEnv::new();
    // No YTMAKER_CLOUD_BASE_URL: only the [llm] server is called.
    configure(
        &env,
        &format!("{}/ollama/v1", cloud.url()),
        "qwen2.5:7b",
        "",
    );
    let tested = env.run(&["keys", "test", "openai-compatible"]);
    tested.assert_ok();
    assert!(
        tested.stdout.contains("qwen2.5:7b is listed"),
        "{}",
        tested.stdout
    );

    let run = env.run(&["generate", &article(), "--name", "ollama one"]);
    run.assert_ok();
    let project = env.project(&run.project_id().expect("project id").to_string());
    assert_eq!(project.status, ProjectStatus::Completed);
    let script = project.script.as_ref().expect("script");
    assert!(script.segments.len() >= 2);
    assert!(
        script.segments.iter().all(|s| s.image_prompt.is_some()),
        "the LLM wrote English image prompts"
    );
    assert!(
        env.project_dir(project.id)
            .join("output/final_video.mp4")
            .is_file()
    );
    let calls = cloud.calls();
    assert_eq!(
        calls.len(),
        2,
        "one models.list (key test), one chat call: {calls:?}"
    );
    assert_eq!(cloud.count(Api::OpenaiCompatible, CHAT), 1);
    assert!(calls.iter().all(|c| c.api == Api::OpenaiCompatible));
    let sent = cloud.state().openai.last_chat_request().expect("sent");
    assert_eq!(sent["model"], "qwen2.5:7b");
    assert_eq!(sent["response_format"]["type"], "json_schema");
    assert_eq!(cloud.state().openai.last_authorization(), None);

    // The provider call is logged under the run's trace id.
    let lines = env.log_lines();
    assert!(lines.iter().any(|l| l["api"] == "openai_compatible"
        && l["endpoint"] == CHAT
        && l["status"] == 200
        && l["trace_id"] == run.trace_id().as_str()));
}

#[test]
fn a_keyed_server_is_retried_through_429s_and_the_key_stays_in_the_key_store() {
    let cloud = block_on(FakeCloud::start_local()).unwrap();
    let mut env = TestEnv::new();
    env.set_env("YTMAKER_RETRY_DELAY_SCALE", "0.001");
    configure(
        &env,
        &format!("{}/v1", cloud.url()),
        "gpt-4o-mini",
        "openai_compatible",
    );

    // Named but not stored: refused before any call.
    let refused = env.run(&["generate", &article(), "--name", "no key"]);
    assert_eq!(refused.code(), Some(3), "{}", refused.describe());
    assert!(
        refused.stderr.contains("PROVIDER_KEY_MISSING"),
        "{}",
        refused.describe()
    );
    assert!(cloud.calls().is_empty());

    store_key(&env);
    let listed = env.run(&["keys", "list"]);
    listed.assert_ok();
    assert!(
        listed
            .stdout
            .lines()
            .any(|l| l.starts_with("openai_compatible") && !l.contains("not set")),
        "{}",
        listed.stdout
    );
    assert!(!listed.stdout.contains(KEY));

    cloud.add_fault(Fault::error(Api::OpenaiCompatible, Some(CHAT), 429, None).times(2));
    let run = env.run(&["generate", &article(), "--name", "keyed"]);
    run.assert_ok();
    assert!(
        run.stderr
            .contains("[retry] LLM_RATE_LIMIT: attempt 1 of 5"),
        "the CLI shows the retries\n{}",
        run.describe()
    );
    let project = env.project(&run.project_id().expect("project id").to_string());
    assert_eq!(project.status, ProjectStatus::Completed);
    assert_eq!(cloud.count(Api::OpenaiCompatible, CHAT), 3);
    assert_eq!(
        cloud.state().openai.last_authorization().as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    let leaked = files_containing(&env.data, KEY.as_bytes());
    assert!(leaked.is_empty(), "the key is in clear in {leaked:?}");
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));

    // A configuration pointing llm.base_url at another server does not take the key there: the
    // run is refused before anything is sent, and nothing connects to that server.
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    elsewhere.set_nonblocking(true).unwrap();
    let elsewhere_url = format!("http://{}/v1", elsewhere.local_addr().unwrap());
    configure(&env, &elsewhere_url, "gpt-4o-mini", "openai_compatible");
    let chats = cloud.count(Api::OpenaiCompatible, CHAT);
    let moved = env.run(&["generate", &article(), "--name", "moved"]);
    assert_ne!(moved.code(), Some(0), "{}", moved.describe());
    assert!(
        moved.stderr.contains("LLM_KEY_FOR_OTHER_SERVER"),
        "{}",
        moved.describe()
    );
    assert!(
        matches!(elsewhere.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "something connected to the other server"
    );
    assert_eq!(cloud.count(Api::OpenaiCompatible, CHAT), chats);
    assert!(!moved.stdout.contains(KEY) && !moved.stderr.contains(KEY));

    // Stored again for that server (`--base-url`), the key goes there.
    let said = store_key_for(&env, &["--base-url", &elsewhere_url]);
    let origin = elsewhere_url.trim_end_matches("/v1");
    assert!(said.contains(&format!("sent only to {origin}")), "{said}");
}

#[test]
fn each_server_failure_ends_the_run_with_its_code_after_the_catalogued_attempts() {
    let cloud = block_on(FakeCloud::start_local()).unwrap();
    let mut env = TestEnv::new();
    env.set_env("YTMAKER_RETRY_DELAY_SCALE", "0.001");
    let ollama = format!("{}/ollama/v1", cloud.url());
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        format!("http://127.0.0.1:{port}/v1")
    };
    // (name, base_url, model, fault, code, chat calls)
    type Row<'a> = (&'a str, String, &'a str, Option<Fault>, ErrorCode, usize);
    let rows: Vec<Row> = vec![
        (
            "model not pulled",
            ollama.clone(),
            "mistral:7b",
            None,
            ErrorCode::LLM_MODEL_NOT_FOUND,
            1,
        ),
        (
            "Ollama not running",
            closed,
            "qwen2.5:7b",
            None,
            ErrorCode::LLM_SERVER_UNREACHABLE,
            0,
        ),
        (
            "context too long",
            ollama.clone(),
            "qwen2.5:7b",
            Some(Fault::error(
                Api::OpenaiCompatible,
                Some(CHAT),
                400,
                Some("context_length"),
            )),
            ErrorCode::LLM_CONTEXT_TOO_LONG,
            1,
        ),
        (
            "answer cut off",
            ollama.clone(),
            "qwen2.5:7b",
            Some(Fault::error(
                Api::OpenaiCompatible,
                Some(CHAT),
                200,
                Some("length"),
            )),
            ErrorCode::LLM_OUTPUT_TRUNCATED,
            1,
        ),
        (
            "server error",
            ollama,
            "qwen2.5:7b",
            Some(Fault::error(Api::OpenaiCompatible, Some(CHAT), 500, None)),
            ErrorCode::LLM_SERVER_ERROR,
            4,
        ),
    ];
    let mut table = Vec::new();
    for (name, base_url, model, fault, code, calls) in rows {
        cloud.clear_faults();
        if let Some(f) = fault {
            cloud.add_fault(f);
        }
        configure(&env, &base_url, model, "");
        let before = cloud.count(Api::OpenaiCompatible, CHAT);
        let run = env.run(&["generate", &article(), "--name", name]);
        assert_eq!(run.code(), Some(4), "{name}: {}", run.describe());
        let project = env.project(&run.project_id().expect("project id").to_string());
        assert_eq!(project.status, ProjectStatus::Failed, "{name}");
        let info = project.error_info.as_ref().expect("error info");
        assert_eq!(info.error_code, code, "{name}: {}", run.describe());
        assert_eq!(info.is_retryable, code.is_retryable(), "{name}");
        assert_eq!(info.trace_id.as_str(), run.trace_id(), "{name}");
        let expected_attempts = if code.is_retryable() {
            code.spec().retry.max_retries + 1
        } else {
            1
        };
        let script_asset = env
            .assets(project.id)
            .into_iter()
            .find(|a| a.key.kind == AssetKind::Script)
            .expect("the script asset");
        assert_eq!(script_asset.attempts, expected_attempts, "{name}: attempts");
        assert_eq!(
            cloud.count(Api::OpenaiCompatible, CHAT) - before,
            calls,
            "{name}: chat calls"
        );
        assert!(
            run.stderr.contains(code.as_str()),
            "{name}: the report names the code\n{}",
            run.describe()
        );
        if code == ErrorCode::LLM_SERVER_UNREACHABLE {
            assert!(
                run.stderr.contains("is not reachable") && run.stderr.contains(&base_url),
                "{}",
                run.describe()
            );
        }
        table.push(format!(
            "{name:<20} {code:<24} retryable={:<5} attempts={expected_attempts}",
            code.is_retryable()
        ));
    }
    println!("{}", table.join("\n"));
}
