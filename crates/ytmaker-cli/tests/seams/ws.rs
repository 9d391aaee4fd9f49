//! Reads the first message of the progress WebSocket (the `snapshot`), with a plain RFC 6455
//! client over a TCP stream: the handshake, then frames until one whole text message. Kept here
//! (about sixty lines) rather than adding a WebSocket crate to the CLI's dev-dependencies, which
//! other people edit concurrently.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// `addr` is `host:port`, `path` the request target. Returns the first text message as JSON.
pub async fn first_message(addr: &str, path: &str) -> Result<Value, String> {
    tokio::time::timeout(Duration::from_secs(15), read_first(addr, path))
        .await
        .map_err(|_| format!("no WebSocket message from {path} within 15 s"))?
}

async fn read_first(addr: &str, path: &str) -> Result<Value, String> {
    let mut s = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: c2VhbXMtbW9kZWwtdGVzdA==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(request.as_bytes())
        .await
        .map_err(|e| format!("send handshake: {e}"))?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let b = s
            .read_u8()
            .await
            .map_err(|e| format!("read handshake: {e}"))?;
        head.push(b);
        if head.len() > 16 * 1024 {
            return Err("handshake answer too long".into());
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    if !head.starts_with("HTTP/1.1 101") {
        return Err(format!(
            "WebSocket refused: {}",
            head.lines().next().unwrap_or("")
        ));
    }
    let mut message = Vec::new();
    loop {
        let b0 = s.read_u8().await.map_err(|e| format!("read frame: {e}"))?;
        let b1 = s.read_u8().await.map_err(|e| format!("read frame: {e}"))?;
        let (fin, opcode) = (b0 & 0x80 != 0, b0 & 0x0F);
        let mut len = u64::from(b1 & 0x7F);
        if len == 126 {
            len = u64::from(s.read_u16().await.map_err(|e| e.to_string())?);
        } else if len == 127 {
            len = s.read_u64().await.map_err(|e| e.to_string())?;
        }
        let mask = if b1 & 0x80 != 0 {
            let mut m = [0u8; 4];
            s.read_exact(&mut m).await.map_err(|e| e.to_string())?;
            Some(m)
        } else {
            None
        };
        if len > 64 * 1024 * 1024 {
            return Err(format!("frame of {len} bytes"));
        }
        let mut payload = vec![0u8; len as usize];
        s.read_exact(&mut payload)
            .await
            .map_err(|e| format!("read payload: {e}"))?;
        if let Some(m) = mask {
            for (i, b) in payload.iter_mut().enumerate() {
                *b ^= m[i % 4];
            }
        }
        match opcode {
            0x1 | 0x0 => {
                message.extend_from_slice(&payload);
                if fin {
                    return serde_json::from_slice(&message)
                        .map_err(|e| format!("WebSocket message is not JSON: {e}"));
                }
            }
            0x8 => return Err("WebSocket closed before its first message".into()),
            _ => {} // ping, pong
        }
    }
}
