//! Quotas: how much of each provider's allowance is used and left, and the check that refuses
//! to start a project whose estimated spending exceeds what is left.
//!
//! YouTube units and `videos.insert` calls, Gemini requests and Stability images are counted
//! from `provider_calls` since midnight Pacific time (when YouTube and Gemini reset) against the
//! configured [`QuotaLimits`]. D-ID reports its own balance: its credits are read from its API
//! (briefly cached) when a D-ID key is stored, and a failed read is shown as an error, never
//! guessed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, TimeZone, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use ytmaker_core::asset::{AssetKind, AssetStatus};
use ytmaker_core::config::ProviderKind;
use ytmaker_core::quota::{QuotaLimits, pacific_day};
use ytmaker_core::{ErrorCode, YtError, YtResult};
use ytmaker_providers::cloud::did::{self, DidCredits};
use ytmaker_providers::cloud::{gemini, stability, youtube};
use ytmaker_store::{Project, Store, now_ms};

use crate::CloudAccess;

/// Which allowance a [`QuotaStatus`] is: a provider's, or (`youtube_uploads`) YouTube's uploads
/// a day, which are counted apart from its API units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuotaName {
    Youtube,
    YoutubeUploads,
    Gemini,
    Stability,
    Did,
}

impl QuotaName {
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaName::Youtube => "youtube",
            QuotaName::YoutubeUploads => "youtube_uploads",
            QuotaName::Gemini => "gemini",
            QuotaName::Stability => "stability",
            QuotaName::Did => "did",
        }
    }
}

// `pad`, so that a table's `{:<16}` widths apply.
impl std::fmt::Display for QuotaName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// What a quota counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuotaUnit {
    /// YouTube Data API quota units.
    Units,
    Uploads,
    Requests,
    Images,
    Credits,
}

impl QuotaUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaUnit::Units => "units",
            QuotaUnit::Uploads => "uploads",
            QuotaUnit::Requests => "requests",
            QuotaUnit::Images => "images",
            QuotaUnit::Credits => "credits",
        }
    }
}

impl std::fmt::Display for QuotaUnit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Where a quota's numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuotaSource {
    /// Counted from our own call records.
    Local,
    /// Reported by the provider.
    Api,
}

impl std::fmt::Display for QuotaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            QuotaSource::Local => "local",
            QuotaSource::Api => "api",
        })
    }
}

/// One provider's allowance (`GET /api/v1/quotas`, `ytmaker quota`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaStatus {
    pub provider: QuotaName,
    pub unit: QuotaUnit,
    pub used: u64,
    /// `None` when no limit is known (not configured, or the provider did not say).
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// When the count starts again (RFC 3339); `None` when the provider does not say.
    pub resets_at: Option<String>,
    pub source: QuotaSource,
    /// Set when reading this quota failed; the numbers are then zero/unknown.
    pub error: Option<QuotaReadError>,
}

/// How long a D-ID credits answer is reused: every quota read would otherwise be a paid-for API
/// round trip, and credits change only when talks are made.
const DID_CREDITS_TTL: Duration = Duration::from_secs(60);

/// D-ID's last credits answer (or failure) and when it came, shared by clones of a
/// [`CloudAccess`].
pub(crate) type CreditsCache = Arc<tokio::sync::Mutex<Option<(Instant, YtResult<DidCredits>)>>>;

fn rfc3339(ms: i64) -> Option<String> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

/// Why a quota could not be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaReadError {
    /// A code of the catalogue (GET /api/v1/system/errors).
    pub code: String,
    pub message: String,
    pub is_retryable: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Map<String, Value>,
}

impl From<&YtError> for QuotaReadError {
    fn from(err: &YtError) -> Self {
        QuotaReadError {
            code: err.code.as_str().into(),
            message: err.message.clone(),
            is_retryable: err.is_retryable(),
            details: err.details.clone(),
        }
    }
}

fn counted(
    provider: QuotaName,
    unit: QuotaUnit,
    used: u64,
    limit: Option<u64>,
    resets_ms: i64,
) -> QuotaStatus {
    QuotaStatus {
        provider,
        unit,
        used,
        limit,
        remaining: limit.map(|l| l.saturating_sub(used)),
        resets_at: rfc3339(resets_ms),
        source: QuotaSource::Local,
        error: None,
    }
}

/// Every quota, as of now.
pub async fn current(
    store: &Store,
    cloud: &CloudAccess,
    limits: &QuotaLimits,
) -> YtResult<Vec<QuotaStatus>> {
    let mut all = local_quotas(store, limits, now_ms()).await?;
    if let Some(did) = did_credits(cloud).await {
        all.push(did);
    }
    Ok(all)
}

/// The quotas counted from `provider_calls` for the Pacific day containing `now_ms`.
pub async fn local_quotas(
    store: &Store,
    limits: &QuotaLimits,
    now_ms: i64,
) -> YtResult<Vec<QuotaStatus>> {
    let (day_start, resets) = pacific_day(now_ms)?;
    let youtube_api = ProviderKind::Youtube.as_str();
    let all_youtube = store
        .provider_usage_since(youtube_api, None, day_start)
        .await?;
    let inserts = store
        .provider_usage_since(
            youtube_api,
            Some(youtube::VIDEOS_INSERT_ENDPOINT),
            day_start,
        )
        .await?;
    let gemini_requests = store
        .provider_usage_since(
            ProviderKind::Gemini.as_str(),
            Some(gemini::GENERATE),
            day_start,
        )
        .await?;
    let stability_images = store
        .provider_usage_since(
            ProviderKind::Stability.as_str(),
            Some(stability::GENERATE),
            day_start,
        )
        .await?;
    Ok(vec![
        counted(
            QuotaName::Youtube,
            QuotaUnit::Units,
            all_youtube.quota_units.saturating_sub(inserts.quota_units),
            Some(limits.youtube_units_per_day),
            resets,
        ),
        counted(
            QuotaName::YoutubeUploads,
            QuotaUnit::Uploads,
            inserts.quota_units,
            Some(limits.youtube_uploads_per_day),
            resets,
        ),
        // Every request counts against Gemini's rate limits, refused ones included.
        counted(
            QuotaName::Gemini,
            QuotaUnit::Requests,
            gemini_requests.calls,
            limits.gemini_requests_per_day,
            resets,
        ),
        // Stability charges for delivered images only.
        counted(
            QuotaName::Stability,
            QuotaUnit::Images,
            stability_images.successes,
            limits.stability_images_per_day,
            resets,
        ),
    ])
}

/// D-ID's credits from its API, or `None` when no D-ID key is stored.
async fn did_credits(cloud: &CloudAccess) -> Option<QuotaStatus> {
    let key = match cloud.secrets.get(ProviderKind::Did.as_str()) {
        Ok(Some(key)) => key,
        Ok(None) => return None,
        Err(err) => return Some(unreadable(QuotaName::Did, &err)),
    };
    let mut cache = cloud.did_credits.lock().await;
    let fresh = cache
        .as_ref()
        .is_some_and(|(at, _)| at.elapsed() < DID_CREDITS_TTL);
    if !fresh {
        *cache = Some((Instant::now(), did::credits(&cloud.ctx, &key).await));
    }
    Some(match cache.as_ref().map(|(_, answer)| answer) {
        Some(Ok(credits)) => QuotaStatus {
            provider: QuotaName::Did,
            unit: QuotaUnit::Credits,
            // D-ID reports fractional credits; whole credits are what a talk is charged.
            used: (credits.total - credits.remaining).max(0.0).floor() as u64,
            limit: Some(credits.total.max(0.0).floor() as u64),
            remaining: Some(credits.remaining.max(0.0).floor() as u64),
            resets_at: None,
            source: QuotaSource::Api,
            error: None,
        },
        Some(Err(err)) => unreadable(QuotaName::Did, err),
        None => unreadable(
            QuotaName::Did,
            &YtError::new(ErrorCode::DID_SERVER_ERROR, "no credits answer was kept"),
        ),
    })
}

fn unreadable(provider: QuotaName, err: &YtError) -> QuotaStatus {
    QuotaStatus {
        provider,
        unit: QuotaUnit::Credits,
        used: 0,
        limit: None,
        remaining: None,
        resets_at: None,
        source: QuotaSource::Api,
        error: Some(err.into()),
    }
}

/// What a run of the project is expected to spend of one quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Need {
    /// The quota it is drawn from.
    pub provider: QuotaName,
    pub needed: u64,
}

/// Speech units (CJK characters, or words of other scripts) one segment holds on average: the
/// default prompt asks for 20–80 Chinese characters or 12–50 English words a segment.
const UNITS_PER_SEGMENT_CJK: usize = 50;
const UNITS_PER_SEGMENT_WORDS: usize = 31;

/// Segments a script of `project`'s article is expected to have: its length in speech units
/// over an average segment, at most what the target video length holds.
fn estimated_segments(project: &Project) -> u64 {
    let cjk = project
        .content
        .chars()
        .filter(|c| ('\u{3400}'..='\u{9fff}').contains(c) || ('\u{f900}'..='\u{faff}').contains(c))
        .count();
    let words = project
        .content
        .split(|c: char| c.is_whitespace() || ('\u{3400}'..='\u{9fff}').contains(&c))
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .count();
    let by_length = cjk.div_ceil(UNITS_PER_SEGMENT_CJK) + words.div_ceil(UNITS_PER_SEGMENT_WORDS);
    let script = &project.configuration.script;
    let average_segment = (script.segment_min_seconds + script.segment_max_seconds) / 2.0;
    let fits = if average_segment > 0.0 {
        (script.target_max_seconds / average_segment)
            .ceil()
            .max(1.0) as usize
    } else {
        by_length
    };
    by_length.clamp(1, fits.max(1)) as u64
}

/// What a (re)started run of `project` is expected to spend, per quota. Only work still to do
/// is counted: a written script, a delivered image or an uploaded video is not paid for again.
pub async fn estimate(store: &Store, project: &Project) -> YtResult<Vec<Need>> {
    let providers = &project.configuration.providers;
    let mut needs = Vec::new();
    if providers.publish == ProviderKind::Youtube && project.youtube_video_id.is_none() {
        needs.push(Need {
            provider: QuotaName::Youtube,
            needed: youtube::THUMBNAILS_SET_UNITS,
        });
        needs.push(Need {
            provider: QuotaName::YoutubeUploads,
            needed: youtube::VIDEOS_INSERT_UNITS,
        });
    }
    if providers.script == ProviderKind::Gemini && project.script.is_none() {
        needs.push(Need {
            provider: QuotaName::Gemini,
            needed: 1,
        });
    }
    let presenter =
        providers.avatar == ProviderKind::Did && project.configuration.presenter.enabled;
    if providers.images == ProviderKind::Stability || presenter {
        let assets = store.assets(project.id).await?;
        let done = |kind: AssetKind| {
            assets
                .iter()
                .filter(|a| a.key.kind == kind && a.status == AssetStatus::Completed)
                .count() as u64
        };
        if providers.images == ProviderKind::Stability {
            let segments = project
                .script
                .as_ref()
                .map_or_else(|| estimated_segments(project), |s| s.segments.len() as u64);
            let missing = segments.saturating_sub(done(AssetKind::Image));
            if missing > 0 {
                needs.push(Need {
                    provider: QuotaName::Stability,
                    needed: missing,
                });
            }
        }
        if presenter {
            // One talk each for the intro and the outro; D-ID charges at least one credit a talk.
            let missing =
                2u64.saturating_sub(done(AssetKind::AvatarIntro) + done(AssetKind::AvatarOutro));
            if missing > 0 {
                needs.push(Need {
                    provider: QuotaName::Did,
                    needed: missing,
                });
            }
        }
    }
    Ok(needs)
}

/// Refuses with `QUOTA_INSUFFICIENT` when a run of `project` would need more of a quota than is
/// left. A quota with no known limit, or whose reading failed (D-ID's API), is not checked:
/// nothing is refused on a guess.
pub async fn check_start(
    store: &Store,
    cloud: &CloudAccess,
    limits: &QuotaLimits,
    project: &Project,
) -> YtResult<()> {
    let needs = estimate(store, project).await?;
    if needs.is_empty() {
        return Ok(());
    }
    let mut quotas = local_quotas(store, limits, now_ms()).await?;
    if needs.iter().any(|n| n.provider == QuotaName::Did)
        && let Some(did) = did_credits(cloud).await
    {
        quotas.push(did);
    }
    let short: Vec<(&Need, &QuotaStatus, u64)> = needs
        .iter()
        .filter_map(|need| {
            let quota = quotas
                .iter()
                .find(|q| q.provider == need.provider && q.error.is_none())?;
            let remaining = quota.remaining?;
            (remaining < need.needed).then_some((need, quota, remaining))
        })
        .collect();
    let Some((need, quota, remaining)) = short.first() else {
        return Ok(());
    };
    let resets = quota
        .resets_at
        .as_deref()
        .map_or_else(String::new, |at| format!("; it resets at {at}"));
    Err(YtError::new(
        ErrorCode::QUOTA_INSUFFICIENT,
        format!(
            "the project needs {} {} of {} but only {remaining} remain{resets}",
            need.needed, quota.unit, need.provider
        ),
    )
    .detail("project_id", project.id.to_string())
    .detail("provider", need.provider.as_str())
    .detail("unit", quota.unit.as_str())
    .detail("needed", need.needed)
    .detail("remaining", *remaining)
    .detail("used", quota.used)
    .detail("limit", quota.limit)
    .detail("resets_at", quota.resets_at.clone())
    .detail(
        "shortages",
        short
            .iter()
            .map(|(n, q, r)| json!({"provider": n.provider, "unit": q.unit, "needed": n.needed, "remaining": r}))
            .collect::<Vec<_>>(),
    ))
}

/// What `control::apply` checks a start/resume/retry against.
#[derive(Clone, Debug)]
pub struct QuotaCheck {
    pub cloud: CloudAccess,
    pub limits: QuotaLimits,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ytmaker_core::asset::AssetKey;
    use ytmaker_core::config::{ProjectConfig, ProviderChoice};
    use ytmaker_store::{DataDir, NewProject, ProviderCall};

    struct Env {
        store: Store,
        cloud: CloudAccess,
        _dir: tempfile::TempDir,
    }

    async fn env() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&Store::sqlite_url(&dir.path().join("t.db")))
            .await
            .unwrap();
        let cloud = CloudAccess::new(
            &DataDir::new(dir.path().join("data")),
            ytmaker_providers::cloud::Endpoints::all_at("http://127.0.0.1:9"),
            ytmaker_providers::cloud::Timeouts::default(),
        )
        .unwrap();
        Env {
            store,
            cloud,
            _dir: dir,
        }
    }

    async fn cloud_project(store: &Store, content: String) -> Project {
        let configuration = ProjectConfig {
            providers: ProviderChoice::cloud(),
            ..Default::default()
        };
        store
            .create_project(&NewProject {
                name: "p".into(),
                content,
                configuration,
            })
            .await
            .unwrap()
    }

    fn script(segments: u32) -> ytmaker_core::script::Script {
        let line = json!({"text": "x", "estimated_seconds": 3.0});
        let segments: Vec<Value> = (0..segments)
            .map(|i| json!({"index": i, "narration": "n", "image_description": "d", "key_phrase": "k", "estimated_seconds": 8.0}))
            .collect();
        serde_json::from_value(json!({
            "language": "en", "title": "t", "description": "d", "tags": [],
            "intro": line, "segments": segments, "outro": line,
            "condensation": null, "warnings": []
        }))
        .unwrap()
    }

    fn needed(needs: &[Need], provider: QuotaName) -> Option<u64> {
        needs
            .iter()
            .find(|n| n.provider == provider)
            .map(|n| n.needed)
    }

    #[tokio::test]
    async fn the_estimate_counts_only_work_still_to_do() {
        let env = env().await;
        // About 50 characters a segment: 500 characters are 10 segments.
        let project = cloud_project(&env.store, "茶".repeat(500)).await;
        let needs = estimate(&env.store, &project).await.unwrap();
        assert_eq!(needed(&needs, QuotaName::Youtube), Some(50));
        assert_eq!(needed(&needs, QuotaName::YoutubeUploads), Some(1));
        assert_eq!(needed(&needs, QuotaName::Gemini), Some(1));
        assert_eq!(needed(&needs, QuotaName::Stability), Some(10));
        assert_eq!(needed(&needs, QuotaName::Did), Some(2));

        env.store.save_script(project.id, &script(3)).await.unwrap();
        let image = AssetKey::indexed(AssetKind::Image, 1);
        env.store
            .begin_asset(project.id, image, "stability")
            .await
            .unwrap();
        env.store
            .complete_asset(project.id, image, "images/1.png", "h", &json!({}))
            .await
            .unwrap();
        env.store
            .set_youtube_video_id(project.id, "vid123")
            .await
            .unwrap();
        let project = env.store.get_project(project.id).await.unwrap();
        let needs = estimate(&env.store, &project).await.unwrap();
        assert_eq!(needed(&needs, QuotaName::Stability), Some(2));
        assert_eq!(needed(&needs, QuotaName::Gemini), None);
        assert_eq!(needed(&needs, QuotaName::Youtube), None);
    }

    #[test]
    fn a_long_article_is_estimated_at_most_what_the_target_length_holds() {
        let config = ProjectConfig::default();
        let average = (config.script.segment_min_seconds + config.script.segment_max_seconds) / 2.0;
        let fits = (config.script.target_max_seconds / average).ceil() as u64;
        let project = Project {
            id: uuid::Uuid::new_v4(),
            name: "p".into(),
            content: "茶".repeat(10_000),
            status: ytmaker_core::ProjectStatus::Initialized,
            configuration: config,
            script: None,
            error_info: None,
            trace_id: None,
            youtube_video_id: None,
            config_template_id: None,
            prompt_template_id: None,
            prompt_content: None,
            llm_model: None,
            youtube_settings: None,
            created_at: String::new(),
            updated_at: String::new(),
        };
        assert_eq!(estimated_segments(&project), fits);
        let english = Project {
            content: "word ".repeat(62),
            ..project
        };
        assert_eq!(estimated_segments(&english), 2);
    }

    #[tokio::test]
    async fn a_start_is_refused_only_where_a_known_limit_is_short() {
        let env = env().await;
        let project = cloud_project(&env.store, "茶".repeat(500)).await;
        let mut limits = QuotaLimits::default();
        // No limit known for Stability or Gemini and no D-ID key: nothing to refuse.
        check_start(&env.store, &env.cloud, &limits, &project)
            .await
            .unwrap();

        limits.stability_images_per_day = Some(12);
        env.store
            .record_provider_call(&ProviderCall {
                at_ms: now_ms(),
                api: "stability".into(),
                endpoint: stability::GENERATE.into(),
                status: Some(200),
                error_code: None,
                duration_ms: 900,
                quota_units: 0,
                project_id: None,
                trace_id: None,
            })
            .await
            .unwrap();
        // 11 images left, 10 needed.
        check_start(&env.store, &env.cloud, &limits, &project)
            .await
            .unwrap();
        limits.stability_images_per_day = Some(10);
        let err = check_start(&env.store, &env.cloud, &limits, &project)
            .await
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::QUOTA_INSUFFICIENT);
        assert_eq!(err.details["provider"], "stability");
        assert_eq!(err.details["needed"], 10);
        assert_eq!(err.details["remaining"], 9);
        assert!(err.details["resets_at"].as_str().unwrap().ends_with('Z'));
    }

    #[tokio::test]
    async fn local_quotas_count_today_only() {
        let env = env().await;
        let (day_start, _) = pacific_day(now_ms()).unwrap();
        for (at_ms, endpoint, units) in [
            (day_start - 1, "thumbnails.set", 50),
            (day_start, "thumbnails.set", 50),
            (day_start + 1, youtube::VIDEOS_INSERT_ENDPOINT, 1),
        ] {
            env.store
                .record_provider_call(&ProviderCall {
                    at_ms,
                    api: "youtube".into(),
                    endpoint: endpoint.into(),
                    status: Some(200),
                    error_code: None,
                    duration_ms: 10,
                    quota_units: units,
                    project_id: None,
                    trace_id: None,
                })
                .await
                .unwrap();
        }
        let quotas = local_quotas(&env.store, &QuotaLimits::default(), now_ms())
            .await
            .unwrap();
        let youtube = quotas
            .iter()
            .find(|q| q.provider == QuotaName::Youtube)
            .unwrap();
        assert_eq!((youtube.used, youtube.remaining), (50, Some(9_950)));
        let uploads = quotas
            .iter()
            .find(|q| q.provider == QuotaName::YoutubeUploads)
            .unwrap();
        assert_eq!((uploads.used, uploads.limit), (1, Some(100)));
    }
}
