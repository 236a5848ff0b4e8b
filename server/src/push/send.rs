//! Sending one push (RFC 8030) to a push service: which endpoints the server accepts
//! (an absolute `https` URL of a public address; with `--push-allow-private` also
//! `http` and loopback or LAN addresses, for tests and a push service on the LAN), the
//! request (VAPID, `TTL`, `Urgency`, `aes128gcm`), bounded by a timeout, over hyper and
//! rustls with the Mozilla roots (`webpki-roots`: the same on every Pi, whatever its
//! system's certificates).
//!
//! The server POSTs to a URL a client gave: so the host is resolved at each send and
//! every address must be public unless private ones are allowed, and nothing of the
//! answer but its status is read.

use axum::http::{header, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio_rustls::rustls;

/// Bound on one send: connecting, TLS, the request and its answer.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a push service keeps a push for an unreachable device (seconds).
pub const TTL_SECS: u32 = 86_400;
/// Most bytes of an answer's body read (then dropped).
const MAX_ANSWER_BYTES: usize = 4096;

/// An endpoint as the server sends to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// Path and query.
    pub path: String,
    /// `scheme://host[:port]`: the VAPID `aud`.
    pub origin: String,
}

/// Reads and checks a subscription's endpoint; the reason when refused.
pub fn parse_endpoint(url: &str, allow_private: bool) -> Result<Endpoint, String> {
    if url.len() > app::protocol::MAX_PUSH_ENDPOINT_BYTES {
        return Err(format!(
            "an endpoint has at most {} bytes",
            app::protocol::MAX_PUSH_ENDPOINT_BYTES
        ));
    }
    let uri: Uri = url
        .parse()
        .map_err(|_| "the endpoint is not a URL".to_owned())?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") if allow_private => false,
        _ => return Err("the endpoint must be an https URL".into()),
    };
    let authority = uri
        .authority()
        .ok_or_else(|| "the endpoint has no host".to_owned())?;
    if authority.as_str().contains('@') {
        return Err("the endpoint must not carry a user name".into());
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']');
    if host.is_empty() {
        return Err("the endpoint has no host".into());
    }
    let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
    if !allow_private {
        let lower = host.to_ascii_lowercase();
        let local_name = lower == "localhost"
            || lower.ends_with(".localhost")
            || lower.ends_with(".local")
            || !lower.contains('.');
        let private_ip = host.parse::<IpAddr>().is_ok_and(|ip| !is_public(ip));
        if local_name || private_ip {
            return Err("the endpoint must be a public push service".into());
        }
    }
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let scheme = if https { "https" } else { "http" };
    let origin = match authority.port_u16() {
        Some(port) => format!("{scheme}://{}:{port}", authority.host()),
        None => format!("{scheme}://{}", authority.host()),
    };
    Ok(Endpoint {
        https,
        host: host.to_owned(),
        port,
        path,
        origin,
    })
}

/// Whether `ip` is a public address (not loopback, private, link-local, shared,
/// multicast, documentation or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (o[1] & 0xc0) == 64))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// What a push service answered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Outcome {
    /// Taken (201 or 202).
    Delivered,
    /// The subscription is gone (404 or 410): forget it.
    Gone,
    /// Anything else (429, 5xx, …): logged, not retried.
    Failed(StatusCode),
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{0}")]
    Refused(String),
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        source: std::io::Error,
    },
    #[error("no public address for {0}")]
    NoAddress(String),
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    #[error("TLS failed: {0}")]
    Tls(std::io::Error),
    #[error("HTTP failed: {0}")]
    Http(String),
    #[error("no answer within {SEND_TIMEOUT:?}")]
    Timeout,
}

/// One push request's headers beyond the body.
pub struct Push<'a> {
    pub authorization: &'a str,
    pub urgent: bool,
    pub body: Vec<u8>,
}

/// Sends `push` to `endpoint`, within [`SEND_TIMEOUT`].
pub async fn send(
    endpoint: &Endpoint,
    push: Push<'_>,
    allow_private: bool,
) -> Result<Outcome, SendError> {
    tokio::time::timeout(SEND_TIMEOUT, send_now(endpoint, push, allow_private))
        .await
        .map_err(|_| SendError::Timeout)?
}

async fn send_now(
    endpoint: &Endpoint,
    push: Push<'_>,
    allow_private: bool,
) -> Result<Outcome, SendError> {
    let address = resolve(endpoint, allow_private).await?;
    let host_header = endpoint
        .origin
        .split_once("://")
        .map_or(endpoint.host.as_str(), |(_, h)| h);
    let request = Request::post(&endpoint.path)
        .header(header::HOST, host_header)
        .header(header::AUTHORIZATION, push.authorization)
        .header("TTL", TTL_SECS.to_string())
        .header("Urgency", if push.urgent { "high" } else { "normal" })
        .header(header::CONTENT_ENCODING, "aes128gcm")
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, push.body.len().to_string())
        .body(Full::new(axum::body::Bytes::from(push.body)))
        .map_err(|e| SendError::Http(e.to_string()))?;
    let tcp = tokio::net::TcpStream::connect(address)
        .await
        .map_err(SendError::Connect)?;
    let status = if endpoint.https {
        let name = rustls::pki_types::ServerName::try_from(endpoint.host.clone())
            .map_err(|e| SendError::Refused(format!("bad host name: {e}")))?;
        let tls = tokio_rustls::TlsConnector::from(client_config())
            .connect(name, tcp)
            .await
            .map_err(SendError::Tls)?;
        exchange(tls, request).await?
    } else {
        exchange(tcp, request).await?
    };
    Ok(match status.as_u16() {
        201 | 202 => Outcome::Delivered,
        404 | 410 => Outcome::Gone,
        _ => Outcome::Failed(status),
    })
}

/// The endpoint's first address the server may send to.
async fn resolve(endpoint: &Endpoint, allow_private: bool) -> Result<SocketAddr, SendError> {
    let addresses = tokio::net::lookup_host((endpoint.host.as_str(), endpoint.port))
        .await
        .map_err(|source| SendError::Resolve {
            host: endpoint.host.clone(),
            source,
        })?;
    addresses
        .into_iter()
        .find(|a| allow_private || is_public(a.ip()))
        .ok_or_else(|| SendError::NoAddress(endpoint.host.clone()))
}

async fn exchange<I>(
    io: I,
    request: Request<Full<axum::body::Bytes>>,
) -> Result<StatusCode, SendError>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let http = |e: hyper::Error| SendError::Http(e.to_string());
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(http)?;
    let driving = tokio::spawn(conn);
    let response = sender.send_request(request).await.map_err(http)?;
    let status = response.status();
    // A little of the body, so the connection ends cleanly; never more.
    let mut body = response.into_body();
    let mut read = 0;
    while read < MAX_ANSWER_BYTES {
        match body.frame().await {
            Some(Ok(frame)) => read += frame.data_ref().map_or(0, |d| d.len()),
            _ => break,
        }
    }
    driving.abort();
    Ok(status)
}

/// The TLS client of every push: rustls with ring and the Mozilla roots.
fn client_config() -> Arc<rustls::ClientConfig> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let mut config = match rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
            {
                Ok(builder) => builder.with_root_certificates(roots).with_no_client_auth(),
                // ring supports the default versions; should it not, refuse every
                // certificate rather than trust any.
                Err(e) => {
                    tracing::error!(error = %e, "no TLS for pushes");
                    rustls::ClientConfig::builder()
                        .with_root_certificates(rustls::RootCertStore::empty())
                        .with_no_client_auth()
                }
            };
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Arc::new(config)
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked() {
        let ok = parse_endpoint("https://fcm.googleapis.com/fcm/send/abc?x=1", false)
            .expect("public https");
        assert_eq!(ok.origin, "https://fcm.googleapis.com");
        assert_eq!(ok.path, "/fcm/send/abc?x=1");
        assert_eq!(ok.port, 443);
        let with_port = parse_endpoint("https://push.example.org:8443/p", false).expect("port");
        assert_eq!(with_port.origin, "https://push.example.org:8443");
        for bad in [
            "http://push.example.org/p",
            "https://127.0.0.1/p",
            "https://10.1.2.3/p",
            "https://192.168.1.9/p",
            "https://169.254.169.254/latest",
            "https://[::1]/p",
            "https://[fd00::1]/p",
            "https://localhost/p",
            "https://printer.local/p",
            "https://intranet/p",
            "https://user@push.example.org/p",
            "ftp://push.example.org/p",
            "/relative",
            "not a url",
            "",
        ] {
            assert!(parse_endpoint(bad, false).is_err(), "{bad} accepted");
        }
        let long = format!("https://push.example.org/{}", "a".repeat(1024));
        assert!(parse_endpoint(&long, true).is_err());
        let lan = parse_endpoint("http://127.0.0.1:9999/push/1", true).expect("allowed");
        assert_eq!(lan.origin, "http://127.0.0.1:9999");
        assert!(!lan.https);
    }

    #[test]
    fn public_addresses() {
        for ip in ["8.8.8.8", "2a00:1450::1", "142.250.1.1"] {
            assert!(is_public(ip.parse().expect("ip")), "{ip}");
        }
        for ip in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("ip")), "{ip}");
        }
    }
}
