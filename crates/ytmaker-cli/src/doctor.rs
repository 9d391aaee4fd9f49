//! `ytmaker doctor`: one pass/fail line per thing ytmaker needs.

use std::process::ExitCode;

use ytmaker_render::{Toolchain, resolve_font};
use ytmaker_store::Store;

use crate::settings::Settings;

const CJK_FONT: &str = "Noto Sans CJK TC";

fn line(ok: bool, what: &str, detail: &str) -> bool {
    println!("[{}] {what:<12} {detail}", if ok { " ok " } else { "FAIL" });
    ok
}

pub async fn run(settings: &Settings) -> ExitCode {
    let mut all_ok = true;
    match Toolchain::locate() {
        Ok(tools) => match tools.versions().await {
            Ok((ffmpeg, ffprobe)) => {
                all_ok &= line(true, "ffmpeg", &ffmpeg);
                all_ok &= line(true, "ffprobe", &ffprobe);
            }
            Err(e) => all_ok &= line(false, "ffmpeg", &format!("{}: {}", e.code, e.message)),
        },
        Err(e) => all_ok &= line(false, "ffmpeg", &format!("{}: {}", e.code, e.message)),
    }
    all_ok &= check_espeak().await;
    for bold in [false, true] {
        let what = if bold { "font (bold)" } else { "font" };
        match resolve_font(CJK_FONT, bold) {
            Ok(face) => {
                all_ok &= line(
                    true,
                    what,
                    &format!("{} → {} #{}", face.family, face.path.display(), face.index),
                )
            }
            Err(e) => all_ok &= line(false, what, &format!("{}: {}", e.code, e.message)),
        }
    }
    match ytmaker_pipeline::check_free_space(settings.data.root()) {
        Ok(free) => {
            all_ok &= line(
                true,
                "disk",
                &format!(
                    "{} MB free in {}",
                    free >> 20,
                    settings.data.root().display()
                ),
            )
        }
        Err(e) => all_ok &= line(false, "disk", &format!("{}: {}", e.code, e.message)),
    }
    let db = async {
        let store = Store::open(&settings.database_url).await?;
        store.ping().await
    };
    match db.await {
        Ok(()) => {
            all_ok &= line(
                true,
                "database",
                &ytmaker_store::redact_url(&settings.database_url),
            )
        }
        Err(e) => all_ok &= line(false, "database", &format!("{}: {}", e.code, e.message)),
    }
    if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

async fn check_espeak() -> bool {
    // The narrator's own check: the same rule the health endpoint applies.
    let narrator = match Toolchain::locate() {
        Ok(tools) => ytmaker_providers::local::EspeakNarrator::new(tools),
        Err(err) => {
            return line(
                false,
                "espeak-ng",
                &format!("{}: {}", err.code, err.message),
            );
        }
    };
    match ytmaker_providers::Narrator::check(&narrator).await {
        Ok(what) => line(true, "espeak-ng", &what),
        Err(err) => line(
            false,
            "espeak-ng",
            &format!("{}: {}", err.code, err.message),
        ),
    }
}
