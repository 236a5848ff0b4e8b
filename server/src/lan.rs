//! Where Parlor can be reached on the local network: the addresses of this machine
//! other devices can use, the URLs built from them, and the start-up banner that
//! prints them (with a QR code of the first one for phones).

use std::net::{IpAddr, SocketAddr};

/// `http` or `https`, as the listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// The addresses other machines can reach a listener bound to `bind` at: this
/// machine's [`interface_ips`] of the bound family when bound to all of them
/// (`0.0.0.0` or `[::]`), else the bound address itself unless it is loopback.
pub fn reachable_ips(bind: IpAddr) -> Vec<IpAddr> {
    if !bind.is_unspecified() {
        return if bind.is_loopback() {
            Vec::new()
        } else {
            vec![bind]
        };
    }
    interface_ips()
        .into_iter()
        // A socket bound to 0.0.0.0 takes no IPv6 connections.
        .filter(|ip| ip.is_ipv4() || bind.is_ipv6())
        .collect()
}

/// Every address of this machine's interfaces but loopback, IPv4 first. IPv6
/// link-local addresses are left out: a URL cannot carry their scope.
pub fn interface_ips() -> Vec<IpAddr> {
    let Ok(ifaces) = if_addrs::get_if_addrs() else {
        return Vec::new();
    };
    let mut ips: Vec<IpAddr> = ifaces
        .iter()
        .map(if_addrs::Interface::ip)
        .filter(|ip| usable(*ip))
        .collect();
    ips.sort_by_key(IpAddr::is_ipv6);
    ips.dedup();
    ips
}

fn usable(ip: IpAddr) -> bool {
    match ip {
        _ if ip.is_loopback() || ip.is_unspecified() => false,
        IpAddr::V4(_) => true,
        IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
    }
}

/// `scheme://ip:port/`, with brackets around an IPv6 address.
pub fn url(scheme: Scheme, ip: IpAddr, port: u16) -> String {
    let scheme = scheme.as_str();
    match ip {
        IpAddr::V4(v4) => format!("{scheme}://{v4}:{port}/"),
        IpAddr::V6(v6) => format!("{scheme}://[{v6}]:{port}/"),
    }
}

/// Prints where the app can be opened. The first line is
/// `parlor listening on SCHEME://ADDR` (tests and scripts read it); then every LAN
/// URL, and a QR code of the first LAN URL when `qr` is set and there is one. With
/// Parlor's own certificate authority (`authority`), the QR code and the first list
/// lead to `http://…/trust` on the same port (a phone that does not trust the
/// authority yet can open that), then come the HTTPS URLs and the authority's
/// fingerprint.
pub fn print_banner(
    local: SocketAddr,
    scheme: Scheme,
    qr: bool,
    authority: Option<&crate::trust::Offer>,
) {
    let banner = banner(local, scheme, reachable_ips(local.ip()), authority);
    for line in &banner.lines {
        println!("{line}");
    }
    if let (true, Some(first)) = (qr, banner.qr.as_deref()) {
        match crate::qr::render(first) {
            Some(code) => {
                println!("Or scan this with a phone to open {first}:");
                print!("{code}");
            }
            None => tracing::debug!(url = %first, "cannot make a QR code"),
        }
    }
}

/// What [`print_banner`] prints: its lines, and what the QR code holds.
#[derive(Debug, PartialEq, Eq)]
pub struct Banner {
    pub lines: Vec<String>,
    pub qr: Option<String>,
}

/// The banner of a listener at `local` reachable at `lan`.
pub fn banner(
    local: SocketAddr,
    scheme: Scheme,
    lan: Vec<IpAddr>,
    authority: Option<&crate::trust::Offer>,
) -> Banner {
    let port = local.port();
    let mut lines = vec![format!("parlor listening on {}://{local}", scheme.as_str())];
    let mut app_urls: Vec<String> = lan.iter().map(|ip| url(scheme, *ip, port)).collect();
    if local.ip().is_unspecified() {
        app_urls.push(format!("{}://localhost:{port}/", scheme.as_str()));
    } else if local.ip().is_loopback() {
        app_urls.push(url(scheme, local.ip(), port));
    }
    // The trust page over plain HTTP on the same port.
    let trust_url = |app: &str| {
        format!(
            "http://{}trust",
            app.split_once("://").map_or(app, |(_, rest)| rest)
        )
    };
    let qr = match authority {
        Some(offer) => {
            let trust_urls: Vec<String> = app_urls.iter().map(|u| trust_url(u)).collect();
            lines.push("First trust Parlor's certificate on each device, at:".into());
            lines.extend(trust_urls.iter().map(|u| format!("  {u}")));
            lines.push("Then open Parlor at:".into());
            lines.extend(app_urls.iter().map(|u| format!("  {u}")));
            lines.push(format!("Certificate authority: {}", offer.name));
            lines.push(format!("  SHA-256 {}", offer.fingerprint));
            trust_urls.first().filter(|_| !lan.is_empty()).cloned()
        }
        None => {
            lines.push("Open Parlor on this network at:".into());
            lines.extend(app_urls.iter().map(|u| format!("  {u}")));
            lan.first().map(|ip| url(scheme, *ip, port))
        }
    };
    Banner { lines, qr }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn a_loopback_bind_has_no_lan_address() {
        assert!(reachable_ips(IpAddr::V4(Ipv4Addr::LOCALHOST)).is_empty());
        assert!(reachable_ips(IpAddr::V6(Ipv6Addr::LOCALHOST)).is_empty());
    }

    #[test]
    fn a_specific_bind_is_its_own_address() {
        let ip: IpAddr = "192.168.1.23".parse().expect("ip");
        assert_eq!(reachable_ips(ip), vec![ip]);
    }

    #[test]
    fn all_interfaces_of_ipv4_lists_ipv4_only_and_no_loopback() {
        let ips = reachable_ips(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        // Without a LAN interface there is nothing to check: say so, do not pass.
        assert!(!ips.is_empty(), "this machine has no LAN address to list");
        for ip in ips {
            assert!(ip.is_ipv4() && !ip.is_loopback(), "{ip}");
        }
    }

    #[test]
    fn ipv6_link_local_is_left_out() {
        assert!(!usable("fe80::1".parse().expect("ip")));
        assert!(!usable("::1".parse().expect("ip")));
        assert!(usable("fd00::2".parse().expect("ip")));
        assert!(usable("192.168.1.23".parse().expect("ip")));
    }

    #[test]
    fn with_an_authority_the_qr_code_leads_to_the_trust_page() {
        let offer = crate::trust::Offer {
            name: "Parlor local CA 01020304".into(),
            der: Vec::new(),
            pem: String::new(),
            fingerprint: "AA:BB".into(),
            mobileconfig: String::new(),
        };
        let local: SocketAddr = "0.0.0.0:8443".parse().expect("addr");
        let lan = vec!["192.168.1.23".parse().expect("ip")];
        let b = banner(local, Scheme::Https, lan.clone(), Some(&offer));
        assert_eq!(b.qr.as_deref(), Some("http://192.168.1.23:8443/trust"));
        assert_eq!(b.lines[0], "parlor listening on https://0.0.0.0:8443");
        let text = b.lines.join("\n");
        assert!(text.contains("  http://localhost:8443/trust"), "{text}");
        assert!(text.contains("  https://192.168.1.23:8443/"), "{text}");
        assert!(text.contains("SHA-256 AA:BB"), "{text}");
        let plain = banner(local, Scheme::Http, lan, None);
        assert_eq!(plain.qr.as_deref(), Some("http://192.168.1.23:8443/"));
        assert!(!plain.lines.join("\n").contains("trust"));
    }

    #[test]
    fn urls_bracket_ipv6() {
        assert_eq!(
            url(Scheme::Https, "fd00::2".parse().expect("ip"), 8443),
            "https://[fd00::2]:8443/"
        );
        assert_eq!(
            url(Scheme::Http, "10.0.0.5".parse().expect("ip"), 80),
            "http://10.0.0.5:80/"
        );
    }
}
