//! `ytmaker serve` and `ytmaker worker`: the API server with its workers, or workers alone.

use super::*;

/// The web UI to serve: the folder given, else `web/dist` of the repository the server is started
/// in when the UI is built there. A folder given without `index.html` is refused rather than
/// served as an empty site.
fn resolve_ui_dir(given: Option<PathBuf>) -> YtResult<Option<PathBuf>> {
    match given {
        Some(dir) => {
            let index = dir.join("index.html");
            std::fs::metadata(&index).map_err(|e| {
                YtError::io("read the web UI's", &index, &e)
                    .detail("hint", "build the UI with `make web`")
            })?;
            Ok(Some(dir))
        }
        None => {
            let built = PathBuf::from("web/dist");
            Ok(built.join("index.html").is_file().then_some(built))
        }
    }
}

async fn start_server(
    settings: &Settings,
    bind: std::net::IpAddr,
    port: u16,
    token: Option<String>,
    workers: usize,
    ui_dir: Option<PathBuf>,
) -> YtResult<ytmaker_server::RunningServer> {
    let store = open_store(settings).await?;
    let tools = Toolchain::locate()?;
    let default_config = load_project_config(settings, None)?;
    let workers = if workers == 0 {
        None
    } else {
        Some(worker_config(workers)?)
    };
    ytmaker_server::start(ytmaker_server::ServerConfig {
        bind,
        port,
        token,
        store,
        data: settings.data.clone(),
        tools,
        lang: settings.lang,
        default_config,
        workers,
        ui_dir: resolve_ui_dir(ui_dir)?,
        cloud: ytmaker_pipeline::CloudAccess::from_env(&settings.data)?,
        retry_delay_scale: DelayScale::from_env()?,
        monitoring: settings::load_monitor_config(settings)?,
        quotas: settings::load_quota_limits(settings)?,
    })
    .await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn serve(
    settings: &Settings,
    trace: &TraceId,
    bind: std::net::IpAddr,
    port: u16,
    token: Option<String>,
    workers: usize,
    ui_dir: Option<PathBuf>,
) -> ExitCode {
    let started = start_server(settings, bind, port, token.clone(), workers, ui_dir).await;
    let server = match started {
        Ok(s) => s,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    // The address line is the contract with scripts and tests that start the server.
    println!("listening on http://{}", server.addr);
    if let Some(token) = token.as_deref().filter(|t| !t.is_empty()) {
        println!(
            "{}",
            sign_in_hint(server.addr, token, std::io::stdout().is_terminal())
        );
    }
    wait_for_stop_signal().await;
    tracing::info!("stopping the server");
    match server.stop().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    }
}

/// `ytmaker mcp`: the MCP tools over stdin/stdout for an agent that starts this process, with
/// workers that run its projects and, on loopback, the REST API and web UI (so the result files'
/// URLs work). Stdout carries only the protocol: the address goes to stderr, logs to the files.
pub(crate) async fn mcp(
    settings: &Settings,
    trace: &TraceId,
    port: u16,
    workers: usize,
) -> ExitCode {
    let loopback = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    let server = match start_server(settings, loopback, port, None, workers, None).await {
        Ok(s) => s,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    eprintln!(
        "ytmaker MCP server on stdio; files at http://{}",
        server.addr
    );
    let served = server.serve_mcp_stdio().await;
    let stopped = server.stop().await;
    let fail =
        |err: &YtError| report::fail(err, trace, None, settings.lang, exit_code_for(err.code));
    match (served, stopped) {
        (Ok(()), Ok(())) => ExitCode::SUCCESS,
        (Err(err), Ok(())) | (Ok(()), Err(err)) => fail(&err),
        // Both are reported; the session's failure decides the exit code.
        (Err(session), Err(stop)) => {
            fail(&stop);
            fail(&session)
        }
    }
}

/// What `serve` prints under its address when it has an access token: on a terminal, the UI
/// address with the token in its fragment (`#access_token=…`), which the browser keeps to itself
/// — the page reads it, stores it and removes it from the address bar — so one click signs in.
/// The user at that terminal holds the token already (they passed it). When stdout is not a
/// terminal (a service manager's journal, a container log, a file) it is a log by another name,
/// kept and readable by others, so then only the address and where the token comes from.
fn sign_in_hint(addr: std::net::SocketAddr, token: &str, to_terminal: bool) -> String {
    // A server on every interface is opened here as loopback (other machines use its name).
    let host = if addr.ip().is_unspecified() {
        std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), addr.port())
    } else {
        addr
    };
    if to_terminal {
        format!(
            "open the web UI (signed in): http://{host}/#access_token={}",
            fragment_encode(token)
        )
    } else {
        format!(
            "open the web UI at http://{host}/ and sign in with the access token this server was started with (--token or YTMAKER_SERVER_TOKEN)"
        )
    }
}

/// Percent-encodes everything but unreserved characters, as `encodeURIComponent` does, so the
/// page's `decodeURIComponent` gives the token back exactly.
fn fragment_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) async fn worker(settings: &Settings, trace: &TraceId, workers: usize) -> ExitCode {
    let started: YtResult<ytmaker_pipeline::WorkerPool> = async {
        let store = open_store(settings).await?;
        let tools = Toolchain::locate()?;
        let cloud =
            ytmaker_pipeline::CloudAccess::from_env(&settings.data)?.recording_calls(&store);
        Ok(ytmaker_pipeline::WorkerPool::start(
            ytmaker_pipeline::WorkerContext {
                store,
                data: settings.data.clone(),
                tools,
                lang: settings.lang,
                wakeup: ytmaker_pipeline::control::Wakeup::default(),
                cloud,
                retry_delay_scale: DelayScale::from_env()?,
            },
            worker_config(workers.max(1))?,
        ))
    }
    .await;
    let pool = match started {
        Ok(p) => p,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    println!("worker running ({} at once)", workers.max(1));
    wait_for_stop_signal().await;
    pool.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod ui_dir_tests {
    use super::resolve_ui_dir;
    use ytmaker_core::ErrorCode;

    #[test]
    fn a_given_ui_folder_must_hold_a_built_ui() {
        let dir = tempfile::tempdir().unwrap();
        let err = resolve_ui_dir(Some(dir.path().to_owned())).unwrap_err();
        assert_eq!(err.code, ErrorCode::FILE_NOT_FOUND);
        assert!(err.message.contains("index.html"), "{}", err.message);
        std::fs::write(dir.path().join("index.html"), "<!doctype html>").unwrap();
        assert_eq!(
            resolve_ui_dir(Some(dir.path().to_owned())).unwrap(),
            Some(dir.path().to_owned())
        );
    }

    #[test]
    fn without_a_built_ui_in_the_working_folder_none_is_served() {
        // Tests run in crates/ytmaker-cli, which has no web/dist.
        assert_eq!(resolve_ui_dir(None).unwrap(), None);
    }
}

#[cfg(test)]
mod sign_in_hint_tests {
    use super::sign_in_hint;

    #[test]
    fn a_terminal_gets_a_link_that_signs_in_and_anything_else_never_gets_the_token() {
        let addr: std::net::SocketAddr = "0.0.0.0:8000".parse().unwrap();
        let link = sign_in_hint(addr, "a b&c/é", true);
        // In the fragment (never sent to the server), encoded as `encodeURIComponent` would.
        assert!(
            link.ends_with("http://127.0.0.1:8000/#access_token=a%20b%26c%2F%C3%A9"),
            "{link}"
        );
        let logged = sign_in_hint(addr, "a b&c/é", false);
        assert!(logged.contains("http://127.0.0.1:8000/"), "{logged}");
        assert!(!logged.contains("access_token="), "{logged}");
        assert!(!logged.contains("a b&c"), "{logged}");
        let bound: std::net::SocketAddr = "192.168.1.5:9000".parse().unwrap();
        assert!(sign_in_hint(bound, "t", true).contains("http://192.168.1.5:9000/#access_token=t"));
    }
}
