//! `ytmaker quota` and the start refusal in `ytmaker generate`: with `[quotas]` limiting YouTube
//! below what publishing needs, a cloud project is refused with `QUOTA_INSUFFICIENT` before any
//! provider is called.

mod common;

use common::{TestEnv, block_on, sample_article};
use ytmaker_core::ProjectStatus;
use ytmaker_fake_cloud::FakeCloud;

#[test]
fn generate_is_refused_when_youtube_units_do_not_cover_the_upload() {
    let cloud = block_on(FakeCloud::start_local()).unwrap();
    let mut env = TestEnv::new();
    env.set_env("YTMAKER_CLOUD_BASE_URL", &cloud.url());
    std::fs::create_dir_all(&env.data).unwrap();
    std::fs::write(
        env.data.join("config.toml"),
        "[quotas]\nyoutube_units_per_day = 40\ngemini_requests_per_day = 500\n",
    )
    .unwrap();

    let shown = env.run(&["quota", "--json"]);
    shown.assert_ok();
    let quotas: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let by = |p: &str| {
        quotas["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["provider"] == p)
            .cloned()
            .unwrap()
    };
    assert_eq!(by("youtube")["limit"], 40);
    assert_eq!(by("gemini")["limit"], 500);
    assert!(by("stability")["limit"].is_null());
    let table = env.run(&["quota"]);
    table.assert_ok();
    assert!(table.stdout.starts_with("PROVIDER"), "{}", table.stdout);
    assert!(
        table
            .stdout
            .lines()
            .any(|l| l.starts_with("youtube ") && l.contains(" 40 ")),
        "{}",
        table.stdout
    );

    let article = sample_article();
    let refused = env.run(&["generate", "--cloud", article.to_str().unwrap()]);
    assert_eq!(refused.code(), Some(3), "{}", refused.describe());
    let output = format!("{}{}", refused.stdout, refused.stderr);
    assert!(output.contains("QUOTA_INSUFFICIENT"), "{output}");
    let projects = env.all_projects();
    assert_eq!(projects.len(), 1);
    assert_eq!(projects[0].status, ProjectStatus::Initialized);
    assert!(
        cloud.calls().is_empty(),
        "no provider was called: {:?}",
        cloud.calls()
    );

    let wrong = env.data.join("config.toml");
    std::fs::write(&wrong, "[quotas]\nyoutube = 1\n").unwrap();
    let invalid = env.run(&["quota"]);
    assert_eq!(invalid.code(), Some(3), "{}", invalid.describe());
    assert!(
        invalid.stderr.contains("CONFIG_INVALID"),
        "{}",
        invalid.describe()
    );
}
