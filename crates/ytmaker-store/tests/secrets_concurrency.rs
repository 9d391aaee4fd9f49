//! The key file under concurrent writers (issue 12, defect 6): a token refresh in one process and a
//! `keys set` in another each read, modify and write `keys.age`. Every update must survive and the
//! file must always decrypt.
//!
//! The two-process test runs this test binary twice more, each time selecting only the ignored
//! `child_writes_its_share` test, with the data directory and the child's number in the
//! environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ytmaker_core::Secret;
use ytmaker_store::{DataDir, SecretStore};

const WRITES_PER_WRITER: usize = 200;
const CHILD_DIR_ENV: &str = "YTMAKER_TEST_SECRETS_CHILD_DIR";
const CHILD_ID_ENV: &str = "YTMAKER_TEST_SECRETS_CHILD_ID";
const GO_FILE: &str = "go";

/// A distinct, well-formed secret name per writer and write: `youtube:UC` + 22 characters.
fn name(writer: usize, i: usize) -> String {
    format!("youtube:UCw{writer}x{i:019}")
}

fn value(writer: usize, i: usize) -> String {
    format!("token-of-writer-{writer}-number-{i}")
}

fn write_share(data: &Path, writer: usize) {
    let store = SecretStore::open(&DataDir::new(data));
    for i in 0..WRITES_PER_WRITER {
        store
            .set(&name(writer, i), &Secret::new(value(writer, i)))
            .unwrap_or_else(|e| {
                panic!("writer {writer}, write {i}: {} {:?}", e.message, e.details)
            });
    }
}

fn assert_every_write_is_there(data: &Path, writers: usize) {
    let store = SecretStore::open(&DataDir::new(data));
    let listed = store.list().expect("keys.age decrypts");
    let mut missing = Vec::new();
    for w in 0..writers {
        for i in 0..WRITES_PER_WRITER {
            match store.get(&name(w, i)).expect("keys.age decrypts") {
                Some(s) => assert_eq!(s.expose(), value(w, i)),
                None => missing.push(name(w, i)),
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} writes lost (stored: {}), e.g. {:?}",
        missing.len(),
        writers * WRITES_PER_WRITER,
        listed.len(),
        &missing[..missing.len().min(5)]
    );
    assert_eq!(listed.len(), writers * WRITES_PER_WRITER);
    let leftovers: Vec<PathBuf> = std::fs::read_dir(data.join("secrets"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Not a test of its own: the body each child process runs.
#[test]
#[ignore = "run as a child process by two_processes_writing_at_once_lose_nothing"]
fn child_writes_its_share() {
    let dir = PathBuf::from(std::env::var_os(CHILD_DIR_ENV).expect("child dir"));
    let id: usize = std::env::var(CHILD_ID_ENV)
        .expect("child id")
        .parse()
        .expect("child id is a number");
    // Both children start writing together, so their writes interleave.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dir.join(GO_FILE).exists() {
        assert!(Instant::now() < deadline, "never told to start");
        std::thread::sleep(Duration::from_millis(2));
    }
    write_share(&dir, id);
}

#[test]
fn two_processes_writing_at_once_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..2)
        .map(|id| {
            Command::new(&exe)
                .args([
                    "child_writes_its_share",
                    "--exact",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_DIR_ENV, tmp.path())
                .env(CHILD_ID_ENV, id.to_string())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::fs::write(tmp.path().join(GO_FILE), b"").unwrap();
    for (id, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "child {id} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_file(tmp.path().join(GO_FILE)).unwrap();
    assert_every_write_is_there(tmp.path(), 2);
}

#[test]
fn two_threads_writing_at_once_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    // The identity exists first, as in a server that has stored a key before.
    SecretStore::open(&DataDir::new(tmp.path()))
        .set("gemini", &Secret::new("AIza-first"))
        .unwrap();
    std::thread::scope(|s| {
        for writer in 0..2 {
            let data = tmp.path();
            s.spawn(move || write_share(data, writer));
        }
    });
    let store = SecretStore::open(&DataDir::new(tmp.path()));
    assert!(store.delete("gemini").unwrap());
    assert_every_write_is_there(tmp.path(), 2);
}
