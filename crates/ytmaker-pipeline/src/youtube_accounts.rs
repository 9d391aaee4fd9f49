//! The linked YouTube accounts: linking one (after an OAuth login), the default, removal, the
//! import of the single account earlier versions kept, and whose tokens an upload uses.
//!
//! An account is two records: its row in `youtube_accounts` (what may be shown) and its tokens,
//! encrypted in the key store under `youtube:<channel_id>`. Linking writes the tokens first and
//! removing deletes them first, so a row never outlives its tokens unnoticed: a row whose tokens
//! are missing answers `YOUTUBE_NOT_LINKED` when used.
//!
//! Upgrade: versions with one account kept its tokens under `youtube`. The first time the
//! accounts are read (the list, a link, an upload without a chosen account), those tokens are
//! asked for their channel (`channels.list`), stored as that channel's account — the default
//! when none is — and the old entry is deleted. If YouTube refuses them, the error is shown and
//! the old entry stays until it is unlinked (`DELETE /api/v1/youtube/channel`,
//! `ytmaker youtube logout`); nobody has to re-link otherwise.

use std::sync::Mutex;

use async_trait::async_trait;
use ytmaker_core::{ErrorCode, Secret, YtError, YtResult};
use ytmaker_providers::cloud::youtube::{self, ChannelInfo, TokenStore, YoutubeTokens};
use ytmaker_store::{LEGACY_YOUTUBE_SECRET, SecretStore, Store, YoutubeAccount};

use crate::CloudAccess;

/// Records the account `tokens` (a finished login) belong to: reads its channel, stores the
/// tokens under that channel (replacing a previous link's) and upserts its row. The first
/// account linked becomes the default.
pub async fn link(
    cloud: &CloudAccess,
    store: &Store,
    tokens: YoutubeTokens,
) -> YtResult<YoutubeAccount> {
    import_legacy(cloud, store).await?;
    let fresh = FreshTokens(Mutex::new(tokens));
    let channel = checked(youtube::channel(&cloud.ctx, &fresh).await?)?;
    let tokens = fresh.load().await?;
    let account = save(cloud, store, &channel, &tokens).await?;
    tracing::info!(
        channel_id = channel.id.as_str(),
        is_default = account.is_default,
        "youtube account linked"
    );
    Ok(account)
}

/// Every linked account (after importing an earlier version's account).
pub async fn accounts(cloud: &CloudAccess, store: &Store) -> YtResult<Vec<YoutubeAccount>> {
    import_legacy(cloud, store).await?;
    store.youtube_accounts().await
}

/// The linked account `channel_id`, or `NOT_FOUND`.
pub async fn account(
    cloud: &CloudAccess,
    store: &Store,
    channel_id: &str,
) -> YtResult<YoutubeAccount> {
    import_legacy(cloud, store).await?;
    store
        .youtube_account(channel_id)
        .await?
        .ok_or_else(|| ytmaker_store::account_not_found(channel_id))
}

/// Unlinks `channel_id`: its tokens, then its row. Returns the default afterwards (another
/// account when the default was removed, none when it was the last).
pub async fn remove(
    cloud: &CloudAccess,
    store: &Store,
    channel_id: &str,
) -> YtResult<Option<YoutubeAccount>> {
    account(cloud, store, channel_id).await?;
    cloud
        .secrets
        .delete(&ytmaker_store::youtube_secret_name(channel_id)?)?;
    let default = store.remove_youtube_account(channel_id).await?;
    tracing::info!(channel_id, "youtube account unlinked");
    Ok(default)
}

/// Unlinks an earlier version's account that was never imported, without asking YouTube (for
/// tokens YouTube refuses, which cannot be imported). Returns whether there was one.
pub fn remove_legacy(cloud: &CloudAccess) -> YtResult<bool> {
    let had = cloud.secrets.delete(LEGACY_YOUTUBE_SECRET)?;
    if had {
        tracing::info!("the youtube account of an earlier version was unlinked");
    }
    Ok(had)
}

/// Imports the account an earlier version kept under `youtube`, if there is one.
pub async fn import_legacy(cloud: &CloudAccess, store: &Store) -> YtResult<Option<YoutubeAccount>> {
    if cloud.secrets.get(LEGACY_YOUTUBE_SECRET)?.is_none() {
        return Ok(None);
    }
    let legacy = LegacyTokens(cloud.secrets.clone());
    let channel = checked(youtube::channel(&cloud.ctx, &legacy).await?)?;
    // The channel call may have refreshed them: the stored ones are the newest.
    let tokens = legacy.load().await?;
    let account = save(cloud, store, &channel, &tokens).await?;
    cloud.secrets.delete(LEGACY_YOUTUBE_SECRET)?;
    tracing::info!(
        channel_id = channel.id.as_str(),
        "the youtube account of an earlier version was imported"
    );
    Ok(Some(account))
}

async fn save(
    cloud: &CloudAccess,
    store: &Store,
    channel: &ChannelInfo,
    tokens: &YoutubeTokens,
) -> YtResult<YoutubeAccount> {
    let name = ytmaker_store::youtube_secret_name(&channel.id)?;
    cloud
        .secrets
        .set(&name, &Secret::new(tokens.to_store_json()))?;
    store
        .link_youtube_account(&channel.id, &channel.title)
        .await
}

/// A channel id names a key-store entry, so one of another shape is refused as YouTube's error.
fn checked(channel: ChannelInfo) -> YtResult<ChannelInfo> {
    if ytmaker_core::youtube::is_channel_id(&channel.id) {
        Ok(channel)
    } else {
        Err(YtError::new(
            ErrorCode::YOUTUBE_INVALID_RESPONSE,
            "channels.list answered a channel id that is not UC and 22 characters",
        )
        .detail("channel_id", channel.id))
    }
}

fn not_linked(message: String) -> YtError {
    YtError::new(ErrorCode::YOUTUBE_NOT_LINKED, message)
}

/// The tokens of one linked account, for the publisher and the channel route. The account is
/// chosen once, at the first use, and kept: an upload and its thumbnail go to the same channel
/// even if the default changes meanwhile. A chosen account that is not linked is
/// `YOUTUBE_NOT_LINKED` — never another account.
pub(crate) struct AccountTokens {
    cloud: CloudAccess,
    store: Store,
    chosen: Option<String>,
    pinned: Mutex<Option<String>>,
}

impl AccountTokens {
    pub(crate) fn new(cloud: CloudAccess, store: Store, chosen: Option<String>) -> Self {
        AccountTokens {
            cloud,
            store,
            chosen,
            pinned: Mutex::new(None),
        }
    }

    async fn channel_id(&self) -> YtResult<String> {
        if let Some(id) = lock(&self.pinned).clone() {
            return Ok(id);
        }
        let resolved = match &self.chosen {
            Some(id) => {
                self.store
                    .youtube_account(id)
                    .await?
                    .ok_or_else(|| {
                        not_linked(format!(
                            "the YouTube account {id} chosen for this project is not linked"
                        ))
                        .detail("account", id.as_str())
                    })?
                    .channel_id
            }
            None => {
                import_legacy(&self.cloud, &self.store).await?;
                self.store
                    .default_youtube_account()
                    .await?
                    .ok_or_else(|| not_linked("no YouTube account is linked".into()))?
                    .channel_id
            }
        };
        Ok(lock(&self.pinned).get_or_insert(resolved).clone())
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[async_trait]
impl TokenStore for AccountTokens {
    async fn load(&self) -> YtResult<YoutubeTokens> {
        let id = self.channel_id().await?;
        match self
            .cloud
            .secrets
            .get(&ytmaker_store::youtube_secret_name(&id)?)?
        {
            Some(json) => YoutubeTokens::from_store_json(json.expose()),
            None => Err(not_linked(format!(
                "the tokens of the YouTube account {id} are not in the key store; link it again"
            ))
            .detail("account", id)),
        }
    }

    async fn save(&self, tokens: &YoutubeTokens) -> YtResult<()> {
        let id = self.channel_id().await?;
        self.cloud.secrets.set(
            &ytmaker_store::youtube_secret_name(&id)?,
            &Secret::new(tokens.to_store_json()),
        )
    }
}

/// The tokens an earlier version kept under `youtube`.
struct LegacyTokens(SecretStore);

#[async_trait]
impl TokenStore for LegacyTokens {
    async fn load(&self) -> YtResult<YoutubeTokens> {
        match self.0.get(LEGACY_YOUTUBE_SECRET)? {
            Some(json) => YoutubeTokens::from_store_json(json.expose()),
            None => Err(not_linked("no YouTube account is linked".into())),
        }
    }

    async fn save(&self, tokens: &YoutubeTokens) -> YtResult<()> {
        self.0
            .set(LEGACY_YOUTUBE_SECRET, &Secret::new(tokens.to_store_json()))
    }
}

/// A login's tokens before it is known which channel they belong to.
struct FreshTokens(Mutex<YoutubeTokens>);

#[async_trait]
impl TokenStore for FreshTokens {
    async fn load(&self) -> YtResult<YoutubeTokens> {
        Ok(lock(&self.0).clone())
    }

    async fn save(&self, tokens: &YoutubeTokens) -> YtResult<()> {
        *lock(&self.0) = tokens.clone();
        Ok(())
    }
}

/// The account a project chose, for [`CloudAccess::youtube_tokens`]: its stored YouTube
/// settings' `account`, `None` for the default.
pub fn chosen_account(project: &ytmaker_store::Project) -> YtResult<Option<String>> {
    Ok(project_youtube_settings(project)?.and_then(|s| s.chosen_account().map(str::to_owned)))
}

/// A project's stored YouTube settings.
pub fn project_youtube_settings(
    project: &ytmaker_store::Project,
) -> YtResult<Option<ytmaker_core::youtube::YoutubeSettings>> {
    project
        .youtube_settings
        .clone()
        .map(serde_json::from_value::<ytmaker_core::youtube::YoutubeSettings>)
        .transpose()
        .map_err(|e| {
            YtError::new(
                ErrorCode::DATABASE_ERROR,
                format!("the stored YouTube settings do not parse: {e}"),
            )
        })
}
