//! HTTPS and WSS on the listening port: the rustls server configuration from PEM files
//! or from a certificate that Parlor's own certificate authority (`ca`) signs under
//! `--data/tls/`, and a listener (`listener`) that does the TLS handshake of every
//! accepted connection before axum sees it, and answers plain HTTP on the same port
//! with the `/trust` page alone.
//!
//! The crypto provider is `ring`: it cross-compiles for the Raspberry Pi (aarch64,
//! armv7) with Debian's cross gcc alone, where aws-lc-rs also needs cmake.

pub mod ca;
mod listener;

pub use ca::{Authority, CA_CERT_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE};
pub use listener::{Prefixed, TlsListener};

use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The certificate authority's and the server certificate's directory inside `--data`.
pub const TLS_DIR: &str = "tls";

/// Where the certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files given on the command line: the certificate chain and its key.
    Files { cert: PathBuf, key: PathBuf },
    /// A certificate from Parlor's own certificate authority, both kept under
    /// `--data/tls/` (`--tls-self-signed`).
    SelfSigned,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{} holds no usable PEM certificate", path.display())]
    Cert {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("{} holds no usable PEM private key", path.display())]
    Key {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("cannot use the certificate {} with the key {}", cert.display(), key.display())]
    Config {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    #[error("cannot write {}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot make a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot trust the certificates in {}: {source}", path.display())]
    Pin {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("Parlor's certificate authority in {} is unusable ({reason}); delete that directory to start over", path.display())]
    Authority { path: PathBuf, reason: String },
}

/// TLS as `parlor serve` runs it.
pub struct Tls {
    pub acceptor: TlsAcceptor,
    /// What a client of this machine pins (`parlor broadcast`): the authority's
    /// certificate, or the operator's chain.
    pub pin: PathBuf,
    /// Parlor's certificate authority, absent with the operator's certificate.
    pub authority: Option<Authority>,
}

/// TLS for `source`: reads the PEM files, or makes (or reuses) Parlor's certificate
/// authority and a server certificate under `data` naming this machine and `ips`.
pub fn acceptor(source: &TlsSource, data: &Path, ips: &[IpAddr]) -> Result<Tls, TlsError> {
    let (cert, key, pin, authority) = match source {
        TlsSource::Files { cert, key } => (cert.clone(), key.clone(), cert.clone(), None),
        TlsSource::SelfSigned => {
            let names = self_signed_names(hostname().as_deref(), ips);
            let issued = ca::ensure(&data.join(TLS_DIR), &names)?;
            (issued.chain, issued.key, issued.ca, Some(issued.authority))
        }
    };
    let acceptor = TlsAcceptor::from(Arc::new(server_config(&cert, &key)?));
    Ok(Tls {
        acceptor,
        pin,
        authority,
    })
}

/// A client configuration that trusts exactly the certificates in `pem` (what a Parlor
/// on this machine pins: its certificate authority, or the operator's chain).
pub fn pinned_client_config(pem: &Path) -> Result<rustls::ClientConfig, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in read_certs(pem)? {
        roots.add(cert).map_err(|source| TlsError::Pin {
            path: pem.to_owned(),
            source,
        })?;
    }
    rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|source| TlsError::Pin {
            path: pem.to_owned(),
            source,
        })
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

pub(crate) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A rustls server configuration (HTTP/1.1) from a PEM certificate chain and key.
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsError> {
    let chain = read_certs(cert)?;
    let key_der = read_key(key)?;
    let config_error = |source| TlsError::Config {
        cert: cert.to_owned(),
        key: key.to_owned(),
        source,
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(config_error)?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(config_error)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Every certificate in a PEM file, in order; at least one.
pub fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .and_then(|certs| {
            if certs.is_empty() {
                Err(rustls::pki_types::pem::Error::NoItemsFound)
            } else {
                Ok(certs)
            }
        });
    certs.map_err(|source| TlsError::Cert {
        path: path.to_owned(),
        source,
    })
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|source| TlsError::Key {
        path: path.to_owned(),
        source,
    })
}

/// The names and addresses a server certificate is asked for (the authority's name
/// constraints may leave some out: see `ca`).
pub fn self_signed_names(hostname: Option<&str>, ips: &[IpAddr]) -> Vec<String> {
    let mut names = vec!["localhost".to_string(), "parlor.local".to_string()];
    if let Some(host) = hostname.map(str::trim).filter(|h| !h.is_empty()) {
        let host = host.trim_end_matches(".local").to_ascii_lowercase();
        names.push(host.clone());
        names.push(format!("{host}.local"));
    }
    names.push("127.0.0.1".into());
    names.push("::1".into());
    names.extend(ips.iter().map(IpAddr::to_string));
    let mut seen = std::collections::HashSet::new();
    names.retain(|n| seen.insert(n.clone()));
    names
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    let err = |source| TlsError::Write {
        path: dir.to_owned(),
        source,
    };
    crate::private::dir(dir).map_err(err)
}

/// Writes `bytes` to a temporary file with `mode` and renames it to `path`.
pub(crate) fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
    use std::io::Write;
    let err = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    let tmp = path.with_extension("pem.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp).map_err(err)?;
    file.write_all(bytes).map_err(err)?;
    file.sync_all().map_err(err)?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(err)
}

/// This machine's host name.
pub fn hostname() -> Option<String> {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes, which gethostname
        // does not exceed.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc != 0 {
            return None;
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        std::str::from_utf8(&buf[..end]).ok().map(str::to_owned)
    }
    #[cfg(not(unix))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_names_cover_this_machine_and_its_addresses() {
        let ips: Vec<IpAddr> = vec!["192.168.1.23".parse().expect("ip")];
        let names = self_signed_names(Some("RaspberryPi\n"), &ips);
        assert_eq!(
            names,
            [
                "localhost",
                "parlor.local",
                "raspberrypi",
                "raspberrypi.local",
                "127.0.0.1",
                "::1",
                "192.168.1.23"
            ]
        );
        let names = self_signed_names(None, &["127.0.0.1".parse().expect("ip")]);
        assert_eq!(names, ["localhost", "parlor.local", "127.0.0.1", "::1"]);
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
        let other = rcgen::KeyPair::generate().expect("key");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, made.cert.pem()).expect("write");
        std::fs::write(&key, other.serialize_pem()).expect("write");
        let err = server_config(&cert, &key).expect_err("mismatch");
        assert!(matches!(err, TlsError::Config { .. }), "{err}");
    }

    #[test]
    fn files_that_are_not_pem_name_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, b"not a certificate").expect("write");
        let err = server_config(&junk, &junk).expect_err("junk");
        assert!(err.to_string().contains("junk.pem"), "{err}");
        let missing = dir.path().join("missing.pem");
        let err = server_config(&missing, &junk).expect_err("missing");
        assert!(err.to_string().contains("missing.pem"), "{err}");
    }
}
