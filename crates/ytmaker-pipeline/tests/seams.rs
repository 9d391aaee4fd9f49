//! Where two features meet (issue "no silent failure and no double payment where features
//! meet"): a run that cannot start, an edit after a late failure, a setting changed on a failed
//! project. Real offline providers, real FFmpeg, a SQLite store.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use ytmaker_core::asset::{AssetKey, AssetKind};
use ytmaker_core::config::{ProjectConfig, ProviderKind};
use ytmaker_core::error::Lang;
use ytmaker_core::{ErrorCode, ProjectStatus, Stage, TraceId, YtError, YtResult};
use ytmaker_pipeline::control::{Action, StartCheck, Wakeup};
use ytmaker_pipeline::quota::QuotaCheck;
use ytmaker_pipeline::{
    CloudAccess, Pipeline, Progress, ProgressSink, Providers, WorkerConfig, WorkerContext,
    WorkerPool,
};
use ytmaker_providers::{
    Illustrator, ImageAsset, ImageRequest, PublishRequest, PublishResult, Publisher,
};
use ytmaker_render::Toolchain;
use ytmaker_store::{DataDir, JobQueue, NewProject, Project, ProjectSettings, Store};

struct Fixture {
    _tmp: tempfile::TempDir,
    data: DataDir,
    store: Store,
    tools: Toolchain,
    project: Project,
}

async fn fixture(adjust: impl FnOnce(&mut ProjectConfig)) -> Fixture {
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
    config.presenter.enabled = false;
    adjust(&mut config);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../samples/article-zh-TW.txt"
    ))
    .unwrap();
    let project = store
        .create_project(&NewProject {
            name: "seams".into(),
            content: text,
            configuration: config,
        })
        .await
        .unwrap();
    Fixture {
        _tmp: tmp,
        data,
        store,
        tools,
        project,
    }
}

struct Quiet;
impl ProgressSink for Quiet {
    fn emit(&self, _project: uuid::Uuid, _progress: &Progress) {}
}

fn start_check(f: &Fixture) -> StartCheck {
    StartCheck {
        quotas: QuotaCheck {
            cloud: CloudAccess::from_env(&f.data).unwrap(),
            limits: Default::default(),
        },
        data: f.data.clone(),
        tools: f.tools.clone(),
    }
}

/// The stored `error` events of a project.
async fn error_events(store: &Store, id: uuid::Uuid) -> Vec<ytmaker_store::Event> {
    store
        .events_since(id, 0)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "error")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_without_the_providers_key_is_refused_before_anything_is_queued() {
    let f = fixture(|c| c.providers.narration = ProviderKind::GoogleTts).await;
    let err = ytmaker_pipeline::control::apply(
        &f.store,
        &Wakeup::default(),
        &start_check(&f),
        f.project.id,
        Action::Start,
        &TraceId::generate(),
    )
    .await
    .expect_err("a start whose narrator has no key must be refused");
    assert_eq!(err.code, ErrorCode::PROVIDER_KEY_MISSING);
    assert_eq!(err.details["provider"], "google_tts");
    assert!(f.store.live_job(f.project.id).await.unwrap().is_none());
    let project = f.store.get_project(f.project.id).await.unwrap();
    assert_eq!(project.status, ProjectStatus::Initialized);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_cannot_start_fails_its_project_with_the_code_and_an_error_event() {
    // The start was accepted (a key was stored then), and the key is gone when a worker claims
    // the job: the project must not sit INITIALIZED with nothing to say.
    let f = fixture(|c| c.providers.narration = ProviderKind::GoogleTts).await;
    let trace = TraceId::generate();
    f.store.enqueue(f.project.id, &trace).await.unwrap();
    let pool = WorkerPool::start(
        WorkerContext {
            store: f.store.clone(),
            data: f.data.clone(),
            tools: f.tools.clone(),
            lang: Lang::En,
            wakeup: Wakeup::default(),
            cloud: CloudAccess::from_env(&f.data).unwrap(),
            retry_delay_scale: Default::default(),
        },
        WorkerConfig {
            workers: 1,
            lease: Duration::from_secs(5),
            poll: Duration::from_millis(50),
            ..Default::default()
        },
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let project = loop {
        let p = f.store.get_project(f.project.id).await.unwrap();
        if p.status == ProjectStatus::Failed || std::time::Instant::now() > deadline {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    pool.shutdown().await;
    assert_eq!(
        project.status,
        ProjectStatus::Failed,
        "the project says why"
    );
    let info = project.error_info.expect("error_info is recorded");
    assert_eq!(info.error_code, ErrorCode::PROVIDER_KEY_MISSING);
    assert_eq!(info.trace_id, trace);
    assert_eq!(info.stage, Stage::Script);
    assert!(!info.solutions.is_empty());
    let events = error_events(&f.store, f.project.id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload["error_code"], "PROVIDER_KEY_MISSING");
    assert_eq!(events[0].trace_id.as_deref(), Some(trace.as_str()));
    assert!(f.store.live_job(f.project.id).await.unwrap().is_none());
}

/// Fails its first `failures` publishes with a code that is not retried.
struct FailingPublisher {
    inner: Arc<dyn Publisher>,
    failures: AtomicUsize,
    published: Mutex<Vec<String>>,
}

#[async_trait]
impl Publisher for FailingPublisher {
    fn id(&self) -> &'static str {
        self.inner.id()
    }
    async fn publish(&self, req: &PublishRequest<'_>) -> YtResult<PublishResult> {
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(YtError::new(
                ErrorCode::YOUTUBE_INVALID_METADATA,
                "refused for the test",
            ));
        }
        let bytes = std::fs::read(req.video).unwrap();
        self.published.lock().unwrap().push(format!(
            "{:x}",
            <sha2::Sha256 as sha2::Digest>::digest(&bytes)
        ));
        self.inner.publish(req).await
    }
}

struct CountingIllustrator {
    inner: Arc<dyn Illustrator>,
    calls: Mutex<Vec<u32>>,
}

#[async_trait]
impl Illustrator for CountingIllustrator {
    fn id(&self) -> &'static str {
        self.inner.id()
    }
    async fn illustrate(&self, req: &ImageRequest<'_>) -> YtResult<ImageAsset> {
        self.calls.lock().unwrap().push(req.segment.index);
        self.inner.illustrate(req).await
    }
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]))
        .write_to(
            &mut std::io::Cursor::new(&mut bytes),
            image::ImageFormat::Png,
        )
        .unwrap();
    bytes
}

/// The project's offline providers, with a publisher that fails its first `failures` publishes
/// and an illustrator that records which segments it draws.
fn counted_pipeline(
    f: &Fixture,
    failures: usize,
) -> (Pipeline, Arc<FailingPublisher>, Arc<CountingIllustrator>) {
    let cloud = CloudAccess::from_env(&f.data).unwrap();
    let local = Providers::for_project(&f.project, &f.tools, &cloud, &f.store).unwrap();
    let publisher = Arc::new(FailingPublisher {
        inner: local.publisher.clone(),
        failures: AtomicUsize::new(failures),
        published: Mutex::new(Vec::new()),
    });
    let illustrator = Arc::new(CountingIllustrator {
        inner: local.illustrator.clone(),
        calls: Mutex::new(Vec::new()),
    });
    let pipeline = Pipeline::new(
        f.store.clone(),
        f.data.clone(),
        f.tools.clone(),
        Providers {
            publisher: publisher.clone(),
            illustrator: illustrator.clone(),
            ..local
        },
        Arc::new(Quiet),
        Lang::En,
    );
    (pipeline, publisher, illustrator)
}

async fn asset(store: &Store, project: uuid::Uuid, key: AssetKey) -> ytmaker_store::Asset {
    store.asset(project, key).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_replaced_after_an_upload_failure_is_rendered_before_anything_is_published() {
    let f = fixture(|_| {}).await;
    let (pipeline, publisher, illustrator) = counted_pipeline(&f, 1);
    let err = pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::YOUTUBE_INVALID_METADATA);
    let failed = f.store.get_project(f.project.id).await.unwrap();
    assert_eq!(failed.error_info.unwrap().stage, Stage::Upload);
    let final_key = AssetKey::single(AssetKind::FinalVideo);
    let old_video = asset(&f.store, f.project.id, final_key).await;

    // The user replaces segment 1's image and asks for segment 0's image again, then retries.
    ytmaker_pipeline::edits::replace_segment_image(
        &f.store,
        &f.data,
        f.project.id,
        1,
        &png(1280, 720),
        &TraceId::generate(),
    )
    .await
    .unwrap();
    ytmaker_pipeline::edits::regenerate_segment_image(
        &f.store,
        f.project.id,
        0,
        &TraceId::generate(),
    )
    .await
    .unwrap();
    illustrator.calls.lock().unwrap().clear();
    let outcome = pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap();
    assert_eq!(outcome.status, ProjectStatus::Completed);
    assert_eq!(
        *illustrator.calls.lock().unwrap(),
        [0],
        "only the regenerated image is made again"
    );
    let image0 = asset(
        &f.store,
        f.project.id,
        AssetKey::indexed(AssetKind::Image, 0),
    )
    .await;
    assert!(image0.is_completed(), "no image is left PENDING");
    let new_video = asset(&f.store, f.project.id, final_key).await;
    assert_ne!(
        new_video.content_hash, old_video.content_hash,
        "the video was rendered again with the new image"
    );
    let published = publisher.published.lock().unwrap().clone();
    assert_eq!(
        published,
        [new_video.content_hash.clone().unwrap()],
        "what was published is the video with the edit"
    );
}

/// A trigger in the project's SQLite database that refuses every event of `kind` (the
/// database refusing a write, as a locked one does after its busy timeout), named
/// `refuse_<kind>_events`; the connection that made it, to drop it again.
async fn refuse_events(f: &Fixture, kind: &'static str) -> sqlx::SqliteConnection {
    refuse_inserts(
        f,
        &format!("refuse_{kind}_events"),
        &format!("NEW.kind = '{kind}'"),
    )
    .await
}

/// A trigger named `name` that refuses the `project_events` rows matching `when`; the
/// connection that made it, to drop it again. Both are this file's literals, never input.
async fn refuse_inserts(f: &Fixture, name: &str, when: &str) -> sqlx::SqliteConnection {
    use sqlx::Connection;
    let url = format!("sqlite://{}", f.data.database().display());
    let mut raw = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TRIGGER {name} BEFORE INSERT ON project_events \
         WHEN {when} BEGIN SELECT RAISE(ABORT, '{name} (the test)'); END"
    )))
    .execute(&mut raw)
    .await
    .unwrap();
    raw
}

/// A project is never COMPLETED without its `complete` event (found by the model test under a
/// loaded machine: the status was committed, then the event's write timed out on a locked
/// database, and the run was dropped in between). A trigger refuses the `complete` row: the
/// whole end of the run is refused with it, and the project FAILS with the database's error
/// instead of looking finished with no result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_is_never_completed_without_its_complete_event() {
    let f = fixture(|_| {}).await;
    let mut raw = refuse_events(&f, "complete").await;
    let (pipeline, publisher, _) = counted_pipeline(&f, 0);
    let err = pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DATABASE_ERROR, "{err:?}");
    assert_eq!(publisher.published.lock().unwrap().len(), 1);
    let project = f.store.get_project(f.project.id).await.unwrap();
    assert_eq!(project.status, ProjectStatus::Failed);
    let info = project.error_info.expect("error_info");
    assert_eq!(info.error_code, ErrorCode::DATABASE_ERROR);
    let errors = error_events(&f.store, f.project.id).await;
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].trace_id.as_deref(), Some(info.trace_id.as_str()));

    // Once the database takes the row, a retry publishes nothing again and completes.
    sqlx::query("DROP TRIGGER refuse_complete_events")
        .execute(&mut raw)
        .await
        .unwrap();
    let outcome = pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap();
    assert_eq!(outcome.status, ProjectStatus::Completed);
    let events = f.store.events_since(f.project.id, 0).await.unwrap();
    let completed_at = events
        .iter()
        .position(|e| e.kind == "status" && e.payload["to"] == "COMPLETED")
        .expect("a status event to COMPLETED");
    assert_eq!(
        events[completed_at..]
            .iter()
            .filter(|e| e.kind == "complete")
            .count(),
        1,
        "the complete event comes with the status"
    );
}

/// Every completed asset has its `asset` event (found by the soak under load: the asset row was
/// committed, the event's write waited on a locked database and the run was dropped in
/// between). A trigger refuses `asset` rows: the completion is refused with its event, and the
/// project fails with the database's error instead of holding a completion the log never shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asset_is_never_completed_without_its_event() {
    let f = fixture(|_| {}).await;
    let _raw = refuse_events(&f, "asset").await;
    let (pipeline, _, _) = counted_pipeline(&f, 0);
    let err = pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DATABASE_ERROR, "{err:?}");
    let completed: Vec<_> = f
        .store
        .assets(f.project.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.is_completed())
        .map(|a| a.key)
        .collect();
    assert!(
        completed.is_empty(),
        "completed without an event: {completed:?}"
    );
    let project = f.store.get_project(f.project.id).await.unwrap();
    assert_eq!(project.status, ProjectStatus::Failed);
}

/// A trigger that refuses the `asset` event of image `index` only: that image's completion is
/// refused (it stays GENERATING) after the illustrator made it.
async fn refuse_image_completion(f: &Fixture, index: u32) -> sqlx::SqliteConnection {
    refuse_inserts(
        f,
        "refuse_image_completion",
        &format!(
            "NEW.kind = 'asset' AND json_extract(NEW.payload, '$.kind') = 'image' \
             AND json_extract(NEW.payload, '$.index') = {index}"
        ),
    )
    .await
}

/// A run whose image 1 was made (and paid for) but whose completion the database refused, as
/// a locked database does after its busy timeout; the trigger is then dropped.
async fn made_but_not_recorded(
    f: &Fixture,
    pipeline: &Pipeline,
    illustrator: &CountingIllustrator,
) -> AssetKey {
    let mut raw = refuse_image_completion(f, 1).await;
    let err = pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::DATABASE_ERROR, "{err:?}");
    let key = AssetKey::indexed(AssetKind::Image, 1);
    assert_eq!(
        illustrator
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|&&i| i == 1)
            .count(),
        1
    );
    assert_eq!(
        asset(&f.store, f.project.id, key).await.status,
        ytmaker_core::asset::AssetStatus::Generating
    );
    sqlx::query("DROP TRIGGER refuse_image_completion")
        .execute(&mut raw)
        .await
        .unwrap();
    illustrator.calls.lock().unwrap().clear();
    key
}

/// Soak defect N6 (seed 71442): the provider answered, then the run lost its lease while the
/// database was locked and the asset stayed GENERATING; the next run paid for it again. The
/// maker's result is now recorded next to the project before the database is told, and the
/// next run adopts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_asset_made_but_not_recorded_is_adopted_by_the_next_run_not_made_again() {
    let f = fixture(|_| {}).await;
    let (pipeline, _, illustrator) = counted_pipeline(&f, 0);
    let key = made_but_not_recorded(&f, &pipeline, &illustrator).await;

    let outcome = pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap();
    assert_eq!(outcome.status, ProjectStatus::Completed);
    assert!(
        !illustrator.calls.lock().unwrap().contains(&1),
        "image 1 was made again: {:?}",
        illustrator.calls.lock().unwrap()
    );
    let adopted = asset(&f.store, f.project.id, key).await;
    assert!(adopted.is_completed());
    assert_eq!(adopted.attempts, 1);
    let events = f.store.events_since(f.project.id, 0).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.kind == "asset"
                && e.payload["kind"] == "image"
                && e.payload["index"] == 1)
            .count(),
        1,
        "the adopted image has its asset event"
    );
}

/// The record names the attempt that made it: an image the user asked for again, and that a
/// later runner began before it died, is made again rather than adopted from the old record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_asked_for_again_is_not_adopted_from_an_earlier_attempt() {
    let f = fixture(|_| {}).await;
    let (pipeline, _, illustrator) = counted_pipeline(&f, 0);
    let key = made_but_not_recorded(&f, &pipeline, &illustrator).await;
    ytmaker_pipeline::edits::regenerate_segment_image(
        &f.store,
        f.project.id,
        1,
        &TraceId::generate(),
    )
    .await
    .unwrap();
    // A runner began the new attempt and died before its maker returned.
    f.store
        .begin_asset(f.project.id, key, "title_card")
        .await
        .unwrap();

    let outcome = pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap();
    assert_eq!(outcome.status, ProjectStatus::Completed);
    assert_eq!(
        *illustrator.calls.lock().unwrap(),
        [1],
        "only the image asked for again is made again"
    );
    assert!(asset(&f.store, f.project.id, key).await.is_completed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_changed_on_a_failed_project_take_effect_on_retry() {
    let f = fixture(|_| {}).await;
    let (pipeline, _, illustrator) = counted_pipeline(&f, 2);
    pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap_err();
    let segments = f
        .store
        .get_project(f.project.id)
        .await
        .unwrap()
        .script
        .unwrap()
        .segments
        .len();

    // A Stability setting (seed, style preset, negative prompt) changes every image.
    let mut config = f.project.configuration.clone();
    config.images.seed = 42;
    config.images.style_preset = Some("anime".into());
    f.store
        .update_project_settings(
            f.project.id,
            &ProjectSettings {
                configuration: Some(config),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    illustrator.calls.lock().unwrap().clear();
    pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap_err();
    assert_eq!(
        illustrator.calls.lock().unwrap().len(),
        segments,
        "every image is made again with the new settings"
    );

    // A new prompt writes the script again.
    let script_key = AssetKey::single(AssetKind::Script);
    let script_before = asset(&f.store, f.project.id, script_key).await;
    f.store
        .update_project_settings(
            f.project.id,
            &ProjectSettings {
                prompt_content: Some("Write a calmer script. {article}".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let outcome = pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap();
    assert_eq!(outcome.status, ProjectStatus::Completed);
    let script_after = asset(&f.store, f.project.id, script_key).await;
    assert_ne!(
        script_before.metadata["inputs"], script_after.metadata["inputs"],
        "the script was written again from the new prompt"
    );
    assert!(script_after.updated_at > script_before.updated_at);
}

/// Found by the model-based test: a change that rewrites the script (here the speaking rate)
/// used to replace script.json with the writer's own segments, dropping an accepted description
/// edit and paying again for the image it had replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_description_edit_survives_a_change_that_rewrites_the_script() {
    let f = fixture(|_| {}).await;
    let (pipeline, publisher, illustrator) = counted_pipeline(&f, 1);
    pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap_err();
    let edit = "一片茶園在晨霧中，採茶人背著竹簍";
    ytmaker_pipeline::edits::edit_segment_image(
        &f.store,
        &f.data,
        f.project.id,
        0,
        edit,
        None,
        &TraceId::generate(),
    )
    .await
    .unwrap();
    let script_key = AssetKey::single(AssetKind::Script);
    let script_before = asset(&f.store, f.project.id, script_key).await;
    let mut config = f.project.configuration.clone();
    config.narration.speaking_rate = 1.3;
    f.store
        .update_project_settings(
            f.project.id,
            &ProjectSettings {
                configuration: Some(config),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    illustrator.calls.lock().unwrap().clear();
    let outcome = pipeline
        .run(f.project.id, &TraceId::generate())
        .await
        .unwrap();
    assert_eq!(outcome.status, ProjectStatus::Completed);
    let script_after = asset(&f.store, f.project.id, script_key).await;
    assert_ne!(
        script_before.metadata["inputs"], script_after.metadata["inputs"],
        "the speaking rate wrote the script again"
    );
    let script = f
        .store
        .get_project(f.project.id)
        .await
        .unwrap()
        .script
        .unwrap();
    assert_eq!(
        script.segments[0].image_description, edit,
        "the edit is kept"
    );
    assert!(script.segments[0].description_edited);
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.data.project(f.project.id).script()).unwrap())
            .unwrap();
    assert_eq!(on_disk["segments"][0]["image_description"], edit);
    let calls = illustrator.calls.lock().unwrap().clone();
    assert_eq!(
        calls.iter().filter(|&&i| i == 0).count(),
        1,
        "segment 0's image is made once, for the edit, and not again for the writer's description: {calls:?}"
    );
    assert_eq!(publisher.published.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_workers_keep_dying_fails_its_project_instead_of_running_for_ever() {
    let f = fixture(|_| {}).await;
    let trace = TraceId::generate();
    f.store.enqueue(f.project.id, &trace).await.unwrap();
    // Three workers claim it and die (their leases run out without a heartbeat).
    for dead in ["dead-1", "dead-2", "dead-3"] {
        let job = f
            .store
            .claim(dead, Duration::from_millis(1))
            .await
            .unwrap()
            .expect("the job is claimable");
        assert_eq!(job.project_id, f.project.id);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pool = WorkerPool::start(
        WorkerContext {
            store: f.store.clone(),
            data: f.data.clone(),
            tools: f.tools.clone(),
            lang: Lang::En,
            wakeup: Wakeup::default(),
            cloud: CloudAccess::from_env(&f.data).unwrap(),
            retry_delay_scale: Default::default(),
        },
        WorkerConfig {
            workers: 1,
            lease: Duration::from_secs(5),
            poll: Duration::from_millis(50),
            max_abandoned_runs: 3,
        },
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let project = loop {
        let p = f.store.get_project(f.project.id).await.unwrap();
        if p.status == ProjectStatus::Failed || std::time::Instant::now() > deadline {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    pool.shutdown().await;
    assert_eq!(project.status, ProjectStatus::Failed);
    let info = project.error_info.expect("error_info");
    assert_eq!(info.error_code, ErrorCode::WORKER_KEPT_DYING);
    assert_eq!(info.details["last_worker"], "dead-3");
    assert_eq!(info.details["abandoned_runs"], 3);
    assert!(
        info.details["last_log_line"]
            .as_str()
            .is_some_and(|l| l.contains("none in this host's log")),
        "{:?}",
        info.details
    );
    assert_eq!(info.trace_id, trace);
    let events = error_events(&f.store, f.project.id).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload["error_code"], "WORKER_KEPT_DYING");
    assert!(
        f.store.live_job(f.project.id).await.unwrap().is_none(),
        "the job is closed, not claimed again"
    );
    assert!(
        f.store.assets(f.project.id).await.unwrap().is_empty(),
        "nothing was run"
    );
}
