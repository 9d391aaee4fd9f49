//! Crash recovery: `kill -9` during the render, then `ytmaker projects resume` finishes the video
//! without making any completed asset again (SPEC §1 principle 4).

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use common::{FAST_RENDER, Run, TestEnv, block_on, sample_article};
use ytmaker_core::ProjectStatus;
use ytmaker_core::asset::{AssetKind, AssetStatus};
use ytmaker_store::{Asset, ProjectFilter};

#[derive(Debug, Clone, PartialEq)]
struct Snapshot {
    attempts: u32,
    updated_at: String,
    content_hash: Option<String>,
    path: Option<String>,
    mtime: Option<SystemTime>,
}

fn snapshot(dir: &Path, a: &Asset) -> Snapshot {
    let mtime = a
        .path
        .as_ref()
        .and_then(|p| std::fs::metadata(dir.join(p)).ok())
        .and_then(|m| m.modified().ok());
    Snapshot {
        attempts: a.attempts,
        updated_at: a.updated_at.clone(),
        content_hash: a.content_hash.clone(),
        path: a.path.clone(),
        mtime,
    }
}

fn key(a: &Asset) -> (String, Option<u32>) {
    (a.key.kind.as_str().to_owned(), a.key.index)
}

/// Processes whose command line mentions `needle` (e.g. an orphaned ffmpeg writing into the data dir).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        if let Ok(raw) = std::fs::read(e.path().join("cmdline")) {
            let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
            if cmd.contains(needle) {
                found.push(format!("{}: {cmd}", e.file_name().to_string_lossy()));
            }
        }
    }
    found
}

#[test]
fn a_render_killed_with_sigkill_resumes_without_redoing_completed_assets() {
    let env = TestEnv::new();
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
    let out_path = env.tmp.path().join("generate.stdout");
    let err_path = env.tmp.path().join("generate.stderr");
    let mut child = env
        .command(&args)
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("start ytmaker generate");
    let read_err = || std::fs::read_to_string(&err_path).unwrap_or_default();

    // Wait until the render is under way: at least one clip done, the project RENDERING.
    let started = Instant::now();
    let mut store = None;
    let project_id = loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "generate ended ({status}) before it could be interrupted\n{}",
                read_err()
            );
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "no segment clip after 10 minutes\n{}",
            read_err()
        );
        if store.is_none() && env.db_path().is_file() {
            store = Some(env.open_store());
        }
        if let Some(store) = &store {
            let rows = block_on(store.list_projects(&ProjectFilter::default())).unwrap_or_default();
            if let Some(p) = rows
                .first()
                .filter(|p| p.status == ProjectStatus::Rendering)
            {
                let assets = block_on(store.assets(p.id)).unwrap_or_default();
                if assets
                    .iter()
                    .any(|a| a.key.kind == AssetKind::SegmentClip && a.is_completed())
                {
                    break p.id;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    child.kill().expect("SIGKILL ytmaker"); // std's kill is SIGKILL on Unix
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9),
        "{status}"
    );
    let first_trace = common::trace_id_in(&read_err()).expect("trace id of the first run");

    // Nothing of the dead run keeps writing into the project (an orphaned ffmpeg would race the
    // resumed run for the same clip files).
    let dir = env.project_dir(project_id);
    let mut stray = Vec::new();
    for _ in 0..50 {
        stray = processes_mentioning(&dir.display().to_string());
        if stray.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        stray.is_empty(),
        "processes of the killed run are still working on the project after 5 s: {stray:#?}"
    );

    let project = env.project(&project_id.to_string());
    assert_eq!(
        project.status,
        ProjectStatus::Rendering,
        "a killed run leaves the project where it was"
    );
    let before_assets = env.assets(project_id);
    let before: BTreeMap<_, _> = before_assets
        .iter()
        .filter(|a| a.is_completed())
        .map(|a| (key(a), snapshot(dir.as_path(), a)))
        .collect();
    let clips_before: Vec<&Asset> = before_assets
        .iter()
        .filter(|a| a.key.kind == AssetKind::SegmentClip)
        .collect();
    let clips_total = 2 + project.script.as_ref().expect("script").segments.len();
    assert!(
        clips_before.iter().filter(|a| a.is_completed()).count() < clips_total,
        "every clip was done before the kill; the test must interrupt the render earlier"
    );
    for kind in [
        AssetKind::Script,
        AssetKind::Audio,
        AssetKind::Image,
        AssetKind::AvatarIntro,
        AssetKind::AvatarOutro,
    ] {
        assert!(
            before.keys().any(|(k, _)| k == kind.as_str()),
            "no completed {} before the kill",
            kind.as_str()
        );
    }
    eprintln!(
        "killed after {:.1} s: {}/{clips_total} clips completed, {} in flight",
        started.elapsed().as_secs_f64(),
        clips_before.iter().filter(|a| a.is_completed()).count(),
        clips_before
            .iter()
            .filter(|a| a.status == AssetStatus::Generating)
            .count()
    );
    let interrupted: Vec<(String, Option<u32>)> = clips_before
        .iter()
        .filter(|a| a.status == AssetStatus::Generating)
        .map(|a| key(a))
        .collect();

    // Resume.
    let resume = env.run(&["projects", "resume", &project_id.to_string()]);
    resume.assert_ok();
    assert!(
        resume.stderr.contains("resuming project"),
        "{}",
        resume.describe()
    );
    let trace = resume.trace_id();
    assert_ne!(trace, first_trace, "a resumed run has its own trace id");

    let project = env.project(&project_id.to_string());
    assert_eq!(project.status, ProjectStatus::Completed);
    assert_eq!(
        project.trace_id.as_ref().map(|t| t.as_str().to_owned()),
        Some(trace.clone())
    );
    let after_assets = env.assets(project_id);
    let after: BTreeMap<_, _> = after_assets.iter().map(|a| (key(a), a)).collect();
    for a in &after_assets {
        assert!(
            a.is_completed(),
            "{:?} is {:?} after the resume",
            key(a),
            a.status
        );
    }
    for (k, was) in &before {
        let now = snapshot(
            dir.as_path(),
            after.get(k).unwrap_or_else(|| panic!("{k:?} vanished")),
        );
        assert_eq!(&now, was, "{k:?} was made again by the resume");
    }
    for k in &interrupted {
        let a = after[k];
        assert!(
            a.attempts >= 2,
            "{k:?} was interrupted and made again, yet attempts = {}",
            a.attempts
        );
    }
    let clips_after = after_assets
        .iter()
        .filter(|a| a.key.kind == AssetKind::SegmentClip)
        .count();
    assert_eq!(clips_after, clips_total, "one clip per narration line");

    // No provider was called again: the resumed run's log lines have no TTS, image or presenter work.
    let lines = env.log_lines();
    let resumed: Vec<_> = lines
        .iter()
        .filter(|l| l["trace_id"] == trace.as_str())
        .collect();
    assert!(
        resumed.len() >= 5,
        "only {} log lines for the resumed run",
        resumed.len()
    );
    for l in &resumed {
        let asset_kind = l["asset_kind"].as_str().unwrap_or("");
        assert!(l["tool"] != "espeak-ng", "narration was made again: {l}");
        assert!(
            !matches!(
                asset_kind,
                "audio" | "image" | "avatar_intro" | "avatar_outro" | "script"
            ),
            "made again: {l}"
        );
        assert!(
            l["message"] != "title card drawn" && l["message"] != "presenter clip rendered",
            "made again: {l}"
        );
    }
    assert!(
        resumed
            .iter()
            .any(|l| l["tool"] == "ffmpeg" && l["purpose"] == "assemble"),
        "the resume did not assemble the video"
    );

    // The video is whole.
    let narration_s = common::narration_seconds(&after_assets);
    let video = dir.join("output/final_video.mp4");
    let video_s = common::check_final_video(&video, narration_s);
    let mut lines_in_order: Vec<String> = Vec::new();
    let script = project.script.as_ref().unwrap();
    lines_in_order.push(script.intro.text.clone());
    lines_in_order.extend(script.segments.iter().map(|s| s.narration.clone()));
    lines_in_order.push(script.outro.text.clone());
    common::check_subtitles(&dir.join("output/subtitles.srt"), video_s, &lines_in_order);
    common::check_thumbnail(&dir.join("output/thumbnail.jpg"));

    // A finished project cannot be resumed.
    let again: Run = env.run(&["projects", "resume", &project_id.to_string()]);
    assert_eq!(again.code(), Some(3), "{}", again.describe());
    assert!(
        again.stderr.contains("error[INVALID_STATE_TRANSITION]"),
        "{}",
        again.describe()
    );
    assert!(
        again.stderr.contains("solutions:") && again.stderr.contains("trace id:"),
        "{}",
        again.describe()
    );
    assert_eq!(
        env.project(&project_id.to_string()).status,
        ProjectStatus::Completed,
        "a refused resume changes nothing"
    );
}
