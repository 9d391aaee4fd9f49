//! `ytmaker youtube login / accounts / default / remove` against the fake Google: two channels
//! linked by the real loopback login, listed (text and JSON) with one default, the default
//! switched, an unknown channel refused with NOT_FOUND, an account removed with its tokens, and
//! no token in any output or log line.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use common::{TestEnv, block_on};
use serde_json::Value;
use ytmaker_fake_cloud::FakeCloud;
use ytmaker_fake_cloud::youtube::{CHANNELS, FakeChannel};

/// `ytmaker youtube login`, the test playing the browser that consents as `channel`.
fn login_as(env: &TestEnv, channel: FakeChannel) -> Vec<String> {
    let mut child = env
        .command(&[
            "youtube",
            "login",
            "--client-id",
            "cli-accounts.apps.googleusercontent.com",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("login printed no URL").unwrap();
        if let Some(url) = line.trim().strip_prefix("http") {
            break format!("http{url}&login_hint={}", channel.id);
        }
    };
    let page = block_on(async { reqwest::get(&url).await.unwrap().text().await.unwrap() });
    assert!(page.contains("Signed in"), "{page}");
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(child.wait().unwrap().success(), "login failed: {rest:?}");
    rest
}

fn listed(env: &TestEnv) -> Vec<(String, bool)> {
    let run = env.run(&["youtube", "accounts", "--json"]);
    run.assert_ok();
    let accounts: Vec<Value> = serde_json::from_str(&run.stdout).unwrap();
    accounts
        .iter()
        .map(|a| {
            (
                a["channel_id"].as_str().unwrap().to_owned(),
                a["is_default"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn two_accounts_are_linked_listed_switched_and_removed() {
    let cloud = block_on(FakeCloud::start_local()).unwrap();
    let mut env = TestEnv::new();
    env.set_env("YTMAKER_CLOUD_BASE_URL", &cloud.url());
    let [first, second] = CHANNELS;

    let said = login_as(&env, first);
    assert!(
        said.iter()
            .any(|l| l.contains(first.id) && l.contains("default")),
        "{said:?}"
    );
    login_as(&env, second);
    assert_eq!(
        listed(&env),
        [(first.id.into(), true), (second.id.into(), false)]
    );
    let text = env.run(&["youtube", "accounts"]);
    text.assert_ok();
    assert!(!text.describe().contains("ya29."), "{}", text.describe());
    assert!(
        text.stdout
            .contains(&format!("* {}  {}", first.id, first.title)),
        "{}",
        text.stdout
    );

    env.run(&["youtube", "default", second.id]).assert_ok();
    assert_eq!(
        listed(&env),
        [(first.id.into(), false), (second.id.into(), true)]
    );
    let status = env.run(&["youtube", "status"]);
    status.assert_ok();
    assert!(status.stdout.contains(second.id), "{}", status.stdout);

    let unknown = env.run(&["youtube", "default", "UCzzzzzzzzzzzzzzzzzzzzzz"]);
    assert_ne!(unknown.code(), Some(0));
    assert!(
        unknown.describe().contains("NOT_FOUND"),
        "{}",
        unknown.describe()
    );

    env.run(&["youtube", "remove", second.id]).assert_ok();
    assert_eq!(listed(&env), [(first.id.into(), true)]);

    for (_, text) in env.log_files() {
        assert!(
            !text.contains("ya29.") && !text.contains("1//fake"),
            "a token was logged"
        );
    }
}
