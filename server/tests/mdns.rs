//! mDNS/DNS-SD: a browser on this machine finds `parlor` as `_http._tcp` on the
//! server's port, and sees it withdrawn at shutdown. Multicast must work on the
//! machine (here it does, over loopback and eth0); where it does not at all, which
//! the test checks first with a service of its own, the test says so and passes.

mod common;

use common::Server;
use mdns_sd::{ResolvedService, ServiceDaemon, ServiceEvent, ServiceInfo};
use std::time::{Duration, Instant};

const FIND: Duration = Duration::from_secs(15);

/// Waits for a resolved instance of `ty` on `port`.
fn resolve(browser: &ServiceDaemon, ty: &str, port: u16) -> Option<Box<ResolvedService>> {
    let events = browser.browse(ty).expect("browse");
    let deadline = Instant::now() + FIND;
    let found = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break None;
        }
        match events.recv_timeout(left) {
            Ok(ServiceEvent::ServiceResolved(info)) if info.get_port() == port => break Some(info),
            Ok(_) => {}
            Err(_) => break None,
        }
    };
    let _ = browser.stop_browse(ty);
    found
}

/// Whether multicast DNS works here at all: a service of the test's own, announced by
/// one daemon, found by another.
fn mdns_works_here(browser: &ServiceDaemon) -> bool {
    let announcer = ServiceDaemon::new().expect("daemon");
    let probe = ServiceInfo::new(
        "_parlor-probe._tcp.local.",
        &format!("probe-{}", std::process::id()),
        "parlor-probe.local.",
        (),
        9,
        None::<std::collections::HashMap<String, String>>,
    )
    .expect("probe")
    .enable_addr_auto();
    announcer.register(probe).expect("register");
    let found = resolve(browser, "_parlor-probe._tcp.local.", 9).is_some();
    let _ = announcer.shutdown();
    found
}

/// These tests need multicast DNS between two daemons on this machine (it works on
/// the project's Debian machines and CI); without it they fail and say why, rather
/// than pass without testing anything.
fn assert_mdns_works(browser: &ServiceDaemon) {
    assert!(
        mdns_works_here(browser),
        "multicast DNS does not work on this machine (no multicast-capable interface?): \
         these tests cannot run here"
    );
}

#[test]
fn parlor_is_found_over_mdns_on_its_port_and_withdrawn_at_shutdown() {
    let browser = ServiceDaemon::new().expect("daemon");
    assert_mdns_works(&browser);
    let mut server = Server::start_with(&["--bind", "0.0.0.0:0", "--no-qr"]);
    let port = server.addr.port();
    let found = resolve(&browser, "_http._tcp.local.", port)
        .unwrap_or_else(|| panic!("parlor on port {port} not found over mDNS"));
    // Another Parlor on the LAN would make this `parlor (2)`; here it is alone unless
    // another test runs one at the same time.
    let fullname = found.get_fullname().to_string();
    assert!(
        fullname.starts_with("parlor") && fullname.ends_with("._http._tcp.local."),
        "{fullname}"
    );
    assert!(found.get_hostname().starts_with("parlor"), "{found:?}");
    assert!(found.get_hostname().ends_with(".local."), "{found:?}");
    assert_eq!(found.get_property_val_str("path"), Some("/"));
    assert_eq!(found.get_property_val_str("scheme"), None);
    let addrs = found.get_addresses();
    assert!(!addrs.is_empty(), "no address for {fullname}");
    assert!(
        addrs.iter().all(|a| a.to_ip_addr().is_ipv4()),
        "IPv6 announced for a 0.0.0.0 listener: {addrs:?}"
    );

    // Withdrawn on SIGTERM.
    let events = browser.browse("_http._tcp.local.").expect("browse");
    let status = server.terminate();
    assert!(status.success(), "{status}");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "{fullname} was not withdrawn at shutdown");
        if let Ok(ServiceEvent::ServiceRemoved(_, name)) = events.recv_timeout(left) {
            if name == fullname {
                break;
            }
        }
    }
    let _ = browser.shutdown();
}

#[test]
fn under_tls_parlor_is_also_https_and_says_so() {
    let browser = ServiceDaemon::new().expect("daemon");
    assert_mdns_works(&browser);
    let server = Server::start_with(&["--bind", "0.0.0.0:0", "--tls-self-signed", "--no-qr"]);
    let port = server.addr.port();
    for ty in ["_http._tcp.local.", "_https._tcp.local."] {
        let found = resolve(&browser, ty, port).unwrap_or_else(|| panic!("no {ty} on port {port}"));
        assert!(found.get_fullname().starts_with("parlor"), "{found:?}");
        assert_eq!(found.get_property_val_str("path"), Some("/"));
        assert_eq!(found.get_property_val_str("scheme"), Some("https"));
    }
    let _ = browser.shutdown();
}

#[test]
fn no_mdns_announces_nothing() {
    let browser = ServiceDaemon::new().expect("daemon");
    assert_mdns_works(&browser);
    let server = Server::start_with(&["--bind", "0.0.0.0:0", "--no-mdns", "--no-qr"]);
    let port = server.addr.port();
    let events = browser.browse("_http._tcp.local.").expect("browse");
    let deadline = Instant::now() + Duration::from_secs(4);
    while let Ok(ev) = events.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        if let ServiceEvent::ServiceResolved(info) = ev {
            assert_ne!(info.get_port(), port, "announced despite --no-mdns");
        }
    }
    let _ = browser.shutdown();
}
