//! `ytmaker keys …` and `ytmaker youtube …`: the cloud providers' keys and the linked YouTube
//! account, kept in the encrypted key store. A key is read from standard input, never from the
//! command line (where other users of the machine could read it in the process list), and only
//! its masked hint is ever printed.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use ytmaker_core::config::ProviderKind;
use ytmaker_core::{ErrorCode, Secret, TraceId, YtError, YtResult};
use ytmaker_pipeline::CloudAccess;
use ytmaker_providers::cloud::youtube;

use crate::settings::Settings;
use crate::{exit_code_for, report};

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum KeyProvider {
    Gemini,
    /// The OpenAI-compatible chat API of the `[llm]` section (OpenAI, DeepSeek, Qwen, …).
    OpenaiCompatible,
    GoogleTts,
    Stability,
    Did,
}

impl KeyProvider {
    fn kind(self) -> ProviderKind {
        match self {
            KeyProvider::Gemini => ProviderKind::Gemini,
            KeyProvider::OpenaiCompatible => ProviderKind::OpenaiCompatible,
            KeyProvider::GoogleTts => ProviderKind::GoogleTts,
            KeyProvider::Stability => ProviderKind::Stability,
            KeyProvider::Did => ProviderKind::Did,
        }
    }
}

#[derive(clap::Subcommand)]
pub enum KeysAction {
    /// Store a provider's key, read from standard input.
    Set {
        provider: KeyProvider,
        /// openai-compatible only: the server the key is for (default: the configuration's
        /// `[llm].base_url`). The key is sent to that server (scheme, host, port) and no other.
        #[arg(long)]
        base_url: Option<String>,
    },
    /// Check a stored key with the provider's cheapest real call (openai-compatible: lists the
    /// models of the `[llm]` server, with its key when `llm.api_key` names one).
    Test {
        provider: KeyProvider,
    },
    /// Show which keys are stored (masked).
    List,
    Delete {
        provider: KeyProvider,
    },
    /// List the Gemini models that can write scripts (a project's `llm_model`).
    Models,
}

#[derive(clap::Subcommand)]
pub enum YoutubeAction {
    /// Link a YouTube account: prints a Google sign-in URL and waits for its answer on a loopback
    /// port (OAuth installed-app flow with PKCE). The client secret, if the OAuth client has one,
    /// is read from $YTMAKER_YOUTUBE_CLIENT_SECRET.
    Login {
        #[arg(long, env = "YTMAKER_YOUTUBE_CLIENT_ID")]
        client_id: String,
        /// Loopback port for Google's redirect (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// How long to wait for the sign-in, in seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// Show the default account's channel (a real call to YouTube).
    Status,
    /// Forget the default account (another one becomes the default), or the account an
    /// earlier version linked if it could not be imported.
    Logout,
    /// List the linked accounts (channel id, title, when linked, which is the default).
    Accounts {
        #[arg(long)]
        json: bool,
    },
    /// Make a linked account the default (used by projects that chose none).
    Default { channel_id: String },
    /// Forget a linked account and its tokens.
    Remove { channel_id: String },
}

fn finish(result: YtResult<()>, settings: &Settings, trace: &TraceId) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    }
}

pub async fn keys(settings: &Settings, trace: &TraceId, action: KeysAction) -> ExitCode {
    let result = async {
        let cloud = CloudAccess::from_env(&settings.data)?;
        match action {
            KeysAction::Set { provider, base_url } => {
                let kind = provider.kind();
                let server = match (kind, base_url) {
                    (ProviderKind::OpenaiCompatible, None) => Some(
                        crate::settings::load_project_config(settings, None)?
                            .llm
                            .base_url,
                    ),
                    (_, url) => url,
                };
                let key = read_secret_line()?;
                cloud.set_key(kind, &key, server.as_deref())?;
                tracing::info!(
                    provider = kind.as_str(),
                    server = server.as_deref(),
                    "key stored"
                );
                match cloud
                    .llm_key_server()?
                    .filter(|_| kind == ProviderKind::OpenaiCompatible)
                {
                    Some(server) => println!(
                        "stored the {} key {}, sent only to {server}",
                        kind.as_str(),
                        key.hint()
                    ),
                    None => println!("stored the {} key {}", kind.as_str(), key.hint()),
                }
            }
            KeysAction::Test { provider } => {
                let store = ytmaker_store::Store::open(&settings.database_url).await?;
                let cloud = cloud.recording_calls(&store);
                let llm = crate::settings::load_project_config(settings, None)?.llm;
                let said = ytmaker_pipeline::test_key(&cloud, &store, provider.kind(), &llm).await;
                cloud.flush_call_records().await;
                println!("{}: {}", provider.kind().as_str(), said?);
            }
            KeysAction::List => {
                let stored = cloud.secrets.list()?;
                let llm_server = cloud.llm_key_server()?;
                for kind in ytmaker_pipeline::KEYED_PROVIDERS
                    .iter()
                    .chain([&ProviderKind::Youtube])
                {
                    // YouTube accounts are stored under `youtube:<channel id>`.
                    let hint = stored.iter().find(|h| {
                        h.name == kind.as_str()
                            || (*kind == ProviderKind::Youtube && h.name.starts_with("youtube:"))
                    });
                    let shown = match (kind, hint) {
                        (ProviderKind::Youtube, Some(_)) => "account linked".to_owned(),
                        (ProviderKind::OpenaiCompatible, Some(h)) => match &llm_server {
                            Some(server) => format!("{}, sent only to {server}", h.hint),
                            None => format!("{}, bound to no server: store it again", h.hint),
                        },
                        (_, Some(h)) => h.hint.clone(),
                        (_, None) => "not set".to_owned(),
                    };
                    println!("{:<17} {shown}", kind.as_str());
                }
            }
            KeysAction::Models => {
                use ytmaker_providers::cloud::gemini;
                let key = cloud.key(ProviderKind::Gemini)?;
                for m in gemini::list_models(&cloud.ctx, &key).await? {
                    let mark = if m.name == gemini::DEFAULT_MODEL {
                        " (default)"
                    } else {
                        ""
                    };
                    println!("{:<32} {}{mark}", m.name, m.display_name);
                }
            }
            KeysAction::Delete { provider } => {
                let had = cloud.delete_key(provider.kind())?;
                tracing::info!(provider = provider.kind().as_str(), had, "key deleted");
                println!(
                    "{}",
                    if had {
                        "deleted"
                    } else {
                        "there was no key to delete"
                    }
                );
            }
        }
        Ok(())
    }
    .await;
    finish(result, settings, trace)
}

/// One line from standard input; a terminal is told what to type.
fn read_secret_line() -> YtResult<Secret> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("paste the key and press Enter:");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| {
        YtError::new(
            ErrorCode::VALIDATION_ERROR,
            format!("cannot read the key from standard input: {e}"),
        )
        .detail("field", "key")
    })?;
    let key = line.trim();
    if key.is_empty() {
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "key",
            "not empty (give it on standard input)",
            "",
        ));
    }
    Ok(Secret::new(key))
}

pub async fn youtube(settings: &Settings, trace: &TraceId, action: YoutubeAction) -> ExitCode {
    let result = async {
        let store = ytmaker_store::Store::open(&settings.database_url).await?;
        let cloud = CloudAccess::from_env(&settings.data)?.recording_calls(&store);
        let done = youtube_action(&cloud, &store, action).await;
        cloud.flush_call_records().await;
        done
    }
    .await;
    finish(result, settings, trace)
}

async fn youtube_action(
    cloud: &CloudAccess,
    store: &ytmaker_store::Store,
    action: YoutubeAction,
) -> YtResult<()> {
    use ytmaker_pipeline::youtube_accounts;
    {
        match action {
            YoutubeAction::Login {
                client_id,
                port,
                timeout,
            } => {
                let secret = std::env::var("YTMAKER_YOUTUBE_CLIENT_SECRET")
                    .ok()
                    .filter(|s| !s.is_empty())
                    .map(Secret::new);
                login(
                    cloud,
                    store,
                    &client_id,
                    secret.as_ref(),
                    port,
                    Duration::from_secs(timeout),
                )
                .await
            }
            YoutubeAction::Status => {
                let said = ytmaker_pipeline::test_key(
                    cloud,
                    store,
                    ProviderKind::Youtube,
                    &ytmaker_core::config::LlmSettings::default(),
                )
                .await?;
                println!("youtube: {said}");
                Ok(())
            }
            YoutubeAction::Accounts { json } => {
                let accounts = youtube_accounts::accounts(cloud, store).await?;
                if json {
                    crate::alerts::print_json(&accounts)?;
                } else if accounts.is_empty() {
                    println!("no YouTube account is linked (ytmaker youtube login)");
                } else {
                    for a in &accounts {
                        let mark = if a.is_default { "*" } else { " " };
                        println!(
                            "{mark} {}  {}  linked {}",
                            a.channel_id, a.channel_title, a.linked_at
                        );
                    }
                    println!("(* the default account)");
                }
                Ok(())
            }
            YoutubeAction::Default { channel_id } => {
                youtube_accounts::account(cloud, store, &channel_id).await?;
                let account = store.set_default_youtube_account(&channel_id).await?;
                tracing::info!(
                    channel_id = channel_id.as_str(),
                    "default youtube account set"
                );
                println!(
                    "the default account is now \"{}\" ({})",
                    account.channel_title, account.channel_id
                );
                Ok(())
            }
            YoutubeAction::Remove { channel_id } => {
                let default = youtube_accounts::remove(cloud, store, &channel_id).await?;
                println!("unlinked {channel_id}");
                print_default(default.as_ref());
                Ok(())
            }
            YoutubeAction::Logout => {
                if youtube_accounts::remove_legacy(cloud)? {
                    println!("unlinked the account linked by an earlier version");
                    return Ok(());
                }
                match store.default_youtube_account().await? {
                    Some(account) => {
                        let default =
                            youtube_accounts::remove(cloud, store, &account.channel_id).await?;
                        println!("unlinked {}", account.channel_id);
                        print_default(default.as_ref());
                    }
                    None => println!("no account was linked"),
                }
                Ok(())
            }
        }
    }
}

fn print_default(default: Option<&ytmaker_store::YoutubeAccount>) {
    match default {
        Some(a) => println!(
            "the default account is \"{}\" ({})",
            a.channel_title, a.channel_id
        ),
        None => println!("no YouTube account is linked now"),
    }
}

fn login_failed(message: impl Into<String>) -> YtError {
    YtError::new(ErrorCode::YOUTUBE_LOGIN_FAILED, message)
}

async fn login(
    cloud: &CloudAccess,
    store: &ytmaker_store::Store,
    client_id: &str,
    client_secret: Option<&Secret>,
    port: u16,
    timeout: Duration,
) -> YtResult<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| {
            login_failed(format!(
                "cannot listen on 127.0.0.1:{port} for the sign-in answer: {e}"
            ))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| login_failed(format!("no local address: {e}")))?;
    let redirect_uri = format!("http://{addr}/callback");
    let request = youtube::begin_login(&cloud.ctx, client_id, &redirect_uri);
    println!(
        "Open this URL in a browser and allow access:\n\n  {}\n",
        request.authorize_url
    );
    println!("waiting for the answer on {redirect_uri} …");
    let target = tokio::time::timeout(timeout, wait_for_callback(&listener))
        .await
        .map_err(|_| login_failed(format!("no sign-in answer within {} s", timeout.as_secs())))??;
    let answer = youtube::parse_redirect(&target)?;
    let (state, code) = (&answer.state, &answer.code);
    let tokens =
        youtube::finish_login(&cloud.ctx, &request, client_id, client_secret, state, code).await?;
    let account = ytmaker_pipeline::youtube_accounts::link(cloud, store, tokens).await?;
    println!(
        "linked to the channel \"{}\" ({}){}",
        account.channel_title,
        account.channel_id,
        if account.is_default {
            ", the default account"
        } else {
            ""
        }
    );
    Ok(())
}

/// Serves the loopback redirect: answers the first `GET /callback?…` and returns its target.
async fn wait_for_callback(listener: &tokio::net::TcpListener) -> YtResult<String> {
    loop {
        let (mut socket, _) = listener
            .accept()
            .await
            .map_err(|e| login_failed(format!("cannot accept the sign-in answer: {e}")))?;
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
            let n = socket
                .read(&mut buf)
                .await
                .map_err(|e| login_failed(format!("cannot read the sign-in answer: {e}")))?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8_lossy(&head);
        let target = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("")
            .to_owned();
        if !target.starts_with("/callback?") {
            write_page(&mut socket, "404 Not Found", "Not the sign-in answer.").await;
            continue;
        }
        let page = if target.contains("code=") {
            "Signed in. You can close this tab and return to ytmaker."
        } else {
            "The sign-in did not complete. See ytmaker's output."
        };
        write_page(&mut socket, "200 OK", page).await;
        return Ok(target);
    }
}

async fn write_page(socket: &mut tokio::net::TcpStream, status: &str, text: &str) {
    let body = format!("<!DOCTYPE html><meta charset=utf-8><title>ytmaker</title><p>{text}</p>");
    let answer = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser tab is a courtesy; the login goes on (or fails) on what was already read.
    if let Err(e) = socket.write_all(answer.as_bytes()).await {
        tracing::warn!("could not answer the browser after sign-in: {e}");
    }
}
