//! Host and Origin checks in front of every WebSocket upgrade and every `/api/` request.
//! Parlor listens on an open network and has no cookies, but a web page any user
//! opens can still reach it: by opening a WebSocket from its own origin (browsers send
//! that origin, and do not stop the upgrade), or by pointing a name of its own at
//! Parlor's address (DNS rebinding) so that the browser thinks Parlor *is* that page.
//! Refusing a `Host` that does not name this server defeats the second; refusing an
//! `Origin` that is neither this server, a loopback page, nor one the operator allowed
//! defeats the first. Both are checked before anything else happens: a refused
//! request is answered `403` and reaches no handler.
//!
//! A request without `Host` (HTTP/1.0) is refused too: it cannot show that it meant
//! this server, and every browser and every Parlor client sends one.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

/// What the guard lets through, fixed at start.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Names `Host` may carry besides IP literals, `localhost` and `*.local`:
    /// the machine's host name and every `--allow-host`, normalised.
    pub hosts: Vec<String>,
    /// Every `--allow-origin`, normalised.
    pub origins: Vec<Origin>,
    /// The listener serves TLS, so the server's own origin is `https://`.
    pub tls: bool,
}

impl Policy {
    /// A policy for a listener (`tls` or not) with the operator's extra hosts and
    /// origins; the machine's host name is added. An `--allow-origin` that is not an
    /// origin (`scheme://host[:port]`) is an error.
    pub fn new(tls: bool, hosts: &[String], origins: &[String]) -> anyhow::Result<Policy> {
        let mut names: Vec<String> = hosts.iter().map(|h| normalise_name(h)).collect();
        if let Some(machine) = machine_host_name() {
            names.push(machine);
        }
        let origins = origins
            .iter()
            .map(|o| {
                Origin::parse(o).ok_or_else(|| {
                    anyhow::anyhow!("--allow-origin {o:?} is not an origin (scheme://host[:port])")
                })
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Policy {
            hosts: names,
            origins,
            tls,
        })
    }

    /// Whether a request with these headers may go on.
    pub fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
            return false;
        };
        if !host_allowed(host, &self.hosts) {
            return false;
        }
        match headers.get(header::ORIGIN) {
            None => true,
            Some(origin) => origin
                .to_str()
                .is_ok_and(|o| origin_allowed(o, host, self.tls, &self.origins)),
        }
    }
}

/// Whether `path` is guarded: the WebSocket paths and the API.
pub fn guarded(path: &str) -> bool {
    path == "/ws" || path.starts_with("/ws/") || path == "/api" || path.starts_with("/api/")
}

/// The middleware: `403` for a guarded request the policy refuses.
pub async fn layer(State(policy): State<Arc<Policy>>, request: Request, next: Next) -> Response {
    if guarded(request.uri().path()) && !policy.allows(request.headers()) {
        tracing::debug!(
            path = request.uri().path(),
            "refused by the Host/Origin guard"
        );
        return (StatusCode::FORBIDDEN, "forbidden").into_response();
    }
    next.run(request).await
}

/// A host as a `Host` header or an origin names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostName {
    Ip(IpAddr),
    Name(String),
}

/// Lower case without a trailing dot.
fn normalise_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Splits `host[:port]`, `[v6][:port]`, into the host and the port, if any. `None` for
/// something that is not a host.
fn split_host(authority: &str) -> Option<(HostName, Option<u16>)> {
    let authority = authority.trim();
    if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest.split_once(']')?;
        let ip: Ipv6Addr = v6.parse().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?.parse().ok()?),
        };
        return Some((HostName::Ip(IpAddr::V6(ip)), port));
    }
    let (name, port) = match authority.rsplit_once(':') {
        Some((name, port)) => (name, Some(port.parse().ok()?)),
        None => (authority, None),
    };
    if name.is_empty() || name.contains(['/', '@', '[', ']', ':', ' ']) {
        return None;
    }
    let name = normalise_name(name);
    if name.is_empty() {
        return None;
    }
    Some(match name.parse::<Ipv4Addr>() {
        Ok(ip) => (HostName::Ip(IpAddr::V4(ip)), port),
        Err(_) => (HostName::Name(name), port),
    })
}

/// Whether a `Host` header names this server: an IP literal, `localhost`, a `.local`
/// name, or one of `names` (normalised).
pub fn host_allowed(host: &str, names: &[String]) -> bool {
    match split_host(host) {
        Some((HostName::Ip(_), _)) => true,
        Some((HostName::Name(name), _)) => {
            name == "localhost" || name.ends_with(".local") || names.contains(&name)
        }
        None => false,
    }
}

/// An origin: scheme, host and port (the scheme's default when not given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    https: bool,
    host: HostName,
    port: u16,
}

impl Origin {
    /// `http://host[:port]` or `https://host[:port]`; `None` for anything else
    /// (including `null`).
    pub fn parse(origin: &str) -> Option<Origin> {
        let origin = origin.trim().trim_end_matches('/');
        let (scheme, rest) = origin.split_once("://")?;
        let https = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => return None,
        };
        let (host, port) = split_host(rest)?;
        Some(Origin {
            https,
            host,
            port: port.unwrap_or(default_port(https)),
        })
    }

    fn is_loopback(&self) -> bool {
        match &self.host {
            HostName::Ip(ip) => ip.is_loopback(),
            HostName::Name(name) => name == "localhost",
        }
    }
}

fn default_port(https: bool) -> u16 {
    if https {
        443
    } else {
        80
    }
}

/// Whether a request with `Origin: origin` and `Host: host` to a listener that serves
/// TLS (or not) may go on: its own origin, a loopback origin, or one of `allowed`.
pub fn origin_allowed(origin: &str, host: &str, tls: bool, allowed: &[Origin]) -> bool {
    let Some(origin) = Origin::parse(origin) else {
        return false;
    };
    if origin.is_loopback() || allowed.contains(&origin) {
        return true;
    }
    let Some((host, port)) = split_host(host) else {
        return false;
    };
    let own = Origin {
        https: tls,
        host,
        port: port.unwrap_or(default_port(tls)),
    };
    origin == own
}

/// This machine's host name, normalised; `None` where it cannot be read.
fn machine_host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let name = normalise_name(&name);
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> Vec<String> {
        vec!["pi".to_string(), "parlor.example".to_string()]
    }

    #[test]
    fn hosts_that_name_this_server_pass() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:8080",
            "192.168.1.20:8080",
            "[::1]",
            "[::1]:8080",
            "[fe80::1]:80",
            "localhost",
            "LocalHost:8080",
            "localhost.",
            "parlor.local",
            "Parlor.LOCAL:8080",
            "parlor.local.",
            "pi",
            "PI:8080",
            "parlor.example:443",
            "Parlor.Example.",
        ] {
            assert!(host_allowed(host, &names()), "{host} refused");
        }
    }

    #[test]
    fn other_hosts_are_refused() {
        for host in [
            "",
            "evil.com",
            "evil.com:8080",
            "parlor.local.evil.com",
            "localhost.evil.com",
            "127.0.0.1.nip.io",
            "192.168.1.20.evil.com",
            "attacker-rebind.example",
            "pi.evil.com",
            "example",
            "local",
            "[::1",
            "::1",
            "127.0.0.1:notaport",
            "127.0.0.1:99999",
            "user@127.0.0.1",
        ] {
            assert!(!host_allowed(host, &names()), "{host} allowed");
        }
    }

    #[test]
    fn own_origins_pass_with_the_right_scheme_and_port() {
        assert!(origin_allowed(
            "http://192.168.1.20:8080",
            "192.168.1.20:8080",
            false,
            &[]
        ));
        assert!(origin_allowed(
            "HTTP://Parlor.Local:8080",
            "parlor.local:8080",
            false,
            &[]
        ));
        assert!(origin_allowed(
            "http://parlor.local",
            "parlor.local:80",
            false,
            &[]
        ));
        assert!(origin_allowed(
            "https://parlor.local",
            "parlor.local",
            true,
            &[]
        ));
        assert!(origin_allowed(
            "https://[fe80::1]:8443",
            "[fe80::1]:8443",
            true,
            &[]
        ));
        assert!(!origin_allowed(
            "http://parlor.local:8443",
            "parlor.local:8443",
            true,
            &[]
        ));
        assert!(!origin_allowed(
            "https://192.168.1.20:8080",
            "192.168.1.20:8080",
            false,
            &[]
        ));
        assert!(!origin_allowed(
            "http://192.168.1.20:8081",
            "192.168.1.20:8080",
            false,
            &[]
        ));
        assert!(!origin_allowed(
            "http://192.168.1.21:8080",
            "192.168.1.20:8080",
            false,
            &[]
        ));
    }

    #[test]
    fn loopback_origins_pass_on_any_port() {
        for origin in [
            "http://localhost:5500",
            "https://localhost",
            "http://127.0.0.1:3000",
            "http://127.9.8.7",
            "http://[::1]:8000",
            "http://LOCALHOST:1",
        ] {
            assert!(
                origin_allowed(origin, "192.168.1.20:8080", false, &[]),
                "{origin}"
            );
        }
    }

    #[test]
    fn foreign_and_null_origins_are_refused() {
        for origin in [
            "null",
            "http://evil.example",
            "https://parlor.local.evil.com",
            "http://localhost.evil.com:5500",
            "file://",
            "ftp://192.168.1.20:8080",
            "http://128.0.0.1",
            "",
        ] {
            assert!(
                !origin_allowed(origin, "192.168.1.20:8080", false, &[]),
                "{origin}"
            );
        }
    }

    #[test]
    fn allowed_origins_pass() {
        let policy = Policy::new(false, &[], &["https://Chat.Example.org/".to_string()])
            .expect("valid origin");
        assert!(origin_allowed(
            "https://chat.example.org",
            "192.168.1.20:8080",
            false,
            &policy.origins
        ));
        assert!(origin_allowed(
            "https://chat.example.org:443",
            "192.168.1.20:8080",
            false,
            &policy.origins
        ));
        assert!(!origin_allowed(
            "http://chat.example.org",
            "192.168.1.20:8080",
            false,
            &policy.origins
        ));
        assert!(Policy::new(false, &[], &["chat.example.org".to_string()]).is_err());
    }

    #[test]
    fn the_policy_reads_both_headers() {
        let policy = Policy::new(false, &["parlor.example".to_string()], &[]).expect("policy");
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(*k, axum::http::HeaderValue::from_static(v));
            }
            map
        };
        assert!(policy.allows(&headers(&[("host", "127.0.0.1:1")])));
        assert!(policy.allows(&headers(&[("host", "parlor.example")])));
        assert!(!policy.allows(&headers(&[])));
        assert!(!policy.allows(&headers(&[("host", "evil.example")])));
        assert!(!policy.allows(&headers(&[
            ("host", "127.0.0.1:1"),
            ("origin", "http://evil.example")
        ])));
        assert!(policy.allows(&headers(&[
            ("host", "127.0.0.1:1"),
            ("origin", "http://127.0.0.1:1")
        ])));
        assert!(!guarded("/"));
        assert!(!guarded("/uploads/x.png"));
        assert!(guarded("/ws"));
        assert!(guarded("/ws/rwci"));
        assert!(guarded("/api/uploads"));
    }
}
