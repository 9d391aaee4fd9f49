//! End to end against the fake cloud: the real `ytmaker` binary with all five real cloud clients
//! (Gemini, Google TTS, Stability AI, D-ID, YouTube), keys stored through `ytmaker keys`, the
//! YouTube account linked through `ytmaker youtube login`. Then a 429 burst on images that the
//! retries absorb, a D-ID quota failure that stops at once, and a retry that finishes the project
//! without paying twice for anything.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use common::{FAST_RENDER, TestEnv, block_on};
use ytmaker_core::asset::AssetKind;
use ytmaker_core::{ErrorCode, ProjectStatus};
use ytmaker_fake_cloud::{Api, Call, FakeCloud, Fault};

const KEYS: [(&str, &str); 4] = [
    ("gemini", "AIzaSy-e2e-gemini-secret-0001"),
    ("google-tts", "AIzaSy-e2e-tts-secret-0002"),
    ("stability", "sk-e2e-stability-secret-0003"),
    ("did", "ZTJlLWRpZC1zZWNyZXQ6MDAwNA=="),
];

fn successes(calls: &[Call], api: Api, endpoint: &str) -> usize {
    calls
        .iter()
        .filter(|c| c.api == api && c.endpoint == endpoint && (200..300).contains(&c.status))
        .count()
}

fn store_keys(env: &TestEnv) {
    for (provider, key) in KEYS {
        let mut child = env
            .command(&["keys", "set", provider])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{key}").unwrap();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "keys set {provider}: {stdout}");
        assert!(stdout.contains("stored"), "{stdout}");
        assert!(!stdout.contains(key), "the key was echoed: {stdout}");
    }
}

/// `ytmaker youtube login` against the fake Google: the test plays the browser.
fn link_youtube(env: &TestEnv) {
    let mut child = env
        .command(&[
            "youtube",
            "login",
            "--client-id",
            "e2e-client.apps.googleusercontent.com",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("login printed no URL").unwrap();
        if let Some(url) = line.trim().strip_prefix("http") {
            break format!("http{url}");
        }
    };
    // The fake consent page redirects to the CLI's loopback listener, which answers the browser.
    let page = block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() });
    assert!(page.contains("Signed in"), "{page}");
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    let status = child.wait().unwrap();
    assert!(status.success(), "youtube login failed: {rest:?}");
    assert!(
        rest.iter().any(|l| l.contains("linked to the channel")),
        "{rest:?}"
    );
}

#[test]
fn cloud_providers_make_the_video_retry_what_is_retryable_and_never_pay_twice() {
    let cloud = block_on(FakeCloud::start_local()).unwrap();
    let mut env = TestEnv::new();
    env.set_env("YTMAKER_CLOUD_BASE_URL", &cloud.url());
    // The catalogue's delays (seconds) shrink; the number of attempts does not.
    env.set_env("YTMAKER_RETRY_DELAY_SCALE", "0.01");
    store_keys(&env);
    link_youtube(&env);
    let listed = env.run(&["keys", "list"]);
    listed.assert_ok();
    assert!(
        listed.stdout.contains("account linked"),
        "{}",
        listed.stdout
    );
    let tested = env.run(&["keys", "test", "stability"]);
    tested.assert_ok();
    let models = env.run(&["keys", "models"]);
    models.assert_ok();
    assert!(models.stdout.contains("(default)"), "{}", models.stdout);

    let config = env.write_file("fast.toml", FAST_RENDER);
    let article = common::repo_root().join("crates/ytmaker-cli/tests/short-en.txt");
    let article = article.to_str().unwrap();
    let config = config.to_str().unwrap();

    // 1. All five cloud clients, with a burst of two 429s on the images.
    cloud.add_fault(
        Fault::error(Api::Stability, Some("generate"), 429, Some("rate"))
            .retry_after(1)
            .times(2),
    );
    let first = env.run(&[
        "generate",
        article,
        "--cloud",
        "--name",
        "cloud one",
        "--config",
        config,
    ]);
    first.assert_ok();
    assert!(
        first
            .stderr
            .contains("[retry] STABILITY_RATE_LIMIT: attempt 1 of 5"),
        "the CLI shows the retries\n{}",
        first.describe()
    );
    let one = env.project(&first.project_id().expect("project id").to_string());
    assert_eq!(one.status, ProjectStatus::Completed);
    assert!(
        one.youtube_video_id.is_some(),
        "published to (fake) YouTube"
    );
    let script = one.script.as_ref().unwrap();
    assert!(
        script.segments.iter().all(|s| s.image_prompt.is_some()),
        "Gemini wrote English image prompts"
    );
    let calls = cloud.calls();
    assert_eq!(successes(&calls, Api::Gemini, "generateContent"), 1);
    assert_eq!(
        successes(&calls, Api::Stability, "generate"),
        script.segments.len()
    );
    assert_eq!(
        cloud.count(Api::Stability, "generate"),
        script.segments.len() + 2
    );
    assert_eq!(successes(&calls, Api::Did, "talks.create"), 2);
    assert_eq!(successes(&calls, Api::Youtube, "videos.insert"), 1);
    assert_eq!(successes(&calls, Api::Youtube, "thumbnails.set"), 1);
    let events = block_on(env.open_store().events_since(one.id, 0)).unwrap();
    let retries: Vec<_> = events.iter().filter(|e| e.kind == "retry").collect();
    assert_eq!(
        retries.len(),
        2,
        "each retry is a stored event (the WebSocket replays them)"
    );

    // 2. D-ID refuses for lack of credits: the project fails at once, with no presenter made up.
    cloud.clear_faults();
    cloud.add_fault(Fault::error(Api::Did, Some("talks.create"), 402, None));
    let before = cloud.calls();
    let second = env.run(&[
        "generate",
        article,
        "--cloud",
        "--name",
        "cloud two",
        "--config",
        config,
    ]);
    assert_eq!(second.code(), Some(4), "{}", second.describe());
    let trace = second.trace_id();
    let two_id = second.project_id().expect("project id");
    let two = env.project(&two_id.to_string());
    assert_eq!(two.status, ProjectStatus::Failed);
    let info = two.error_info.as_ref().unwrap();
    assert_eq!(info.error_code, ErrorCode::DID_QUOTA_EXCEEDED);
    assert!(!info.is_retryable);
    assert!(!info.solutions.is_empty());
    assert_eq!(info.trace_id.as_str(), trace);
    let after_fail = cloud.calls();
    assert_eq!(
        successes(&after_fail, Api::Did, "talks.create"),
        successes(&before, Api::Did, "talks.create"),
        "no talk was created"
    );
    let asked = |calls: &[Call]| {
        calls
            .iter()
            .filter(|c| c.endpoint == "talks.create")
            .count()
    };
    assert_eq!(
        asked(&after_fail) - asked(&before),
        2,
        "intro and outro each asked once, not retried"
    );
    let assets = env.assets(two.id);
    let avatar = assets
        .iter()
        .find(|a| a.key.kind == AssetKind::AvatarIntro)
        .unwrap();
    assert_eq!(avatar.status, ytmaker_core::asset::AssetStatus::Failed);
    assert!(
        !env.project_dir(two.id)
            .join("output/final_video.mp4")
            .exists()
    );
    // The trace id finds the provider's answer in the logs.
    let logs = env.run(&["logs", "--trace", &trace]);
    logs.assert_ok();
    assert!(
        logs.stdout.contains("DID_QUOTA_EXCEEDED"),
        "{}",
        logs.stdout
    );
    let lines = env.log_lines();
    let did_lines: Vec<_> = lines
        .iter()
        .filter(|l| l["trace_id"] == trace.as_str() && l["api"] == "did")
        .collect();
    assert!(
        did_lines
            .iter()
            .any(|l| l["error_code"] == "DID_QUOTA_EXCEEDED" && l["status"] == 402)
    );

    // 3. Credits bought: the retry finishes the project and nothing paid for is asked again.
    cloud.clear_faults();
    let third = env.run(&["projects", "retry", &two_id.to_string()]);
    third.assert_ok();
    assert_eq!(
        env.project(&two_id.to_string()).status,
        ProjectStatus::Completed
    );
    let end = cloud.calls();
    let two_script = env.project(&two_id.to_string()).script.unwrap();
    for (api, endpoint, per_project_two) in [
        (Api::Gemini, "generateContent", 1),
        (Api::Stability, "generate", two_script.segments.len()),
        (Api::Did, "talks.create", 2),
        (Api::Youtube, "videos.insert", 1),
    ] {
        assert_eq!(
            successes(&end, api, endpoint) - successes(&before, api, endpoint),
            per_project_two,
            "{endpoint}: each paid call made once for the second project"
        );
    }
    let lines_two = two_script.segments.len() + 2;
    assert_eq!(
        successes(&end, Api::GoogleTts, "synthesize")
            - successes(&before, Api::GoogleTts, "synthesize"),
        lines_two,
        "each narration line synthesized once"
    );

    // Keys never reach logs, the database or any output.
    let db = std::fs::read(env.db_path()).unwrap();
    let db = String::from_utf8_lossy(&db);
    let all_logs: String = env.log_files().into_iter().map(|(_, t)| t).collect();
    for (_, key) in KEYS {
        assert!(!db.contains(key), "key in the database");
        assert!(!all_logs.contains(key), "key in the logs");
        for run in [&first, &second, &third, &listed, &tested] {
            assert!(
                !run.stdout.contains(key) && !run.stderr.contains(key),
                "key printed"
            );
        }
    }
}

#[test]
fn a_refused_image_fails_the_project_and_the_users_edit_finishes_it() {
    let cloud = block_on(FakeCloud::start_local()).unwrap();
    let mut env = TestEnv::new();
    env.set_env("YTMAKER_CLOUD_BASE_URL", &cloud.url());
    env.set_env("YTMAKER_RETRY_DELAY_SCALE", "0.01");
    store_keys(&env);
    let config = env.write_file(
        "cloud-images.toml",
        format!(
            "{FAST_RENDER}[providers]\nscript = \"gemini\"\nnarration = \"google_tts\"\nimages = \"stability\"\n"
        ),
    );
    // The second image asked for is refused by the content filter: not retryable.
    cloud.add_fault(
        Fault::error(
            Api::Stability,
            Some("generate"),
            403,
            Some("content_moderation"),
        )
        .after(1)
        .times(1),
    );
    let article = common::repo_root().join("crates/ytmaker-cli/tests/short-en.txt");
    let failed = env.run(&[
        "generate",
        article.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(failed.code(), Some(4), "{}", failed.describe());
    let id = failed.project_id().unwrap().to_string();
    let project = env.project(&id);
    let info = project.error_info.as_ref().unwrap();
    assert_eq!(info.error_code, ErrorCode::STABILITY_CONTENT_POLICY);
    assert!(!info.is_retryable);
    let listed = info.details["failed_assets"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["error_code"], "STABILITY_CONTENT_POLICY");
    let refused = listed[0]["segment_index"].as_u64().unwrap() as u32;
    let segments = project.script.as_ref().unwrap().segments.len();
    let images_done = env
        .assets(project.id)
        .iter()
        .filter(|a| a.key.kind == AssetKind::Image && a.is_completed())
        .count();
    assert_eq!(images_done, segments - 1, "the other images are kept");
    assert_eq!(
        cloud.count(Api::Stability, "generate"),
        segments,
        "one call per image"
    );

    let edited = env.run(&[
        "projects",
        "edit-image",
        &id,
        &refused.to_string(),
        "a calm harbour at dawn",
    ]);
    edited.assert_ok();
    let retried = env.run(&["projects", "retry", &id]);
    retried.assert_ok();
    assert_eq!(env.project(&id).status, ProjectStatus::Completed);
    assert_eq!(
        cloud.count(Api::Stability, "generate"),
        segments + 1,
        "only the edited image is asked for again"
    );
    let requests =
        ytmaker_fake_cloud::stability::StabilityState::requests(&cloud.state().stability);
    let last = requests.last().unwrap().prompt.clone().unwrap_or_default();
    assert!(last.starts_with("a calm harbour at dawn"), "{last}");
    let shown = env.run(&["projects", "show", &id]);
    shown.assert_ok();
    assert!(
        shown.stdout.contains("images stability"),
        "{}",
        shown.stdout
    );
}
