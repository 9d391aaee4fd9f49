//! `projects cancel|retry|resume` check the state machine and the job queue: a project a server's
//! worker holds is never run a second time from the terminal.

mod common;

use common::{TestEnv, block_on};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::{ProjectStatus, TraceId};
use ytmaker_store::{JobQueue, NewProject};

fn new_project(env: &TestEnv, name: &str) -> uuid::Uuid {
    // The data directory and database exist once any command has run.
    env.run(&["projects", "list"]).assert_ok();
    let store = env.open_store();
    block_on(store.create_project(&NewProject {
        name: name.into(),
        content: "內容".repeat(300),
        configuration: ProjectConfig::default(),
    }))
    .expect("create")
    .id
}

#[test]
fn cancel_retry_and_resume_follow_the_state_machine_and_the_queue() {
    let env = TestEnv::new();
    let id = new_project(&env, "to cancel");
    let run = env.run(&["projects", "cancel", &id.to_string()]);
    run.assert_ok();
    assert!(run.stdout.contains("CANCELLED"), "{}", run.describe());
    assert_eq!(
        env.project(&id.to_string()).status,
        ProjectStatus::Cancelled
    );
    for args in [
        ["projects", "cancel"],
        ["projects", "retry"],
        ["projects", "resume"],
    ] {
        let run = env.run(&[args[0], args[1], &id.to_string()]);
        assert_eq!(run.code(), Some(3), "{args:?}: {}", run.describe());
        assert!(
            run.stderr.contains("INVALID_STATE_TRANSITION"),
            "{}",
            run.describe()
        );
    }

    // Retry needs a FAILED project.
    let fresh = new_project(&env, "fresh");
    let run = env.run(&["projects", "retry", &fresh.to_string()]);
    assert_eq!(run.code(), Some(3), "{}", run.describe());

    // A project queued for a server's worker is not run from the terminal as well.
    let store = env.open_store();
    block_on(store.enqueue(fresh, &TraceId::generate())).expect("enqueue");
    let run = env.run(&["projects", "resume", &fresh.to_string()]);
    assert_eq!(run.code(), Some(3), "{}", run.describe());
    assert!(run.stderr.contains("worker"), "{}", run.describe());
    // Cancelling it ends the queued job and the project.
    env.run(&["projects", "cancel", &fresh.to_string()])
        .assert_ok();
    assert!(block_on(store.live_job(fresh)).unwrap().is_none());
    assert_eq!(
        env.project(&fresh.to_string()).status,
        ProjectStatus::Cancelled
    );
}
