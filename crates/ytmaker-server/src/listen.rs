//! The accept loop, in place of `axum::serve`, for two reasons:
//! - hyper's HTTP/1 header-count limit is raised above the API's own
//!   (`middleware::MAX_HEADERS`), so a request with too many headers reaches
//!   `middleware::observe` and gets the JSON error, a trace id and a log line;
//! - a connection hyper refuses before any of our code runs (a malformed request line, a URI or
//!   headers past hyper's hard limits) is logged with a trace id and its code instead of
//!   vanishing. hyper still writes that answer itself, with an empty body.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use ytmaker_core::{ErrorCode, TraceId};

/// Headers hyper reads before it refuses a request itself: well above what the API allows, so
/// that the API is the one that refuses.
const HYPER_MAX_HEADERS: usize = 1024;

/// Serves `app` on `listener` (HTTP/1.1, with upgrades for the WebSocket) until `stop`
/// resolves, then lets the requests in progress finish.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    // Every connection holds a receiver: a send asks them to finish, and `closed` is when the
    // last one has.
    let (stopping, stop_seen) = watch::channel(());
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(connection) => connection,
                Err(e) => {
                    // Out of file descriptors, say: the listener itself is fine, and the next
                    // accept may succeed once a connection closes.
                    tracing::error!(
                        error_code = %ErrorCode::FILE_SYSTEM_ERROR,
                        "cannot accept a connection: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let mut stop_seen = stop_seen.clone();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .max_headers(HYPER_MAX_HEADERS)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                _ = stop_seen.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                log_refused(peer, &e);
            }
        });
    }
    drop(stop_seen);
    // No receiver left: every connection has ended (the send's error says only that).
    if stopping.send(()).is_ok() {
        stopping.closed().await;
    }
    Ok(())
}

/// One log line for a connection that ended in an error: a request hyper refused is a warning
/// with the code the API would have used; a client that went away is only a debug line.
fn log_refused(peer: SocketAddr, e: &hyper::Error) {
    let code = if e.is_parse_too_large() {
        Some(ErrorCode::REQUEST_HEADERS_TOO_LARGE)
    } else if e.is_parse() {
        Some(ErrorCode::REQUEST_MALFORMED)
    } else {
        None
    };
    match code {
        Some(code) => tracing::warn!(
            trace_id = %TraceId::generate(),
            error_code = %code,
            peer = %peer,
            "request refused by the HTTP layer before the API could read it: {e}"
        ),
        None => tracing::debug!(peer = %peer, "connection ended: {e}"),
    }
}
