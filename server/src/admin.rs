//! Server administration from the machine it runs on: `parlor broadcast` posts to
//! `POST /api/admin/broadcast`, authorised by a secret that `parlor serve` writes to
//! `--data/admin.token` (readable by its owner only) and accepted from loopback only.

use crate::hub::Hub;
use app::protocol::{codes, ErrorBody};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

/// The admin secret's file inside `--data`.
pub const TOKEN_FILE: &str = "admin.token";

/// What `POST /api/admin/broadcast` takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BroadcastRequest {
    pub message: String,
    /// One user instead of everyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

#[derive(Clone)]
pub struct Admin {
    pub hub: Arc<Hub>,
    pub token: Arc<str>,
}

/// Makes a new admin secret and writes it to `data/admin.token` (mode 0600).
pub fn write_token(data: &Path) -> std::io::Result<String> {
    let mut raw = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    let token = data_encoding::HEXLOWER.encode(&raw);
    let path = data.join(TOKEN_FILE);
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?;
        f.write_all(token.as_bytes())?;
    }
    #[cfg(not(unix))]
    std::fs::write(&path, token.as_bytes())?;
    Ok(token)
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "error": ErrorBody { code: code.into(), message: message.into() } });
    (status, Json(body)).into_response()
}

pub async fn broadcast(
    State(admin): State<Admin>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == &*admin.token);
    if !peer.ip().is_loopback() || !authorised {
        return error(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "admin requests come from this machine, with the admin token",
        );
    }
    let Ok(req) = serde_json::from_slice::<BroadcastRequest>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            "expected {\"message\": \"…\", \"to\"?: \"user\"}",
        );
    };
    if req.message.trim().is_empty() || req.message.len() > app::protocol::MAX_MESSAGE_BYTES {
        return error(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            "the message is empty or too long",
        );
    }
    match &req.to {
        None => admin.hub.broadcast(&req.message),
        Some(user) => {
            if !admin.hub.notify(user, &req.message) {
                return error(
                    StatusCode::NOT_FOUND,
                    codes::NOT_FOUND,
                    "that user is not connected",
                );
            }
        }
    }
    tracing::info!(to = ?req.to, "admin broadcast");
    (StatusCode::OK, Json(serde_json::json!({"sent": true}))).into_response()
}

/// `parlor broadcast`: sends `req` to the server at `server` with the secret in `data`.
pub async fn send(server: SocketAddr, data: &Path, req: &BroadcastRequest) -> anyhow::Result<()> {
    use anyhow::Context;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let token = std::fs::read_to_string(data.join(TOKEN_FILE)).with_context(|| {
        format!(
            "cannot read {} (is `parlor serve --data {}` running here?)",
            TOKEN_FILE,
            data.display()
        )
    })?;
    let body = serde_json::to_string(req)?;
    let mut stream = tokio::net::TcpStream::connect(server)
        .await
        .with_context(|| format!("cannot reach parlor at {server}"))?;
    let request = format!(
        "POST /api/admin/broadcast HTTP/1.1\r\nHost: {server}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        token.trim(),
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    let status = answer.split_whitespace().nth(1).unwrap_or("");
    if status == "200" {
        Ok(())
    } else {
        let detail = answer.split("\r\n\r\n").nth(1).unwrap_or(&answer);
        anyhow::bail!("parlor refused the broadcast ({status}): {detail}")
    }
}
