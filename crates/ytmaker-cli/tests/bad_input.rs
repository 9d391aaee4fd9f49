//! Refused input and broken set-up, end to end: every case must end in a catalogued error with the
//! documented exit code, a report on stderr (code, solutions, trace id), a FAILED project row whose
//! `error_info` carries the same code and trace id, an error log line, and no video.

mod common;

use std::path::PathBuf;

use common::{FAST_RENDER, Run, TestEnv, sample_article};
use serde_json::Value;
use ytmaker_core::error::Category;
use ytmaker_core::{ErrorCode, ProjectStatus, Stage};

/// The mapping documented on `exit_code_for` in `src/main.rs`.
fn documented_exit(code: ErrorCode) -> i32 {
    use Category::*;
    match code.spec().category {
        Input | Config | State | Request => 3,
        Gemini | Llm | Stability | Did | Tts | Youtube => 4,
        Media | Image | Script => 5,
        Storage | Queue | FileSystem => 6,
        Internal => 7,
    }
}

struct Case {
    name: &'static str,
    code: ErrorCode,
    exit: i32,
    stage: Stage,
    /// Text the stored `error_info.details` must contain (e.g. the field name).
    detail: Option<&'static str>,
    setup: fn(&mut TestEnv) -> Vec<String>,
}

fn generate(file: PathBuf, config: Option<PathBuf>) -> Vec<String> {
    let mut args = vec![
        "generate".to_owned(),
        file.display().to_string(),
        "--offline".to_owned(),
    ];
    if let Some(c) = config {
        args.extend(["--config".to_owned(), c.display().to_string()]);
    }
    args
}

fn with_config(env: &mut TestEnv, toml: &str) -> Vec<String> {
    let config = env.write_file("config.toml", toml);
    generate(sample_article(), Some(config))
}

fn sample_text() -> String {
    std::fs::read_to_string(sample_article()).expect("sample article")
}

/// A small but real PNG header followed by binary junk.
fn png_bytes() -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00".to_vec();
    b.extend((0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8));
    b
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "too short",
            code: ErrorCode::INPUT_TOO_SHORT,
            exit: 3,
            stage: Stage::Input,
            detail: Some("characters"),
            setup: |env| {
                generate(
                    env.write_file("short.txt", "颱風是熱帶氣旋的一種。".repeat(30)),
                    None,
                )
            },
        },
        Case {
            name: "too long",
            code: ErrorCode::INPUT_TOO_LONG,
            exit: 3,
            stage: Stage::Input,
            detail: Some("characters"),
            setup: |env| {
                let mut text = sample_text();
                while text.chars().count() <= 10_000 {
                    text.push_str(&sample_text());
                }
                generate(env.write_file("long.txt", text), None)
            },
        },
        Case {
            name: "empty file",
            code: ErrorCode::INPUT_EMPTY,
            exit: 3,
            stage: Stage::Input,
            detail: None,
            setup: |env| generate(env.write_file("empty.txt", ""), None),
        },
        Case {
            name: "Big5 bytes",
            code: ErrorCode::INPUT_NOT_UTF8,
            exit: 3,
            stage: Stage::Input,
            detail: Some("invalid_byte_offset"),
            // "台灣，" in Big5, with ASCII line breaks, about 1,200 characters.
            setup: |env| {
                generate(
                    env.write_file(
                        "big5.txt",
                        [0xA5u8, 0x78, 0xC6, 0x57, 0xA1, 0x41, b'\n'].repeat(400),
                    ),
                    None,
                )
            },
        },
        Case {
            name: "PNG file",
            code: ErrorCode::INPUT_BINARY,
            exit: 3,
            stage: Stage::Input,
            detail: None,
            setup: |env| generate(env.write_file("picture.png", png_bytes()), None),
        },
        Case {
            name: "missing file",
            code: ErrorCode::FILE_NOT_FOUND,
            exit: 6,
            stage: Stage::Input,
            detail: Some("no-such-article.txt"),
            setup: |env| generate(env.tmp.path().join("no-such-article.txt"), None),
        },
        Case {
            name: "missing --config file",
            code: ErrorCode::CONFIG_UNREADABLE,
            exit: 3,
            stage: Stage::Input,
            detail: Some("no-such-config.toml"),
            setup: |env| {
                generate(
                    sample_article(),
                    Some(env.tmp.path().join("no-such-config.toml")),
                )
            },
        },
        Case {
            name: "broken TOML",
            code: ErrorCode::CONFIG_UNREADABLE,
            exit: 3,
            stage: Stage::Input,
            detail: Some("config.toml"),
            setup: |env| with_config(env, "[subtitles\nfont_size = = 40\n"),
        },
        Case {
            name: "font size out of range",
            code: ErrorCode::CONFIG_INVALID,
            exit: 3,
            stage: Stage::Input,
            detail: Some("subtitles.font_size"),
            setup: |env| with_config(env, "[subtitles]\nfont_size = 10\n"),
        },
        Case {
            name: "unknown config key",
            code: ErrorCode::CONFIG_INVALID,
            exit: 3,
            stage: Stage::Input,
            detail: Some("font_sise"),
            setup: |env| with_config(env, "[subtitles]\nfont_sise = 40\n"),
        },
        Case {
            name: "YTMAKER_FFMPEG points nowhere",
            code: ErrorCode::FFMPEG_NOT_FOUND,
            exit: 5,
            stage: Stage::System,
            detail: Some("YTMAKER_FFMPEG"),
            setup: |env| {
                let missing = env.tmp.path().join("bin/ffmpeg");
                env.set_env("YTMAKER_FFMPEG", missing.to_str().unwrap());
                generate(sample_article(), None)
            },
        },
        Case {
            name: "no ffmpeg on PATH",
            code: ErrorCode::FFMPEG_NOT_FOUND,
            exit: 5,
            stage: Stage::System,
            detail: Some("looked_at"),
            setup: |env| {
                let bin = env.tmp.path().join("bin");
                std::fs::create_dir_all(&bin).unwrap();
                let espeak = which("espeak-ng");
                std::os::unix::fs::symlink(espeak, bin.join("espeak-ng")).unwrap();
                env.set_env("PATH", bin.to_str().unwrap());
                generate(sample_article(), None)
            },
        },
        Case {
            name: "disk full",
            code: ErrorCode::DISK_SPACE_INSUFFICIENT,
            exit: 6,
            // Checked before the first stage, so nothing at all is written or called.
            stage: Stage::Script,
            detail: Some("required_bytes"),
            setup: |env| {
                env.set_env("YTMAKER_MIN_FREE_BYTES", "999999999999999");
                generate(sample_article(), None)
            },
        },
    ]
}

fn which(program: &str) -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{program} is not installed"))
}

/// Runs one case and returns what is wrong with the outcome (empty when it is right).
fn check(case: &Case) -> Vec<String> {
    let mut env = TestEnv::new();
    let args = (case.setup)(&mut env);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // A refused input must fail in seconds; a case that starts a real render is stopped early.
    let limit = if case.stage == Stage::Render {
        600
    } else {
        120
    };
    let run = env.run_limited(&args, std::time::Duration::from_secs(limit));
    let mut problems = Vec::new();
    macro_rules! expect {
        ($ok:expr, $what:expr) => {
            if !$ok {
                problems.push($what);
            }
        };
    }
    let code = case.code.as_str();

    assert_eq!(
        case.exit,
        documented_exit(case.code),
        "{}: the table disagrees with exit_code_for",
        case.name
    );
    expect!(
        run.code() == Some(case.exit),
        format!("exit status {:?}, expected {}", run.code(), case.exit)
    );
    expect!(
        run.stderr.contains(&format!("error[{code}]")),
        format!("stderr lacks error[{code}]")
    );
    let solutions = run.stderr.split("solutions:").nth(1).map(|rest| {
        rest.lines()
            .skip(1)
            .take_while(|l| l.trim_start().starts_with("- "))
            .filter(|l| l.trim().len() > 3)
            .count()
    });
    expect!(
        solutions.unwrap_or(0) >= 1,
        format!("no `solutions:` section with entries (found {solutions:?})")
    );
    expect!(
        run.stderr.contains("trace id:"),
        "stderr lacks `trace id:`".into()
    );
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        expect!(
            !text.contains("panicked"),
            format!("{stream} shows a panic")
        );
    }
    let Some(trace) = common::trace_id_in(&run.stderr) else {
        problems.push("no trace id printed".into());
        return report(case, &run, problems);
    };

    // The project row.
    let projects = if env.db_path().is_file() {
        env.all_projects()
    } else {
        Vec::new()
    };
    expect!(
        projects.len() == 1,
        format!("{} project rows, expected 1", projects.len())
    );
    if let Some(p) = projects.first() {
        expect!(
            p.status == ProjectStatus::Failed,
            format!("project status {}", p.status)
        );
        match &p.error_info {
            None => problems.push("project has no error_info".into()),
            Some(info) => {
                expect!(
                    info.error_code == case.code,
                    format!("error_info.error_code {}", info.error_code)
                );
                expect!(
                    info.stage == case.stage,
                    format!("error_info.stage {} (expected {})", info.stage, case.stage)
                );
                expect!(
                    info.trace_id.as_str() == trace,
                    format!("error_info.trace_id {} != printed {trace}", info.trace_id)
                );
                expect!(
                    !info.solutions.is_empty(),
                    "error_info.solutions is empty".into()
                );
                expect!(
                    !info.error_message.is_empty(),
                    "error_info.error_message is empty".into()
                );
                if let Some(detail) = case.detail {
                    let details = Value::Object(info.details.clone()).to_string();
                    expect!(
                        details.contains(detail),
                        format!("error_info.details lack {detail:?}: {details}")
                    );
                }
            }
        }
        if let Some(t) = &p.trace_id {
            expect!(
                t.as_str() == trace,
                format!("project.trace_id {t} != printed {trace}")
            );
        }
        expect!(
            run.stderr.contains(&p.id.to_string()),
            "stderr does not name the project id".into()
        );
        if case.code == ErrorCode::DISK_SPACE_INSUFFICIENT {
            // Refused before any media was written.
            for sub in ["audio", "images", "avatar", "segments", "output"] {
                let dir = env.project_dir(p.id).join(sub);
                let files: Vec<_> = std::fs::read_dir(&dir)
                    .map(|d| d.flatten().map(|e| e.path()).collect())
                    .unwrap_or_default();
                expect!(
                    files.is_empty(),
                    format!("media written before the disk check: {files:?}")
                );
            }
            let assets = env.assets(p.id);
            let media: Vec<_> = assets
                .iter()
                .filter(|a| a.key.kind != ytmaker_core::asset::AssetKind::Script)
                .map(|a| a.key)
                .collect();
            expect!(
                media.is_empty(),
                format!("media asset rows exist: {media:?}")
            );
        }
        let video = env.project_dir(p.id).join("output/final_video.mp4");
        expect!(!video.exists(), format!("{} exists", video.display()));

        // `projects list --status FAILED` shows it with its code.
        let list = env.run(&["projects", "list", "--status", "FAILED"]);
        let row = list.stdout.lines().find(|l| l.contains(&p.id.to_string()));
        expect!(
            list.code() == Some(0),
            format!("projects list exited {:?}", list.code())
        );
        expect!(
            row.is_some_and(|r| r.contains(code) && r.contains("FAILED")),
            format!("projects list row: {row:?}")
        );
    }
    if let Ok(entries) = std::fs::read_dir(env.data.join("projects")) {
        for e in entries.flatten() {
            expect!(
                !e.path().join("output/final_video.mp4").exists(),
                "a final video exists".into()
            );
        }
    }

    // The failure is in the log, under the same trace id.
    let lines = env.log_lines();
    let logged = lines.iter().any(|l| {
        l["error_code"] == code && l["trace_id"] == trace.as_str() && l["level"] == "error"
    });
    expect!(
        logged,
        format!(
            "no error log line with error_code {code} and trace id {trace} ({} lines)",
            lines.len()
        )
    );
    report(case, &run, problems)
}

fn report(case: &Case, run: &Run, problems: Vec<String>) -> Vec<String> {
    if problems.is_empty() {
        return problems;
    }
    let list: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
    vec![format!(
        "[{}] `ytmaker {}`\n{}\n    stderr:\n{}",
        case.name,
        run.args,
        list.join("\n"),
        indent(&run.stderr)
    )]
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("      | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_refused_input_and_setup_failure_is_reported_and_recorded() {
    let cases = cases();
    let problems: Vec<String> = cases.iter().flat_map(check).collect();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The catalogue says INPUT_NOT_UTF8 covers UTF-16 (e.g. Windows Notepad's "Unicode" files): the
/// user must be told to re-save as UTF-8, not that the article is a binary file.
#[test]
fn a_utf16_article_is_not_utf8_rather_than_binary() {
    let text = sample_text();
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let case = Case {
        name: "UTF-16LE with BOM",
        code: ErrorCode::INPUT_NOT_UTF8,
        exit: 3,
        stage: Stage::Input,
        detail: None,
        setup: |env| {
            let text = sample_text();
            let mut bytes = vec![0xFF, 0xFE];
            bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            generate(env.write_file("utf16.txt", bytes), None)
        },
    };
    assert!(
        utf16.contains(&0),
        "the sample's UTF-16 form has NUL bytes (ASCII characters), which is the point"
    );
    let problems = check(&case);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A font family that is not installed is never substituted: the run goes as far as it can
/// without the font and stops in the render stage with FONT_NOT_FOUND.
#[test]
fn a_missing_subtitle_font_stops_the_render_with_font_not_found() {
    let case = Case {
        name: "missing font family",
        code: ErrorCode::FONT_NOT_FOUND,
        exit: 5,
        stage: Stage::Render,
        detail: Some("No Such Font"),
        setup: |env| {
            let toml = format!(
                "{FAST_RENDER}\n[script]\ntarget_min_seconds = 10\ntarget_max_seconds = 30\n\n\
                 [presenter]\nenabled = false\n\n[subtitles]\nfont_family = \"No Such Font\"\n"
            );
            with_config(env, &toml)
        },
    };
    let problems = check(&case);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
