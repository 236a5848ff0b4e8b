//! HTTPS and WSS on the listening port: the rustls server configuration from PEM files
//! or from a self-signed certificate kept under `--data/tls/`, and a listener that
//! does the TLS handshake of every accepted connection before axum sees it.
//!
//! The crypto provider is `ring`: it cross-compiles for the Raspberry Pi (aarch64,
//! armv7) with Debian's cross gcc alone, where aws-lc-rs also needs cmake.

use axum::serve::Listener;
use std::fmt::Debug;
use std::io;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// The self-signed certificate's directory inside `--data`.
pub const TLS_DIR: &str = "tls";
/// The self-signed certificate, PEM.
pub const CERT_FILE: &str = "cert.pem";
/// Its private key, PEM (mode 0600).
pub const KEY_FILE: &str = "key.pem";
/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes running at once; past that, accepting waits for one to finish.
const MAX_HANDSHAKES: usize = 256;
/// Apple devices refuse server certificates valid for longer than 825 days.
const SELF_SIGNED_DAYS: i64 = 820;
/// A self-signed certificate that expires within this many days is replaced at start.
const RENEW_DAYS: u64 = 30;

/// Where the certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files given on the command line: the certificate chain and its key.
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate made on first start and kept under `--data/tls/`.
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
    #[error("cannot make a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("cannot trust the certificates in {}: {source}", path.display())]
    Pin {
        path: PathBuf,
        source: rustls::Error,
    },
}

/// The acceptor for `source`: reads the PEM files, or makes (or reuses) the
/// self-signed certificate under `data`, naming this machine and `ips`. Also answers
/// the certificate chain's file.
pub fn acceptor(
    source: &TlsSource,
    data: &Path,
    ips: &[IpAddr],
) -> Result<(TlsAcceptor, PathBuf), TlsError> {
    let (cert, key) = match source {
        TlsSource::Files { cert, key } => (cert.clone(), key.clone()),
        TlsSource::SelfSigned => self_signed(data, ips)?,
    };
    let acceptor = TlsAcceptor::from(Arc::new(server_config(&cert, &key)?));
    Ok((acceptor, cert))
}

/// A client configuration that trusts exactly the certificates in `pem` (the chain a
/// Parlor on this machine serves: its self-signed certificate is its own root).
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

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
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

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
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

/// The self-signed certificate and key under `data/tls/`: reused when both are
/// there and valid for at least 30 more days, else made anew for `localhost`,
/// `parlor.local`, this machine's host name (also under `.local`), `127.0.0.1`, `::1`
/// and `ips`.
pub fn self_signed(data: &Path, ips: &[IpAddr]) -> Result<(PathBuf, PathBuf), TlsError> {
    let dir = data.join(TLS_DIR);
    let cert = dir.join(CERT_FILE);
    let key = dir.join(KEY_FILE);
    if dir.is_dir() {
        // Kept from an earlier start, perhaps readable by others: owner-only again.
        create_private_dir(&dir)?;
        crate::private::file(&key).map_err(|source| TlsError::Write {
            path: key.clone(),
            source,
        })?;
    }
    if cert.is_file() && key.is_file() {
        match still_valid(&cert) {
            Ok(()) => return Ok((cert, key)),
            Err(reason) => {
                tracing::info!(cert = %cert.display(), %reason, "making a new self-signed certificate");
            }
        }
    }
    let names = self_signed_names(hostname().as_deref(), ips);
    let made = generate(names.clone())?;
    create_private_dir(&dir)?;
    // The key first: a certificate on disk always has its key next to it.
    write_file(&key, made.signing_key.serialize_pem().as_bytes(), 0o600)?;
    write_file(&cert, made.cert.pem().as_bytes(), 0o644)?;
    tracing::info!(cert = %cert.display(), ?names, "made a self-signed certificate");
    Ok((cert, key))
}

/// The names and addresses a self-signed certificate is made for.
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

fn generate(names: Vec<String>) -> Result<rcgen::CertifiedKey<rcgen::KeyPair>, rcgen::Error> {
    let mut params = rcgen::CertificateParams::new(names)?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Parlor (self-signed)");
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(SELF_SIGNED_DAYS);
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let signing_key = rcgen::KeyPair::generate()?;
    let cert = params.self_signed(&signing_key)?;
    Ok(rcgen::CertifiedKey { cert, signing_key })
}

/// Whether the certificate in `path`, trusted as its own root, verifies for
/// `localhost` now and in 30 days.
fn still_valid(path: &Path) -> Result<(), String> {
    use rustls::client::danger::ServerCertVerifier;
    let cert = read_certs(path)
        .map_err(|e| e.to_string())?
        .into_iter()
        .next()
        .ok_or("no certificate")?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.clone()).map_err(|e| e.to_string())?;
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| e.to_string())?;
    let later = UnixTime::now()
        .as_secs()
        .saturating_add(RENEW_DAYS * 24 * 3600);
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    verifier
        .verify_server_cert(
            &cert,
            &[],
            &name,
            &[],
            UnixTime::since_unix_epoch(Duration::from_secs(later)),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn create_private_dir(dir: &Path) -> Result<(), TlsError> {
    let err = |source| TlsError::Write {
        path: dir.to_owned(),
        source,
    };
    crate::private::dir(dir).map_err(err)
}

/// Writes `bytes` to a temporary file with `mode` and renames it to `path`.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TlsError> {
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
fn hostname() -> Option<String> {
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

/// A listener that hands axum only connections whose TLS handshake succeeded. Each
/// handshake runs as its own task with a time limit, so a slow or silent client holds
/// nothing but its own connection; a failed handshake drops that connection alone.
pub struct TlsListener<L: Listener> {
    inner: L,
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
    handshakes: JoinSet<Option<Accepted<L>>>,
}

/// A connection whose handshake succeeded, and its peer.
type Accepted<L> = (TlsStream<<L as Listener>::Io>, <L as Listener>::Addr);

impl<L: Listener> TlsListener<L> {
    pub fn new(inner: L, acceptor: TlsAcceptor) -> TlsListener<L> {
        TlsListener {
            inner,
            acceptor,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            handshakes: JoinSet::new(),
        }
    }

    /// How long a client may take to finish its handshake (10 s by default).
    pub fn with_handshake_timeout(mut self, limit: Duration) -> TlsListener<L> {
        self.handshake_timeout = limit;
        self
    }
}

impl<L> Listener for TlsListener<L>
where
    L: Listener,
    L::Addr: Debug + Send + 'static,
{
    type Io = TlsStream<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Both branches are cancel-safe: the handshakes live in `self`.
        loop {
            tokio::select! {
                (io, peer) = self.inner.accept(), if self.handshakes.len() < MAX_HANDSHAKES => {
                    let acceptor = self.acceptor.clone();
                    self.handshakes.spawn(handshake(acceptor, io, peer, self.handshake_timeout));
                }
                Some(done) = self.handshakes.join_next() => {
                    if let Ok(Some(conn)) = done {
                        return conn;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

async fn handshake<Io, A>(
    acceptor: TlsAcceptor,
    io: Io,
    peer: A,
    limit: Duration,
) -> Option<(TlsStream<Io>, A)>
where
    Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
    A: Debug,
{
    match tokio::time::timeout(limit, acceptor.accept(io)).await {
        Ok(Ok(stream)) => Some((stream, peer)),
        Ok(Err(error)) => {
            tracing::debug!(?peer, %error, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(?peer, "TLS handshake timed out");
            None
        }
    }
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
    fn a_self_signed_certificate_is_made_once_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key) = self_signed(dir.path(), &[]).expect("made");
        let first = std::fs::read(&cert).expect("cert");
        server_config(&cert, &key).expect("usable");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).expect("key").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        self_signed(dir.path(), &[]).expect("reused");
        assert_eq!(std::fs::read(&cert).expect("cert"), first);
    }

    #[test]
    fn an_expiring_self_signed_certificate_is_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut params =
            rcgen::CertificateParams::new(vec!["localhost".to_string()]).expect("params");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(800);
        params.not_after = now + time::Duration::days(10);
        let key_pair = rcgen::KeyPair::generate().expect("key");
        let old = params.self_signed(&key_pair).expect("cert");
        let tls = dir.path().join(TLS_DIR);
        std::fs::create_dir_all(&tls).expect("dir");
        std::fs::write(tls.join(CERT_FILE), old.pem()).expect("write");
        std::fs::write(tls.join(KEY_FILE), key_pair.serialize_pem()).expect("write");
        let (cert, _) = self_signed(dir.path(), &[]).expect("renewed");
        assert_ne!(std::fs::read_to_string(cert).expect("cert"), old.pem());
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let made = generate(vec!["localhost".into()]).expect("cert");
        let other = rcgen::KeyPair::generate().expect("key");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, made.cert.pem()).expect("write");
        std::fs::write(&key, other.serialize_pem()).expect("write");
        let err = server_config(&cert, &key).expect_err("mismatch");
        assert!(matches!(err, TlsError::Config { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_silent_client_is_dropped_after_the_timeout_and_others_get_in() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let dir = tempfile::tempdir().expect("tempdir");
        let (cert, key) = self_signed(dir.path(), &[]).expect("made");
        let acceptor = TlsAcceptor::from(Arc::new(server_config(&cert, &key).expect("config")));
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = tcp.local_addr().expect("addr");
        let mut listener =
            TlsListener::new(tcp, acceptor).with_handshake_timeout(Duration::from_millis(300));

        let mut silent = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut roots = rustls::RootCertStore::empty();
        for c in read_certs(&cert).expect("cert") {
            roots.add(c).expect("root");
        }
        let client_config = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        let client = tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let name = ServerName::try_from("localhost").expect("name");
            let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client_config))
                .connect(name, tcp)
                .await
                .expect("handshake");
            tls.write_all(b"hello").await.expect("write");
            tls.flush().await.expect("flush");
            tls
        });
        let (mut stream, _) = tokio::time::timeout(Duration::from_secs(5), listener.accept())
            .await
            .expect("the client that speaks TLS gets in while the silent one waits");
        let mut hello = [0u8; 5];
        stream.read_exact(&mut hello).await.expect("read");
        assert_eq!(&hello, b"hello");
        let _client = client.await.expect("client");

        let mut buf = [0u8; 16];
        let read = tokio::time::timeout(Duration::from_secs(3), silent.read(&mut buf))
            .await
            .expect("the silent client is dropped after the handshake timeout");
        assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
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
