//! The logo through the pipeline, with the offline providers and real FFmpeg: the render and
//! thumbnail stages find the uploaded logo by its id; a logo file gone by render time fails the
//! render with its path (never a video without it), and a resume after it is back finishes with
//! the logo on the thumbnail.

use std::sync::Arc;
use uuid::Uuid;
use ytmaker_core::config::{LogoCorner, LogoSettings, ProjectConfig};
use ytmaker_core::error::Lang;
use ytmaker_core::{ErrorCode, ProjectStatus, Stage, TraceId};
use ytmaker_pipeline::{Pipeline, Progress, ProgressSink, Providers, logos};
use ytmaker_render::Toolchain;
use ytmaker_store::{DataDir, NewProject, Store};

struct Ignore;

impl ProgressSink for Ignore {
    fn emit(&self, _project: Uuid, _progress: &Progress) {}
}

fn green_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbaImage::from_pixel(120, 60, image::Rgba([0, 255, 0, 255]))
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logo_missing_at_render_time_fails_the_render_and_a_resume_draws_it() {
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::new(tmp.path());
    let store = Store::open(&Store::sqlite_url(&data.database()))
        .await
        .unwrap();
    let tools = Toolchain::locate().unwrap();
    let stored = logos::store_logo(&data, "image/png", &green_png())
        .await
        .unwrap();

    let mut config = ProjectConfig::default();
    config.script.target_min_seconds = 30.0;
    config.script.target_max_seconds = 60.0;
    config.render.x264_preset = "ultrafast".into();
    config.presenter.enabled = false;
    config.logo = Some(LogoSettings {
        upload: stored.id.clone(),
        position: LogoCorner::TopLeft,
        opacity: 1.0,
        ..LogoSettings::default()
    });
    logos::check_config_logo(&data, &config).await.unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/article-zh-TW.txt"
    ))
    .unwrap();
    let project = store
        .create_project(&NewProject {
            name: "logo".into(),
            content: text,
            configuration: config,
        })
        .await
        .unwrap();
    let cloud = ytmaker_pipeline::CloudAccess::from_env(&data).unwrap();
    let providers = Providers::for_project(&project, &tools, &cloud, &store).unwrap();
    let pipeline = Pipeline::new(
        store.clone(),
        data.clone(),
        tools,
        providers,
        Arc::new(Ignore),
        Lang::En,
    );

    // The logo file disappears after the project was accepted.
    let logo_path = data.logo(&stored.id).unwrap();
    std::fs::remove_file(&logo_path).unwrap();
    let err = pipeline
        .run(project.id, &TraceId::generate())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::FILE_NOT_FOUND);
    assert_eq!(err.details["path"], logo_path.display().to_string());
    let failed = store.get_project(project.id).await.unwrap();
    assert_eq!(failed.status, ProjectStatus::Failed);
    assert_eq!(failed.error_info.unwrap().stage, Stage::Render);
    let dir = data.project(project.id);
    assert!(!dir.final_video().exists());

    // Uploaded again (the same bytes give the same id), the run continues and finishes.
    assert_eq!(
        logos::store_logo(&data, "image/png", &green_png())
            .await
            .unwrap()
            .id,
        stored.id
    );
    pipeline
        .run(project.id, &TraceId::generate())
        .await
        .unwrap();
    assert!(dir.final_video().exists());
    assert!(dir.segments().join("clip-000.logo.png").exists());
    let thumbnail = image::open(dir.thumbnail()).unwrap().to_rgb8();
    // 12 % of 1280 (154×77) at the 40-pixel margin scaled to 27, top left.
    let [r, g, b] = thumbnail.get_pixel(27 + 77, 27 + 38).0;
    assert!(r < 60 && g > 200 && b < 60, "logo green: {:?}", [r, g, b]);
}
