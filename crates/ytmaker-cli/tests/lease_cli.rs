//! One runner per project: the CLI runs a project under the same job lease as the server's
//! workers. While `generate` runs, a second `projects resume` (or the server's Resume) is
//! refused naming who holds the lease and until when; after the runner is killed, `projects
//! resume` waits out the dead process's lease and finishes the project.

mod common;

use std::fs::File;
use std::time::{Duration, Instant};

use common::{FAST_RENDER, TestEnv, block_on, sample_article};
use ytmaker_core::ProjectStatus;
use ytmaker_store::{JobQueue, ProjectFilter};

#[test]
fn a_second_runner_is_refused_while_the_cli_holds_the_lease_and_waits_out_a_dead_one() {
    let mut env = TestEnv::new();
    // A short lease, so the dead runner's lease runs out quickly; not so short that a runner's
    // heartbeat (every third of it) misses it on a loaded machine (2 s did, beside a soak).
    env.set_env("YTMAKER_JOB_LEASE_MS", "4000");
    let config = env.write_file(
        "config.toml",
        format!("{FAST_RENDER}\n[script]\ntarget_min_seconds = 30\ntarget_max_seconds = 60\n"),
    );
    let article = sample_article();
    let args = [
        "generate",
        article.to_str().unwrap(),
        "--offline",
        "--config",
        config.to_str().unwrap(),
    ];
    let err_path = env.tmp.path().join("generate.stderr");
    let mut child = env
        .command(&args)
        .stdout(File::create(env.tmp.path().join("generate.stdout")).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("start ytmaker generate");
    let read_err = || std::fs::read_to_string(&err_path).unwrap_or_default();

    // Wait until the run holds its lease and works.
    let started = Instant::now();
    let mut store = None;
    let (project_id, job) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("generate ended ({status}) too early\n{}", read_err());
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "no running project after 5 minutes\n{}",
            read_err()
        );
        if store.is_none() && env.db_path().is_file() {
            store = Some(env.open_store());
        }
        if let Some(store) = &store {
            let rows = block_on(store.list_projects(&ProjectFilter::default())).unwrap_or_default();
            if let Some(p) = rows.first().filter(|p| p.status.is_running())
                && let Some(job) = block_on(store.live_job(p.id)).unwrap()
            {
                break (p.id, job);
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let owner = job
        .lease_owner
        .clone()
        .expect("the running job names its runner");
    assert!(
        owner.starts_with("cli/") && owner.ends_with(&format!("/{}", child.id())),
        "the CLI's lease names its process: {owner}"
    );

    // A second CLI is refused, naming the holder.
    let second = env.run(&["projects", "resume", &project_id.to_string()]);
    assert_ne!(second.code(), Some(0), "{}", second.describe());
    let said = format!("{}{}", second.stdout, second.stderr);
    assert!(said.contains("INVALID_STATE_TRANSITION"), "{said}");
    assert!(
        said.contains(&owner),
        "the refusal names the runner: {said}"
    );

    // The server's Resume is refused too: the project has a live job.
    let store = store.expect("store");
    let live = block_on(store.live_job(project_id)).unwrap();
    assert!(
        live.is_some(),
        "the CLI's run is a live job the server sees"
    );

    // kill -9 the runner: its lease is left behind, and a resume waits it out, then finishes.
    child.kill().expect("SIGKILL ytmaker");
    child.wait().unwrap();
    let resumed = env.run(&["projects", "resume", &project_id.to_string()]);
    assert_eq!(resumed.code(), Some(0), "{}", resumed.describe());
    let project = env.project(&project_id.to_string());
    assert_eq!(project.status, ProjectStatus::Completed);
    assert!(
        block_on(store.live_job(project_id)).unwrap().is_none(),
        "the finished run closed its job"
    );
}
