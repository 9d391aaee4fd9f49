use std::sync::Arc;

use uuid::Uuid;
use ytmaker_core::TraceId;
use ytmaker_core::config::{LlmSettings, ProjectConfig, ProviderKind, base_url_origin};
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};
use ytmaker_providers::cloud::did::DidPresenter;
use ytmaker_providers::cloud::gemini::{self, GeminiScriptWriter};
use ytmaker_providers::cloud::google_tts::GoogleTtsNarrator;
use ytmaker_providers::cloud::openai_compat::{self, OpenAiCompatibleScriptWriter};
use ytmaker_providers::cloud::stability::StabilityIllustrator;
use ytmaker_providers::cloud::youtube::{TokenStore, YoutubePublisher};
use ytmaker_providers::cloud::{CloudContext, Endpoints, Timeouts};
use ytmaker_providers::local::{
    EspeakNarrator, LocalPresenter, LocalPublisher, RuleBasedScriptWriter, TitleCardIllustrator,
};
use ytmaker_providers::{Illustrator, Narrator, Presenter, Publisher, ScriptWriter};
use ytmaker_render::Toolchain;
use ytmaker_store::{DataDir, LLM_KEY_SERVER, Project, SecretStore, Store};

use crate::call_records::{PendingWrites, StoreCallRecorder};
use crate::youtube_accounts::{self, AccountTokens};

/// The provider chosen for each capability of one project. Built from the project's
/// configuration; a provider is never swapped for another during a run.
#[derive(Clone)]
pub struct Providers {
    pub script: Arc<dyn ScriptWriter>,
    pub narrator: Arc<dyn Narrator>,
    pub illustrator: Arc<dyn Illustrator>,
    pub presenter: Arc<dyn Presenter>,
    pub publisher: Arc<dyn Publisher>,
}

/// What the cloud providers need from the process: where the APIs are, the HTTP client, and the
/// encrypted key store.
#[derive(Clone, Debug)]
pub struct CloudAccess {
    pub ctx: CloudContext,
    pub secrets: SecretStore,
    /// D-ID's last credits answer, shared by clones (see `quota`).
    pub(crate) did_credits: crate::quota::CreditsCache,
    /// Call records still being written, shared by clones.
    call_writes: PendingWrites,
}

/// Points every cloud client at one base URL (the fake cloud) instead of the real services.
pub const CLOUD_BASE_URL_ENV: &str = "YTMAKER_CLOUD_BASE_URL";

impl CloudAccess {
    /// The real services, or all of them at `$YTMAKER_CLOUD_BASE_URL` when it is set.
    pub fn from_env(data: &DataDir) -> YtResult<Self> {
        let endpoints = match std::env::var(CLOUD_BASE_URL_ENV) {
            Ok(base) if !base.trim().is_empty() => Endpoints::all_at(base.trim()),
            _ => Endpoints::default(),
        };
        CloudAccess::new(data, endpoints, Timeouts::default())
    }

    pub fn new(data: &DataDir, endpoints: Endpoints, timeouts: Timeouts) -> YtResult<Self> {
        Ok(CloudAccess {
            ctx: CloudContext::new(endpoints, timeouts)?,
            secrets: SecretStore::open(data),
            did_credits: Default::default(),
            call_writes: PendingWrites::default(),
        })
    }

    /// The same access, recording every call in `store`'s `provider_calls` (calls made outside
    /// a project run: key tests, quota reads).
    pub fn recording_calls(mut self, store: &Store) -> Self {
        self.ctx = self.ctx.with_recorder(Arc::new(StoreCallRecorder::new(
            store.clone(),
            self.call_writes.clone(),
        )));
        self
    }

    /// Waits until every call record started so far is written (or logged as lost). Processes
    /// call it before they exit.
    pub async fn flush_call_records(&self) {
        self.call_writes.flush().await;
    }

    /// The access one run of `project_id` uses: every call is recorded with the project and the
    /// run's trace id.
    pub fn for_run(&self, store: &Store, project_id: Uuid, trace: &TraceId) -> Self {
        let mut run = self.clone();
        run.ctx = run.ctx.with_recorder(Arc::new(StoreCallRecorder::for_run(
            store.clone(),
            self.call_writes.clone(),
            project_id,
            trace,
        )));
        run
    }

    /// The stored key of `provider`, or `PROVIDER_KEY_MISSING` (nothing is called without one).
    pub fn key(&self, provider: ProviderKind) -> YtResult<Secret> {
        self.secrets.get(provider.as_str())?.ok_or_else(|| {
            YtError::new(
                ErrorCode::PROVIDER_KEY_MISSING,
                format!("no API key is stored for {}", provider.as_str()),
            )
            .detail("provider", provider.as_str())
        })
    }

    /// The key the `[llm]` section names: `None` for a server that takes none (`api_key` empty),
    /// else the stored `openai_compatible` key, `PROVIDER_KEY_MISSING`, or
    /// `LLM_KEY_FOR_OTHER_SERVER` when `llm.base_url` is not the server the key was stored for
    /// (a project's configuration must not be able to send the key anywhere else).
    pub fn llm_key(&self, llm: &LlmSettings) -> YtResult<Option<Secret>> {
        if llm.api_key.is_empty() {
            return Ok(None);
        }
        let key = self.key(ProviderKind::OpenaiCompatible)?;
        let bound = self.secrets.get(LLM_KEY_SERVER)?;
        let bound = bound.as_ref().map(|s| s.expose());
        let wanted = base_url_origin(&llm.base_url);
        match (bound, wanted.as_deref()) {
            (Some(bound), Some(wanted)) if bound == wanted => Ok(Some(key)),
            (bound, wanted) => Err(YtError::new(
                ErrorCode::LLM_KEY_FOR_OTHER_SERVER,
                match bound {
                    Some(bound) => format!(
                        "the openai_compatible key was stored for {bound}, and llm.base_url is {}",
                        llm.base_url
                    ),
                    None => format!(
                        "the openai_compatible key was stored without its server, and llm.base_url is {}",
                        llm.base_url
                    ),
                },
            )
            .detail("key_server", bound.unwrap_or("none"))
            .detail("base_url_server", wanted.unwrap_or("none"))),
        }
    }

    /// Stores `provider`'s key. The `openai_compatible` key is bound to the server at
    /// `llm_base_url` (its origin), in the same write; other keys take no server.
    pub fn set_key(
        &self,
        provider: ProviderKind,
        key: &Secret,
        llm_base_url: Option<&str>,
    ) -> YtResult<()> {
        match (provider, llm_base_url) {
            (ProviderKind::OpenaiCompatible, Some(url)) => {
                let origin = base_url_origin(url).ok_or_else(|| {
                    YtError::invalid_field(
                        ErrorCode::VALIDATION_ERROR,
                        "base_url",
                        "an http(s)://host[:port][/path] URL without credentials, query or fragment",
                        url,
                    )
                })?;
                self.secrets.set_all(&[
                    (provider.as_str(), key),
                    (LLM_KEY_SERVER, &Secret::new(origin)),
                ])
            }
            (ProviderKind::OpenaiCompatible, None) => Err(YtError::invalid_field(
                ErrorCode::VALIDATION_ERROR,
                "base_url",
                "the OpenAI-compatible server the key is for",
                "",
            )),
            (_, None) => self.secrets.set(provider.as_str(), key),
            (_, Some(url)) => Err(YtError::invalid_field(
                ErrorCode::VALIDATION_ERROR,
                "base_url",
                "only with the openai_compatible key",
                url,
            )),
        }
    }

    /// The server the `openai_compatible` key is bound to, if it is stored with one.
    pub fn llm_key_server(&self) -> YtResult<Option<String>> {
        Ok(self
            .secrets
            .get(LLM_KEY_SERVER)?
            .map(|s| s.expose().to_owned()))
    }

    /// Forgets `provider`'s key (and the server the `openai_compatible` key was bound to);
    /// returns whether there was one.
    pub fn delete_key(&self, provider: ProviderKind) -> YtResult<bool> {
        let had = self.secrets.delete(provider.as_str())?;
        if provider == ProviderKind::OpenaiCompatible {
            self.secrets.delete(LLM_KEY_SERVER)?;
        }
        Ok(had)
    }

    /// The tokens of the linked YouTube account `account` (a channel id), or of the default
    /// account when `None`. Which account is fixed at the first use (see
    /// `youtube_accounts::AccountTokens`); one that is not linked is `YOUTUBE_NOT_LINKED`.
    pub fn youtube_tokens(&self, store: &Store, account: Option<&str>) -> Arc<dyn TokenStore> {
        Arc::new(AccountTokens::new(
            self.clone(),
            store.clone(),
            account.map(str::to_owned),
        ))
    }
}

impl Providers {
    /// The providers `project`'s configuration names. A cloud provider without a stored key is
    /// an error here, before anything runs; nothing falls back to a local provider. The YouTube
    /// publisher uses the account the project chose (`youtube.account`) or the default one.
    pub fn for_project(
        project: &Project,
        tools: &Toolchain,
        cloud: &CloudAccess,
        store: &Store,
    ) -> YtResult<Providers> {
        let account = youtube_accounts::chosen_account(project)?;
        Providers::for_config(
            &project.configuration,
            project.llm_model.as_deref(),
            account.as_deref(),
            tools,
            cloud,
            store,
        )
    }

    /// The providers `config` names, publishing to YouTube with `youtube_account` (a channel
    /// id) or, when `None`, the default account.
    pub fn for_config(
        config: &ProjectConfig,
        llm_model: Option<&str>,
        youtube_account: Option<&str>,
        tools: &Toolchain,
        cloud: &CloudAccess,
        store: &Store,
    ) -> YtResult<Providers> {
        let choice = &config.providers;
        let ctx = &cloud.ctx;
        Ok(Providers {
            script: match choice.script {
                ProviderKind::Local => Arc::new(RuleBasedScriptWriter::new()),
                ProviderKind::Gemini => Arc::new(GeminiScriptWriter::new(
                    ctx,
                    cloud.key(ProviderKind::Gemini)?,
                    llm_model.unwrap_or(gemini::DEFAULT_MODEL).to_owned(),
                )),
                ProviderKind::OpenaiCompatible => Arc::new(OpenAiCompatibleScriptWriter::new(
                    ctx,
                    &config.llm,
                    cloud.llm_key(&config.llm)?,
                )),
                other => return Err(misplaced("providers.script", other)),
            },
            narrator: match choice.narration {
                ProviderKind::Local => Arc::new(EspeakNarrator::new(tools.clone())),
                ProviderKind::GoogleTts => Arc::new(GoogleTtsNarrator::new(
                    ctx,
                    cloud.key(ProviderKind::GoogleTts)?,
                    tools.clone(),
                )),
                other => return Err(misplaced("providers.narration", other)),
            },
            illustrator: match choice.images {
                ProviderKind::Local => Arc::new(TitleCardIllustrator::new()),
                ProviderKind::Stability => Arc::new(StabilityIllustrator::new(
                    ctx,
                    cloud.key(ProviderKind::Stability)?,
                    config.images.clone(),
                )),
                other => return Err(misplaced("providers.images", other)),
            },
            presenter: match choice.avatar {
                ProviderKind::Local => Arc::new(LocalPresenter::new(tools.clone())),
                ProviderKind::Did => Arc::new(DidPresenter::new(
                    ctx,
                    cloud.key(ProviderKind::Did)?,
                    tools.clone(),
                )),
                other => return Err(misplaced("providers.avatar", other)),
            },
            publisher: match choice.publish {
                ProviderKind::Local => Arc::new(LocalPublisher::new()),
                ProviderKind::Youtube => Arc::new(YoutubePublisher::new(
                    ctx,
                    cloud.youtube_tokens(store, youtube_account),
                )),
                other => return Err(misplaced("providers.publish", other)),
            },
        })
    }
}

/// A provider named for a capability it does not have; `ProjectConfig::validate` refuses these
/// first, so this is reached only with a configuration that skipped validation.
fn misplaced(field: &str, kind: ProviderKind) -> YtError {
    YtError::invalid_field(
        ErrorCode::CONFIG_INVALID,
        field,
        "a provider of this capability",
        kind.as_str(),
    )
}

/// The providers whose keys are stored in the key store (YouTube's account is linked by login).
pub const KEYED_PROVIDERS: [ProviderKind; 5] = [
    ProviderKind::Gemini,
    ProviderKind::OpenaiCompatible,
    ProviderKind::GoogleTts,
    ProviderKind::Stability,
    ProviderKind::Did,
];

/// Proves a stored key (or the default YouTube account) works with the provider's cheapest real
/// call; returns what the provider said, in a sentence. The OpenAI-compatible server is the one
/// `llm` names (the caller's configuration), with its key when `llm.api_key` names one.
pub async fn test_key(
    cloud: &CloudAccess,
    store: &Store,
    provider: ProviderKind,
    llm: &LlmSettings,
) -> YtResult<String> {
    use ytmaker_providers::cloud::{did, google_tts, stability, youtube};
    let ctx = &cloud.ctx;
    match provider {
        ProviderKind::Gemini => gemini::test_key(ctx, &cloud.key(provider)?).await,
        ProviderKind::OpenaiCompatible => {
            openai_compat::test_key(ctx, llm, cloud.llm_key(llm)?.as_ref()).await
        }
        ProviderKind::GoogleTts => google_tts::test_key(ctx, &cloud.key(provider)?).await,
        ProviderKind::Stability => stability::test_key(ctx, &cloud.key(provider)?).await,
        ProviderKind::Did => did::test_key(ctx, &cloud.key(provider)?).await,
        ProviderKind::Youtube => {
            let channel = youtube::channel(ctx, cloud.youtube_tokens(store, None).as_ref()).await?;
            Ok(format!(
                "linked to the channel \"{}\" ({})",
                channel.title, channel.id
            ))
        }
        ProviderKind::Local => Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "provider",
            "a cloud provider",
            provider.as_str(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(dir: &std::path::Path) -> CloudAccess {
        CloudAccess::new(
            &DataDir::new(dir),
            Endpoints::default(),
            Timeouts::default(),
        )
        .expect("cloud access")
    }

    fn llm(base_url: &str) -> LlmSettings {
        LlmSettings {
            base_url: base_url.into(),
            model: "m".into(),
            api_key: ProviderKind::OpenaiCompatible.as_str().into(),
            ..LlmSettings::default()
        }
    }

    #[test]
    fn the_llm_key_goes_only_to_the_server_it_was_stored_for() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cloud = access(dir.path());
        let key = Secret::new("sk-bound-SECRET-0001");
        cloud
            .set_key(
                ProviderKind::OpenaiCompatible,
                &key,
                Some("https://api.example.com/v1"),
            )
            .expect("stored");
        assert_eq!(
            cloud.llm_key_server().expect("read").as_deref(),
            Some("https://api.example.com:443")
        );
        // The same server under another path, case or explicit port gets the key.
        for same in [
            "https://api.example.com/v1",
            "https://API.example.com:443/v2",
        ] {
            let sent = cloud.llm_key(&llm(same)).expect("same server");
            assert_eq!(
                sent.map(|k| k.expose().to_owned()),
                Some(key.expose().into())
            );
        }
        // Any other origin is refused before anything is sent, naming both servers.
        for other in [
            "https://attacker.example.net/v1",
            "http://api.example.com/v1",
            "https://api.example.com:8443/v1",
        ] {
            let err = cloud.llm_key(&llm(other)).expect_err(other);
            assert_eq!(err.code, ErrorCode::LLM_KEY_FOR_OTHER_SERVER, "{other}");
            assert_eq!(err.details["key_server"], "https://api.example.com:443");
            assert!(!err.to_string().contains(key.expose()));
        }
        // A configuration that names no key sends none, wherever it points.
        let keyless = LlmSettings {
            api_key: String::new(),
            ..llm("https://attacker.example.net/v1")
        };
        assert!(cloud.llm_key(&keyless).expect("no key").is_none());
    }

    #[test]
    fn an_llm_key_stored_without_its_server_is_sent_nowhere() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cloud = access(dir.path());
        // As an earlier version stored it.
        cloud
            .secrets
            .set(
                ProviderKind::OpenaiCompatible.as_str(),
                &Secret::new("sk-old-SECRET"),
            )
            .expect("stored");
        let err = cloud
            .llm_key(&llm("https://api.example.com/v1"))
            .expect_err("unbound");
        assert_eq!(err.code, ErrorCode::LLM_KEY_FOR_OTHER_SERVER);
        assert_eq!(err.details["key_server"], "none");
        // Deleting the key forgets its server too; storing needs one.
        assert!(
            cloud
                .delete_key(ProviderKind::OpenaiCompatible)
                .expect("delete")
        );
        assert_eq!(cloud.llm_key_server().expect("read"), None);
        let err = cloud
            .set_key(ProviderKind::OpenaiCompatible, &Secret::new("sk-x"), None)
            .expect_err("no server");
        assert_eq!(err.code, ErrorCode::VALIDATION_ERROR);
        let err = cloud
            .set_key(
                ProviderKind::Stability,
                &Secret::new("sk-x"),
                Some("https://api.example.com"),
            )
            .expect_err("a server for another key");
        assert_eq!(err.code, ErrorCode::VALIDATION_ERROR);
    }
}
