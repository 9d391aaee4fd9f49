//! How errors, the catalogue and projects are printed for people.

use std::process::ExitCode;

use uuid::Uuid;
use ytmaker_core::error::{CodeSpec, Lang};
use ytmaker_core::{ErrorCode, TraceId, YtError};
use ytmaker_store::{Asset, DataDir, Project};

/// Prints an error with its code, stage, retryability, details, solutions and trace id to stderr
/// and returns the exit code.
pub fn fail(
    err: &YtError,
    trace: &TraceId,
    project: Option<Uuid>,
    lang: Lang,
    exit: u8,
) -> ExitCode {
    let spec = err.code.spec();
    let details = serde_json::Value::Object(err.details.clone()).to_string();
    tracing::error!(error_code = %err.code, exit_code = exit, details = details.as_str(), "command failed: {}", err.message);
    let stage = err
        .stage
        .map(|s| format!(" at stage {s}"))
        .unwrap_or_default();
    eprintln!("error[{}]{stage}: {}", err.code, err.message);
    eprintln!("  {}", spec.guide(lang).title);
    eprintln!(
        "  retryable: {}",
        if spec.retry.is_retryable() {
            "yes"
        } else {
            "no"
        }
    );
    if !err.details.is_empty() {
        eprintln!(
            "  details: {}",
            serde_json::Value::Object(err.details.clone())
        );
    }
    eprintln!("  solutions:");
    for s in spec.guide(lang).solutions {
        eprintln!("    - {s}");
    }
    if let Some(id) = project {
        eprintln!("  project: {id}  (ytmaker projects show {id})");
    }
    eprintln!("  trace id: {trace}  (ytmaker logs --trace {trace})");
    ExitCode::from(exit)
}

fn retry_text(spec: &CodeSpec) -> String {
    let r = spec.retry;
    if !r.is_retryable() {
        return "no".into();
    }
    let backoff = match r.backoff {
        ytmaker_core::error::Backoff::Fixed => "fixed",
        ytmaker_core::error::Backoff::Exponential => "exponential from",
    };
    format!("{} x, {backoff} {} ms", r.max_retries, r.base_delay_ms)
}

pub fn print_catalogue(lang: Lang) -> ExitCode {
    println!(
        "{:<28} {:>4}  {:<32} {:<4} {:<12} title",
        "code", "http", "retry", "prio", "category"
    );
    for &code in ErrorCode::ALL {
        let spec = code.spec();
        println!(
            "{:<28} {:>4}  {:<32} {:<4} {:<12} {}",
            code.as_str(),
            spec.http_status,
            retry_text(spec),
            format!("{:?}", spec.priority),
            format!("{:?}", spec.category).to_lowercase(),
            spec.guide(lang).title
        );
    }
    println!("\n`ytmaker explain CODE` prints one code's explanation and solutions.");
    ExitCode::SUCCESS
}

pub fn explain(raw: &str, lang: Lang) -> ExitCode {
    let Some(code) = ErrorCode::parse(raw) else {
        eprintln!(
            "error[VALIDATION_ERROR]: {raw:?} is not an error code; `ytmaker errors` lists them all"
        );
        return ExitCode::from(3);
    };
    let spec = code.spec();
    for (name, guide) in [("en", &spec.en), ("zh-TW", &spec.zh_tw)] {
        if (name == "en") != (lang == Lang::En) {
            continue;
        }
        println!("{code}: {}\n", guide.title);
        println!("{}\n", guide.explanation);
        println!(
            "HTTP status: {}   retry: {}   priority: {:?}   category: {:?}\n",
            spec.http_status,
            retry_text(spec),
            spec.priority,
            spec.category
        );
        println!("Solutions:");
        for s in guide.solutions {
            println!("  - {s}");
        }
    }
    ExitCode::SUCCESS
}

pub fn show_project(p: &Project, assets: &[Asset], data: &DataDir) {
    println!("id          {}", p.id);
    println!("name        {}", p.name);
    println!("status      {}", p.status);
    println!("created     {}", p.created_at);
    println!("updated     {}", p.updated_at);
    if let Some(t) = &p.trace_id {
        println!("last trace  {t}");
    }
    let providers = &p.configuration.providers;
    println!(
        "providers   script {}, narration {}, images {}, avatar {}, publish {}",
        providers.script.as_str(),
        providers.narration.as_str(),
        providers.images.as_str(),
        providers.avatar.as_str(),
        providers.publish.as_str()
    );
    if !p.configuration.presenter.enabled {
        println!("presenter   off (chosen for this project)");
    }
    if let Some(video) = &p.youtube_video_id {
        println!("youtube     https://youtu.be/{video}");
    }
    if let Some(script) = &p.script {
        println!(
            "script      {} segments, ~{:.0} s estimated, title {:?}",
            script.segments.len(),
            script.estimated_total_seconds(),
            script.title
        );
        if let Some(c) = &script.condensation {
            println!(
                "condensed   kept {} of {} sentences ({:.0} %)",
                c.kept_sentences,
                c.original_sentences,
                c.kept_ratio * 100.0
            );
        }
        for w in &script.warnings {
            println!(
                "warning     {} (options: {})",
                w.message,
                w.options.join(", ")
            );
        }
    }
    if let Some(info) = &p.error_info {
        println!(
            "error       {} at stage {}: {}",
            info.error_code, info.stage, info.error_message
        );
        println!(
            "            retryable: {}  trace id: {}",
            info.is_retryable, info.trace_id
        );
        if !info.details.is_empty() {
            println!(
                "            details: {}",
                serde_json::Value::Object(info.details.clone())
            );
        }
        for s in &info.solutions {
            println!("            - {s}");
        }
    }
    let done = assets.iter().filter(|a| a.is_completed()).count();
    println!("assets      {done}/{} completed", assets.len());
    for a in assets.iter().filter(|a| !a.is_completed()) {
        let code = a
            .error
            .as_ref()
            .map(|e| e.error_code.to_string())
            .unwrap_or_default();
        println!(
            "            {} {:?} {} attempts={} {code}",
            a.key.kind.as_str(),
            a.key.index,
            a.status.as_str(),
            a.attempts
        );
    }
    let video = data.project(p.id).final_video();
    if video.is_file() {
        println!("video       {}", video.display());
    }
}
