//! mDNS/DNS-SD: announces Parlor on the LAN as the `_http._tcp` service instance
//! `parlor` on host `parlor.local`, so a phone or laptop finds it without an address.
//!
//! The TXT record says `path=/`; under TLS it also says `scheme=https`, and the same
//! instance is registered as `_https._tcp` too. Announcing is best effort: any failure
//! is a warning, never a reason to stop serving. Goodbye packets go out at shutdown.

use crate::lan::Scheme;
use mdns_sd::{DaemonEvent, IfKind, ServiceDaemon, ServiceInfo};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// The service instance's name.
pub const INSTANCE: &str = "parlor";
/// The host name `parlor.local` resolves on the LAN.
pub const HOST: &str = "parlor.local.";
/// The service type always announced.
pub const HTTP: &str = "_http._tcp.local.";
/// The service type announced as well under TLS.
pub const HTTPS: &str = "_https._tcp.local.";
/// How long shutdown waits for each goodbye.
const GOODBYE_WAIT: Duration = Duration::from_millis(500);

/// The services to announce for a listener on `local`. Bound to every interface, the
/// addresses follow the interfaces (`addresses` is empty and the daemon fills them in,
/// also when an address comes later, as on a Pi that gets its lease after start);
/// bound to one address, only that one is announced.
pub fn services(local: SocketAddr, scheme: Scheme) -> Result<Vec<ServiceInfo>, mdns_sd::Error> {
    let addresses: Vec<IpAddr> = if local.ip().is_unspecified() {
        Vec::new()
    } else {
        vec![local.ip()]
    };
    let mut types = vec![HTTP];
    let mut txt = vec![("path", "/")];
    if scheme == Scheme::Https {
        types.push(HTTPS);
        txt.push(("scheme", "https"));
    }
    types
        .into_iter()
        .map(|ty| {
            let info =
                ServiceInfo::new(ty, INSTANCE, HOST, &addresses[..], local.port(), &txt[..])?;
            Ok(if addresses.is_empty() {
                info.enable_addr_auto()
            } else {
                info
            })
        })
        .collect()
}

/// A running announcement; [`Advertiser::stop`] withdraws it.
pub struct Advertiser {
    daemon: ServiceDaemon,
    fullnames: Vec<String>,
}

impl Advertiser {
    /// Starts announcing the listener on `local`. `None` when bound to loopback only
    /// (nobody else could connect) or when mDNS cannot start; both are logged.
    pub fn start(local: SocketAddr, scheme: Scheme) -> Option<Advertiser> {
        if local.ip().is_loopback() {
            tracing::debug!(%local, "not announcing over mDNS: bound to loopback");
            return None;
        }
        match Self::try_start(local, scheme) {
            Ok(advertiser) => {
                tracing::info!(host = HOST, port = local.port(), "announcing over mDNS");
                Some(advertiser)
            }
            Err(error) => {
                tracing::warn!(%error, "cannot announce Parlor over mDNS; serving without it");
                None
            }
        }
    }

    fn try_start(local: SocketAddr, scheme: Scheme) -> Result<Advertiser, mdns_sd::Error> {
        let daemon = ServiceDaemon::new()?;
        if local.ip() == IpAddr::from([0, 0, 0, 0]) {
            // A socket on 0.0.0.0 takes no IPv6 connections: do not announce IPv6.
            daemon.disable_interface(IfKind::IPv6)?;
        }
        watch(&daemon)?;
        let mut advertiser = Advertiser {
            daemon,
            fullnames: Vec::new(),
        };
        for info in services(local, scheme)? {
            let fullname = info.get_fullname().to_string();
            if let Err(e) = advertiser.daemon.register(info) {
                advertiser.stop();
                return Err(e);
            }
            advertiser.fullnames.push(fullname);
        }
        Ok(advertiser)
    }

    /// Withdraws the services (goodbye packets) and stops the daemon. Blocks for at
    /// most a second or two.
    pub fn stop(self) {
        for name in &self.fullnames {
            match self.daemon.unregister(name) {
                Ok(done) => {
                    let _ = done.recv_timeout(GOODBYE_WAIT);
                }
                Err(error) => tracing::debug!(%error, name, "cannot unregister"),
            }
        }
        if let Ok(done) = self.daemon.shutdown() {
            let _ = done.recv_timeout(GOODBYE_WAIT);
        }
        tracing::debug!("mDNS stopped");
    }
}

/// Logs what the daemon reports: the first error as a warning (later ones at debug,
/// as a missing interface repeats on every announcement), and renames after a conflict.
fn watch(daemon: &ServiceDaemon) -> Result<(), mdns_sd::Error> {
    let events = daemon.monitor()?;
    let spawned = std::thread::Builder::new()
        .name("parlor-mdns-log".into())
        .spawn(move || {
            let mut warned = false;
            while let Ok(event) = events.recv() {
                match event {
                    DaemonEvent::Error(error) if !warned => {
                        warned = true;
                        tracing::warn!(%error, "mDNS");
                    }
                    DaemonEvent::Error(error) => tracing::debug!(%error, "mDNS"),
                    DaemonEvent::NameChange(change) => tracing::info!(
                        from = %change.original,
                        to = %change.new_name,
                        "another device on the LAN has this mDNS name; renamed"
                    ),
                    other => tracing::trace!(?other, "mDNS"),
                }
            }
        });
    if let Err(error) = spawned {
        tracing::debug!(%error, "cannot watch the mDNS daemon");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_one_http_service_with_the_path() {
        let local: SocketAddr = "192.168.1.23:8080".parse().expect("addr");
        let infos = services(local, Scheme::Http).expect("infos");
        assert_eq!(infos.len(), 1);
        let info = &infos[0];
        assert_eq!(info.get_type(), "_http._tcp.local.");
        assert_eq!(info.get_fullname(), "parlor._http._tcp.local.");
        assert_eq!(info.get_hostname(), "parlor.local.");
        assert_eq!(info.get_port(), 8080);
        let ips: Vec<IpAddr> = info.get_addresses().iter().copied().collect();
        assert_eq!(ips, vec![local.ip()]);
        assert!(!info.is_addr_auto());
        assert_eq!(info.get_property_val_str("path"), Some("/"));
        assert_eq!(info.get_property_val_str("scheme"), None);
    }

    #[test]
    fn tls_adds_the_https_service_and_says_so() {
        let local: SocketAddr = "0.0.0.0:8443".parse().expect("addr");
        let infos = services(local, Scheme::Https).expect("infos");
        let names: Vec<&str> = infos.iter().map(ServiceInfo::get_fullname).collect();
        assert_eq!(
            names,
            ["parlor._http._tcp.local.", "parlor._https._tcp.local."]
        );
        for info in &infos {
            assert_eq!(info.get_port(), 8443);
            assert_eq!(info.get_hostname(), "parlor.local.");
            // Bound to every interface: the daemon fills in their addresses.
            assert!(info.get_addresses().is_empty());
            assert!(info.is_addr_auto());
            assert_eq!(info.get_property_val_str("path"), Some("/"));
            assert_eq!(info.get_property_val_str("scheme"), Some("https"));
        }
    }

    #[test]
    fn a_loopback_bind_announces_nothing() {
        assert!(Advertiser::start("127.0.0.1:8080".parse().expect("addr"), Scheme::Http).is_none());
    }
}
