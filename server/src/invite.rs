//! Invitations over HTTP: `POST /api/admin/invite` (the native `createInvite` payload),
//! which `parlor invite` calls on the
//! machine the server runs on (the admin token, loopback only, as `parlor broadcast`),
//! and `GET /api/invite-qr/CODE`, the QR code of an invitation's link as SVG, for the
//! web app to show a visitor's phone (drawn here: a QR encoder in the browser would
//! cost the web bundle more than its whole admin page). The link itself,
//! `/invite/CODE`, is the web app's page (the asset fallback serves it), where a
//! person picks a name and a password.

use crate::admin::{console_request, refused, Admin};
use crate::hub::{InviteSpec, Maker};
use crate::ws::access::invite_path;
use app::protocol::{CreateInviteRequest, InviteInfo};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// What it answers: the link to open, the code, and the invitation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InviteMade {
    pub url: String,
    pub code: String,
    pub invite: InviteInfo,
}

pub async fn create(
    State(admin): State<Admin>,
    ConnectInfo(peer): ConnectInfo<crate::admission::Peer>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let req: CreateInviteRequest = match console_request(
        &admin,
        peer.addr,
        &headers,
        &body,
        "{\"role\"?, \"uses\"?, \"expiresIn\"?}",
    ) {
        Ok(req) => req,
        Err(refused) => return *refused,
    };
    let spec = InviteSpec {
        role: req.role,
        uses: req.uses,
        expires_in: req.expires_in,
    };
    match admin.hub.create_invite(Maker::Console, spec).await {
        Ok((code, invite)) => {
            let url = format!("{}{}", admin.base.trim_end_matches('/'), invite_path(&code));
            (StatusCode::OK, Json(InviteMade { url, code, invite })).into_response()
        }
        Err(refusal) => refused(&refusal),
    }
}

/// Whether `code` can be an invitation's code (what [`Hub::create_invite`] makes:
/// lowercase base32), so that the QR endpoint draws nothing else.
fn is_code(code: &str) -> bool {
    (8..=64).contains(&code.len())
        && code
            .bytes()
            .all(|c| c.is_ascii_lowercase() || (b'2'..=b'7').contains(&c))
}

/// `GET /api/invite-qr/CODE`: the QR code of `SCHEME://HOST/invite/CODE`, where HOST is
/// the address the asking browser used (the host policy admitted it), or this
/// server's LAN address when that was a loopback one, which a phone cannot open.
pub async fn qr(
    State(admin): State<Admin>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !is_code(&code) {
        return (StatusCode::NOT_FOUND, "not an invitation code").into_response();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !is_loopback_host(h));
    let scheme = admin.base.split("://").next().unwrap_or("http");
    let link = match host {
        Some(host) => format!("{scheme}://{host}{}", invite_path(&code)),
        None => format!("{}{}", admin.base.trim_end_matches('/'), invite_path(&code)),
    };
    let Ok(qr) = qrcode::QrCode::new(link.as_bytes()) else {
        return (StatusCode::NOT_FOUND, "too long for a QR code").into_response();
    };
    let svg = qr
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=3600"),
        ],
        svg,
    )
        .into_response()
}

fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_codes_are_drawn() {
        assert!(is_code("abcdefgh234567"));
        assert!(!is_code("short"));
        assert!(!is_code("ABCDEFGHIJ"));
        assert!(!is_code("abcdefgh/../x"));
        assert!(!is_code(&"a".repeat(65)));
    }

    #[test]
    fn loopback_hosts_are_known() {
        assert!(is_loopback_host("localhost:8080"));
        assert!(is_loopback_host("127.0.0.1:8080"));
        assert!(is_loopback_host("[::1]:8080"));
        assert!(is_loopback_host("LOCALHOST"));
        assert!(!is_loopback_host("192.168.1.20:8080"));
        assert!(!is_loopback_host("parlor.local"));
    }
}
