//! The pipeline with the real offline providers, real FFmpeg and a SQLite store, wrapped so every
//! provider call is counted and one image can be made to fail: a failed asset fails the project
//! with every failed asset listed (no placeholder, nothing skipped), and a resumed run calls no
//! provider for anything already completed.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use uuid::Uuid;
use ytmaker_core::asset::{AssetKind, AssetStatus};
use ytmaker_core::config::ProjectConfig;
use ytmaker_core::error::Lang;
use ytmaker_core::{ErrorCode, ProjectStatus, Stage, TraceId, YtError, YtResult};
use ytmaker_pipeline::{Pipeline, Progress, ProgressSink, Providers};
use ytmaker_providers::{
    Illustrator, ImageAsset, ImageRequest, NarrationAudio, NarrationRequest, Narrator,
};
use ytmaker_render::Toolchain;
use ytmaker_store::{DataDir, NewProject, Store};

struct CountingNarrator {
    inner: Arc<dyn Narrator>,
    calls: AtomicUsize,
}

#[async_trait]
impl Narrator for CountingNarrator {
    fn id(&self) -> &'static str {
        self.inner.id()
    }
    async fn narrate(&self, req: &NarrationRequest<'_>) -> YtResult<NarrationAudio> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.inner.narrate(req).await
    }
    async fn check(&self) -> YtResult<String> {
        self.inner.check().await
    }
}

/// Fails the images whose segment index is in `broken` with a provider code, like a cloud
/// provider refusing a prompt.
struct FlakyIllustrator {
    inner: Arc<dyn Illustrator>,
    broken: Mutex<HashSet<u32>>,
    calls: Mutex<Vec<u32>>,
}

#[async_trait]
impl Illustrator for FlakyIllustrator {
    fn id(&self) -> &'static str {
        self.inner.id()
    }
    async fn illustrate(&self, req: &ImageRequest<'_>) -> YtResult<ImageAsset> {
        self.calls.lock().unwrap().push(req.segment.index);
        if self.broken.lock().unwrap().contains(&req.segment.index) {
            return Err(YtError::new(
                ErrorCode::STABILITY_CONTENT_POLICY,
                "refused for the test",
            ));
        }
        self.inner.illustrate(req).await
    }
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Progress>>);

impl ProgressSink for Recorder {
    fn emit(&self, _project: Uuid, progress: &Progress) {
        self.0.lock().unwrap().push(progress.clone());
    }
}

/// A SQLite store in a temp dir, real FFmpeg, and one project made from the sample article with a
/// short target length.
struct Fixture {
    _tmp: tempfile::TempDir,
    data: DataDir,
    store: Store,
    tools: Toolchain,
    project: ytmaker_store::Project,
    local: Providers,
}

async fn fixture(name: &str, adjust: impl FnOnce(&mut ProjectConfig)) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let data = DataDir::new(tmp.path());
    let store = Store::open(&Store::sqlite_url(&data.database()))
        .await
        .unwrap();
    let tools = Toolchain::locate().unwrap();
    let mut config = ProjectConfig::default();
    config.script.target_min_seconds = 30.0;
    config.script.target_max_seconds = 60.0;
    config.render.x264_preset = "ultrafast".into();
    adjust(&mut config);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/article-zh-TW.txt"
    ))
    .unwrap();
    let project = store
        .create_project(&NewProject {
            name: name.into(),
            content: text,
            configuration: config.clone(),
        })
        .await
        .unwrap();
    let cloud = ytmaker_pipeline::CloudAccess::from_env(&data).unwrap();
    let local = Providers::for_project(&project, &tools, &cloud, &store).unwrap();
    Fixture {
        _tmp: tmp,
        data,
        store,
        tools,
        project,
        local,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_image_fails_the_project_and_resume_redoes_only_that_image() {
    let Fixture {
        _tmp,
        data,
        store,
        tools,
        project,
        local,
    } = fixture("checkpoints", |_| {}).await;
    let narrator = Arc::new(CountingNarrator {
        inner: local.narrator.clone(),
        calls: AtomicUsize::new(0),
    });
    let illustrator = Arc::new(FlakyIllustrator {
        inner: local.illustrator.clone(),
        broken: Mutex::new(HashSet::from([1, 2])),
        calls: Mutex::new(Vec::new()),
    });
    let providers = Providers {
        narrator: narrator.clone(),
        illustrator: illustrator.clone(),
        ..local
    };
    let recorder = Arc::new(Recorder::default());
    let pipeline = Pipeline::new(
        store.clone(),
        data.clone(),
        tools,
        providers,
        recorder.clone(),
        Lang::En,
    );

    // First run: images 1 and 2 fail; everything else in the assets stage is still made.
    let trace = TraceId::generate();
    let err = pipeline.run(project.id, &trace).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::STABILITY_CONTENT_POLICY);
    let failed = store.get_project(project.id).await.unwrap();
    assert_eq!(failed.status, ProjectStatus::Failed);
    let info = failed.error_info.expect("error_info is filled");
    assert_eq!(info.stage, Stage::Assets);
    assert_eq!(info.trace_id, trace);
    assert!(!info.is_retryable);
    assert!(!info.solutions.is_empty());
    let listed = info.details["failed_assets"]
        .as_array()
        .expect("every failed asset is listed");
    let listed_segments: Vec<u64> = listed
        .iter()
        .map(|a| a["segment_index"].as_u64().unwrap())
        .collect();
    assert_eq!(listed_segments, [1, 2]);
    assert!(
        listed
            .iter()
            .all(|a| a["error_code"] == "STABILITY_CONTENT_POLICY")
    );
    let assets = store.assets(project.id).await.unwrap();
    let image_status = |i: u32| {
        assets
            .iter()
            .find(|a| a.key.kind == AssetKind::Image && a.key.index == Some(i))
            .unwrap()
            .status
    };
    assert_eq!(image_status(1), AssetStatus::Failed);
    assert_eq!(image_status(0), AssetStatus::Completed);
    assert!(
        !data.project(project.id).final_video().exists(),
        "nothing is presented as finished"
    );
    assert!(
        !data
            .project(project.id)
            .images()
            .join("segment-001.png")
            .exists(),
        "no placeholder image"
    );
    assert!(recorder.0.lock().unwrap().iter().any(|p| matches!(p, Progress::Failed { info } if info.error_code == ErrorCode::STABILITY_CONTENT_POLICY)));

    // A non-retryable code is never retried: one call per broken image.
    let calls = illustrator.calls.lock().unwrap().clone();
    assert_eq!(calls.iter().filter(|i| **i == 1).count(), 1);
    assert_eq!(calls.iter().filter(|i| **i == 2).count(), 1);

    let narrations_before = narrator.calls.load(Ordering::SeqCst);
    let segments = store
        .get_project(project.id)
        .await
        .unwrap()
        .script
        .unwrap()
        .segments
        .len();
    assert_eq!(
        narrations_before,
        segments + 2,
        "intro, segments and outro were narrated once each"
    );
    let completed_before: Vec<_> = assets
        .iter()
        .filter(|a| a.is_completed())
        .map(|a| (a.key, a.attempts, a.updated_at.clone()))
        .collect();

    // The user fixes the cause and retries: only the two failed images are made again.
    illustrator.broken.lock().unwrap().clear();
    illustrator.calls.lock().unwrap().clear();
    let outcome = pipeline
        .run(project.id, &TraceId::generate())
        .await
        .unwrap();
    assert_eq!(outcome.status, ProjectStatus::Completed);
    assert_eq!(
        narrator.calls.load(Ordering::SeqCst),
        narrations_before,
        "no narration line was made twice"
    );
    // The two images are made concurrently, so their calls may come in either order.
    let mut remade = illustrator.calls.lock().unwrap().clone();
    remade.sort();
    assert_eq!(remade, [1, 2]);
    let after = store.assets(project.id).await.unwrap();
    for (key, attempts, updated) in completed_before {
        let now = after.iter().find(|a| a.key == key).unwrap();
        assert_eq!(
            (now.attempts, &now.updated_at),
            (attempts, &updated),
            "{key:?} was redone"
        );
    }
    let retried = after
        .iter()
        .find(|a| a.key.kind == AssetKind::Image && a.key.index == Some(1))
        .unwrap();
    assert_eq!(retried.attempts, 2);
    assert!(outcome.video.is_file());
    assert!(
        store
            .get_project(project.id)
            .await
            .unwrap()
            .error_info
            .is_none()
    );

    // Running a completed project again is refused by the state machine.
    let again = pipeline
        .run(project.id, &TraceId::generate())
        .await
        .unwrap_err();
    assert_eq!(again.code, ErrorCode::INVALID_STATE_TRANSITION);
}

/// How segment `i`'s image fails: with `code`, `times` times, asking for `retry_after_ms`.
type FailureScript = std::collections::HashMap<u32, (ErrorCode, u32, Option<u64>)>;

/// Fails segment images as its script says, then makes them with the real illustrator.
struct ScriptedIllustrator {
    inner: Arc<dyn Illustrator>,
    script: Mutex<FailureScript>,
    calls: Mutex<Vec<u32>>,
}

#[async_trait]
impl Illustrator for ScriptedIllustrator {
    fn id(&self) -> &'static str {
        self.inner.id()
    }
    async fn illustrate(&self, req: &ImageRequest<'_>) -> YtResult<ImageAsset> {
        self.calls.lock().unwrap().push(req.segment.index);
        let failure = {
            let mut script = self.script.lock().unwrap();
            match script.get_mut(&req.segment.index) {
                Some((code, times, hint)) if *times > 0 => {
                    *times -= 1;
                    Some((*code, *hint))
                }
                _ => None,
            }
        };
        if let Some((code, hint)) = failure {
            let mut err = YtError::new(code, "scripted failure");
            if let Some(ms) = hint {
                err = err.detail("retry_after_ms", ms);
            }
            return Err(err);
        }
        self.inner.illustrate(req).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_failures_are_retried_by_the_catalogue_and_reported() {
    let Fixture {
        _tmp,
        data,
        store,
        tools,
        project,
        local,
    } = fixture("retries", |c| c.presenter.enabled = false).await;
    // Image 0: one 429 asking for 2.5 s (longer than the catalogue's 2 s), then success.
    // Image 1: a malformed response every time (1 retry allowed, then the project fails).
    let illustrator = Arc::new(ScriptedIllustrator {
        inner: local.illustrator.clone(),
        script: Mutex::new(
            [
                (0, (ErrorCode::STABILITY_RATE_LIMIT, 1, Some(2_500))),
                (1, (ErrorCode::STABILITY_INVALID_RESPONSE, u32::MAX, None)),
            ]
            .into_iter()
            .collect(),
        ),
        calls: Mutex::new(Vec::new()),
    });
    let recorder = Arc::new(Recorder::default());
    let pipeline = Pipeline::new(
        store.clone(),
        data.clone(),
        tools,
        Providers {
            illustrator: illustrator.clone(),
            ..local
        },
        recorder.clone(),
        Lang::En,
    );
    let trace = TraceId::generate();
    let err = pipeline.run(project.id, &trace).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::STABILITY_INVALID_RESPONSE);

    let calls = illustrator.calls.lock().unwrap().clone();
    assert_eq!(calls.iter().filter(|i| **i == 0).count(), 2, "{calls:?}");
    assert_eq!(
        calls.iter().filter(|i| **i == 1).count(),
        2,
        "one retry, as the catalogue says"
    );
    let assets = store.assets(project.id).await.unwrap();
    let image = |i: u32| {
        assets
            .iter()
            .find(|a| a.key.kind == AssetKind::Image && a.key.index == Some(i))
            .unwrap()
            .clone()
    };
    assert_eq!(
        (image(0).status, image(0).attempts),
        (AssetStatus::Completed, 2)
    );
    assert_eq!(
        (image(1).status, image(1).attempts),
        (AssetStatus::Failed, 2)
    );
    let info = store
        .get_project(project.id)
        .await
        .unwrap()
        .error_info
        .unwrap();
    assert_eq!(info.attempts, 2);
    assert!(info.is_retryable);
    let listed = info.details["failed_assets"].as_array().unwrap();
    assert_eq!(
        listed.len(),
        1,
        "the recovered image is not listed: {listed:?}"
    );

    let retries: Vec<_> = store
        .events_since(project.id, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "retry")
        .map(|e| e.payload)
        .collect();
    assert_eq!(retries.len(), 2, "{retries:?}");
    let for_image = |i: u64| retries.iter().find(|r| r["segment_index"] == i).unwrap();
    assert_eq!(for_image(0)["error_code"], "STABILITY_RATE_LIMIT");
    assert_eq!(
        for_image(0)["next_delay_ms"],
        2_500,
        "Retry-After wins when longer"
    );
    assert_eq!(for_image(0)["max_attempts"], 5);
    assert_eq!(for_image(1)["error_code"], "STABILITY_INVALID_RESPONSE");
    // The catalogue's 1 s with equal jitter (retry::Jitter): between half of it and all of it.
    let jittered = for_image(1)["next_delay_ms"].as_u64().unwrap();
    assert!((500..=1_000).contains(&jittered), "{jittered}");
    assert_eq!(for_image(1)["attempt"], 1);
    let reported = recorder
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|p| matches!(p, Progress::Retry { .. }))
        .count();
    assert_eq!(reported, 2);
}
