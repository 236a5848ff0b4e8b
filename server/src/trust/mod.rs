//! `GET /trust`: the page that lets a person trust Parlor's certificate authority on
//! their device, the authority's certificate in the forms each platform installs
//! (`/trust/ca.crt` DER, `/trust/ca.pem`, `/trust/parlor.mobileconfig` for iPhone and
//! iPad), and `/trust/check`, which the page fetches over HTTPS to tell whether this
//! device trusts Parlor now. The page is served on both the HTTPS router and, with
//! `--tls-self-signed`, to plain HTTP on the TLS port (`plain_router`), where every
//! other path is sent to it: a phone that does not trust Parlor yet can open the
//! start-up QR code's `http://` address and land here.

mod page;

use crate::tls::{Authority, Tls};
use axum::extract::{Query, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::sync::Arc;

pub use page::Platform;

/// What `/trust` has to offer, fixed at start.
#[derive(Debug, Clone)]
pub enum Trust {
    /// No TLS: nothing to trust.
    Off,
    /// `--tls-cert`/`--tls-key`: the operator's certificate; no authority to offer.
    Operator,
    /// `--tls-self-signed`: Parlor's own certificate authority.
    Authority(Arc<Offer>),
}

/// The authority's certificate in every form the page offers.
#[derive(Debug)]
pub struct Offer {
    /// Its common name, as a device's settings list it.
    pub name: String,
    pub der: Vec<u8>,
    pub pem: String,
    /// SHA-256 of the DER, upper-case hex pairs joined by colons.
    pub fingerprint: String,
    /// An unsigned iOS/iPadOS configuration profile with one root payload.
    pub mobileconfig: String,
}

impl Trust {
    /// What a server running `tls` offers.
    pub fn from_tls(tls: Option<&Tls>) -> Trust {
        match tls {
            None => Trust::Off,
            Some(Tls {
                authority: None, ..
            }) => Trust::Operator,
            Some(Tls {
                authority: Some(authority),
                ..
            }) => Trust::Authority(Arc::new(Offer::new(authority))),
        }
    }
}

impl Offer {
    pub fn new(authority: &Authority) -> Offer {
        let der = authority.der.as_ref().to_vec();
        Offer {
            name: authority.name.clone(),
            pem: crate::tls::ca::pem(&authority.der),
            fingerprint: fingerprint(&der),
            mobileconfig: mobileconfig(&authority.name, &der),
            der,
        }
    }
}

/// SHA-256 of `der` as `AB:CD:…`, the way certificate dialogs show it.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A stable UUID from the authority and a purpose, shaped as a version-5 UUID: the
/// same authority always yields the same profile, so installing it again replaces it.
fn uuid(der: &[u8], purpose: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(purpose.as_bytes());
    digest.update(der);
    let mut b: [u8; 16] = [0; 16];
    b.copy_from_slice(&digest.finalize()[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = data_encoding::HEXUPPER.encode(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The configuration profile: an unsigned property list with one
/// `com.apple.security.root` payload holding the authority's DER.
pub fn mobileconfig(name: &str, der: &[u8]) -> String {
    let name = html_escape::encode_text(name);
    let data = data_encoding::BASE64.encode(der);
    let id = &uuid(der, "id")[..8];
    let root_uuid = uuid(der, "parlor root payload");
    let profile_uuid = uuid(der, "parlor profile");
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>parlor-ca.crt</string>
			<key>PayloadContent</key>
			<data>{data}</data>
			<key>PayloadDescription</key>
			<string>Lets this device trust the Parlor chat server on your network.</string>
			<key>PayloadDisplayName</key>
			<string>{name}</string>
			<key>PayloadIdentifier</key>
			<string>parlor.ca.{id}.root</string>
			<key>PayloadType</key>
			<string>com.apple.security.root</string>
			<key>PayloadUUID</key>
			<string>{root_uuid}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
	</array>
	<key>PayloadDescription</key>
	<string>Installs {name}, the certificate authority of the Parlor chat server on your network.</string>
	<key>PayloadDisplayName</key>
	<string>Parlor ({name})</string>
	<key>PayloadIdentifier</key>
	<string>parlor.ca.{id}</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>{profile_uuid}</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
"#
    )
}

/// The routes of the HTTPS (or, without TLS, the only) router: the page, the
/// downloads, and, under TLS, the self-test's `/trust/check`.
pub fn router(trust: Trust) -> Router {
    let routes = downloads();
    let routes = if matches!(trust, Trust::Off) {
        routes
    } else {
        routes.route("/trust/check", get(check))
    };
    routes.with_state(trust)
}

/// What plain HTTP on the TLS port answers: the page and the downloads; any other
/// page is redirected (`302`) to `/trust`, and the API, the WebSockets and every other
/// method are refused (`403`), so the chat never travels without TLS.
pub fn plain_router(trust: Trust) -> Router {
    downloads().fallback(elsewhere).with_state(trust)
}

fn downloads() -> Router<Trust> {
    Router::new()
        .route("/trust", get(page))
        .route("/trust/", get(page))
        .route("/trust/ca.crt", get(ca_der))
        .route("/trust/ca.pem", get(ca_pem))
        .route("/trust/parlor.mobileconfig", get(ca_mobileconfig))
}

#[derive(serde::Deserialize)]
struct PageQuery {
    platform: Option<String>,
}

async fn page(
    State(trust): State<Trust>,
    Query(query): Query<PageQuery>,
    headers: axum::http::HeaderMap,
) -> Response {
    let platform = query
        .platform
        .as_deref()
        .and_then(Platform::from_name)
        .or_else(|| {
            headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .and_then(Platform::from_user_agent)
        });
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, page::csp()),
        ],
        page::render(&trust, platform),
    )
        .into_response()
}

fn offer(trust: &Trust) -> Option<&Offer> {
    match trust {
        Trust::Authority(offer) => Some(offer),
        _ => None,
    }
}

fn no_authority() -> Response {
    (
        StatusCode::NOT_FOUND,
        "this server has no certificate authority of its own",
    )
        .into_response()
}

fn download(content_type: &'static str, file: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        body,
    )
        .into_response()
}

async fn ca_der(State(trust): State<Trust>) -> Response {
    match offer(&trust) {
        Some(o) => download("application/x-x509-ca-cert", "parlor-ca.crt", o.der.clone()),
        None => no_authority(),
    }
}

async fn ca_pem(State(trust): State<Trust>) -> Response {
    match offer(&trust) {
        Some(o) => download(
            "application/x-pem-file",
            "parlor-ca.pem",
            o.pem.clone().into_bytes(),
        ),
        None => no_authority(),
    }
}

async fn ca_mobileconfig(State(trust): State<Trust>) -> Response {
    match offer(&trust) {
        Some(o) => download(
            "application/x-apple-aspen-config",
            "parlor.mobileconfig",
            o.mobileconfig.clone().into_bytes(),
        ),
        None => no_authority(),
    }
}

/// Reached only through a TLS handshake the client accepted: any page may read it.
async fn check() -> Response {
    (
        [
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        axum::Json(serde_json::json!({ "trusted": true })),
    )
        .into_response()
}

/// Plain HTTP's answer to every path but the page and the downloads.
async fn elsewhere(request: Request) -> Response {
    let path = request.uri().path();
    let page = matches!(*request.method(), Method::GET | Method::HEAD)
        && !crate::guard::guarded(path)
        && path != "/trust/check";
    if page {
        (StatusCode::FOUND, [(header::LOCATION, "/trust")]).into_response()
    } else {
        tracing::debug!(path, "refused over plain HTTP on the TLS port");
        (
            StatusCode::FORBIDDEN,
            "Parlor answers this over HTTPS only; open /trust first",
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_holds_the_authority_and_stable_uuids() {
        let der = b"not really a certificate".to_vec();
        let one = mobileconfig("Parlor local CA 0A0B0C0D", &der);
        assert!(one.contains(&format!(
            "<data>{}</data>",
            data_encoding::BASE64.encode(&der)
        )));
        assert!(one.contains("<string>com.apple.security.root</string>"));
        assert_eq!(one, mobileconfig("Parlor local CA 0A0B0C0D", &der));
        let a = uuid(&der, "parlor profile");
        let b = uuid(&der, "parlor root payload");
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "5");
        assert_ne!(uuid(b"other", "parlor profile"), a);
    }

    #[test]
    fn the_fingerprint_is_colon_separated_sha256() {
        let f = fingerprint(b"abc");
        assert!(f.starts_with("BA:78:16:BF"), "{f}");
        assert_eq!(f.len(), 32 * 3 - 1);
    }
}
