//! Server administration from the machine it runs on: `parlor broadcast` posts to
//! `POST /api/admin/broadcast`, authorised by a secret that `parlor serve` writes to
//! `--data/admin.token` (readable by its owner only) and accepted from loopback only.
//!
//! A server that speaks TLS also writes the certificate chain it serves to
//! `--data/admin.tls.pem`; `parlor broadcast` then speaks HTTPS (hyper over rustls)
//! and trusts exactly that chain, so the secret only ever goes to that server.

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
/// The certificate chain a TLS server serves, inside `--data` (absent without TLS).
pub const TLS_PIN_FILE: &str = "admin.tls.pem";

/// Records how `parlor broadcast` reaches this server: with TLS, a copy of the served
/// certificate chain (`cert`); without, no pin file.
pub fn write_tls_pin(data: &Path, cert: Option<&Path>) -> std::io::Result<()> {
    let pin = data.join(TLS_PIN_FILE);
    match cert {
        Some(cert) => std::fs::copy(cert, &pin).map(|_| ()),
        None => match std::fs::remove_file(&pin) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        },
    }
}

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
    /// Where other devices open this server: `scheme://lan-address:port` (the first
    /// of the start-up banner's URLs), for the links `parlor invite` prints.
    pub base: Arc<str>,
}

/// Makes a new admin secret and writes it to `data/admin.token` (mode 0600).
pub fn write_token(data: &Path) -> std::io::Result<String> {
    let mut raw = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    let token = data_encoding::HEXLOWER.encode(&raw);
    let path = data.join(TOKEN_FILE);
    // An older file may be readable by others: tighten it before the new secret goes in.
    crate::private::file(&path)?;
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

/// Compares a presented secret with the admin token in constant time (no timing
/// tells how many leading characters were right).
fn same_secret(given: &str, token: &str) -> bool {
    use subtle::ConstantTimeEq;
    given.as_bytes().ct_eq(token.as_bytes()).into()
}

pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "error": ErrorBody { code: code.into(), message: message.into() } });
    (status, Json(body)).into_response()
}

/// Admin requests come from this machine (loopback), with the admin token: the
/// refusal to answer when this one does not.
pub(crate) fn refusal(admin: &Admin, peer: SocketAddr, headers: &HeaderMap) -> Option<Response> {
    let authorised = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| same_secret(t.trim(), &admin.token));
    (!peer.ip().is_loopback() || !authorised).then(|| {
        error(
            StatusCode::FORBIDDEN,
            codes::FORBIDDEN,
            "admin requests come from this machine, with the admin token",
        )
    })
}

/// A console request's JSON body, once the request passed [`refusal`]'s check: the
/// request, or the answer refusing it (`expected` names the fields wanted).
pub(crate) fn console_request<T: serde::de::DeserializeOwned>(
    admin: &Admin,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
    expected: &str,
) -> Result<T, Box<Response>> {
    if let Some(refused) = refusal(admin, peer, headers) {
        return Err(Box::new(refused));
    }
    serde_json::from_slice(body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            codes::BAD_REQUEST,
            &format!("expected {expected}: {e}"),
        ))
    })
}

/// The hub's refusal of a console request, as an HTTP answer with its status.
pub(crate) fn refused(refusal: &crate::domain::Refusal) -> Response {
    use crate::domain::Refusal;
    let status = match refusal {
        Refusal::BadRequest(_) => StatusCode::BAD_REQUEST,
        Refusal::Unauthorized | Refusal::AuthFailed => StatusCode::UNAUTHORIZED,
        Refusal::NotFound(_) => StatusCode::NOT_FOUND,
        Refusal::Forbidden(_) | Refusal::NotAllowed(_) => StatusCode::FORBIDDEN,
        Refusal::Conflict(_) => StatusCode::CONFLICT,
        Refusal::RateLimited(_) | Refusal::TooManyConnections(_) => StatusCode::TOO_MANY_REQUESTS,
        Refusal::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error(status, crate::ws::code_of(refusal), &refusal.to_string())
}

pub async fn broadcast(
    State(admin): State<Admin>,
    ConnectInfo(peer): ConnectInfo<crate::admission::Peer>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refused) = refusal(&admin, peer.addr, &headers) {
        return refused;
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

/// `parlor broadcast`: sends `req` to the server at `server` with the secret in `data`,
/// over HTTPS when that server serves TLS (it left its certificate in `data`).
pub async fn send(server: SocketAddr, data: &Path, req: &BroadcastRequest) -> anyhow::Result<()> {
    post(
        server,
        data,
        "/api/admin/broadcast",
        serde_json::to_vec(req)?,
    )
    .await
    .map(|_| ())
    .map_err(|e| e.context("parlor refused the broadcast"))
}

/// Posts `body` (JSON) to the admin path `path` of the server at `server` with the
/// secret in `data`; answers the response's body when the server says 200.
pub async fn post(
    server: SocketAddr,
    data: &Path,
    path: &str,
    body: Vec<u8>,
) -> anyhow::Result<String> {
    use anyhow::Context;
    let token = std::fs::read_to_string(data.join(TOKEN_FILE)).with_context(|| {
        format!(
            "cannot read {} (is `parlor serve --data {}` running here?)",
            TOKEN_FILE,
            data.display()
        )
    })?;
    let request = axum::http::Request::post(path)
        .header(header::HOST, server.to_string())
        .header(header::AUTHORIZATION, format!("Bearer {}", token.trim()))
        .header(header::CONTENT_TYPE, "application/json")
        .body(http_body_util::Full::new(axum::body::Bytes::from(body)))?;
    let tcp = tokio::net::TcpStream::connect(server)
        .await
        .with_context(|| format!("cannot reach parlor at {server}"))?;
    let pin = data.join(TLS_PIN_FILE);
    let (status, body) = if pin.exists() {
        let config = crate::tls::pinned_client_config(&pin)?;
        let name = tokio_rustls::rustls::pki_types::ServerName::IpAddress(server.ip().into());
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .with_context(|| format!("TLS with parlor at {server} failed"))?;
        exchange(tls, request).await?
    } else {
        exchange(tcp, request).await?
    };
    if status == StatusCode::OK {
        Ok(body)
    } else {
        anyhow::bail!("{status}: {body}")
    }
}

/// One HTTP/1.1 request on `io`: the response's status and body.
async fn exchange<I>(
    io: I,
    request: axum::http::Request<http_body_util::Full<axum::body::Bytes>>,
) -> anyhow::Result<(StatusCode, String)>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use http_body_util::BodyExt;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io)).await?;
    let driving = tokio::spawn(conn);
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    driving.abort();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_the_exact_secret_is_the_same() {
        let token = "ab".repeat(32);
        assert!(super::same_secret(&token, &token));
        assert!(!super::same_secret(&token[..63], &token));
        assert!(!super::same_secret(&"ab".repeat(31), &token));
        assert!(!super::same_secret("", &token));
        assert!(!super::same_secret(&format!("{}c", &token[..63]), &token));
    }
}
