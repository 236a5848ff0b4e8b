//! Parlor's own certificate authority for `--tls-self-signed`: made once under
//! `--data/tls/`, it signs the server certificate, so a phone trusts the authority once
//! (from `/trust`) and keeps trusting every server certificate made later, after the
//! machine got a new address or the old certificate came near its end.
//!
//! The authority is limited by name constraints to the names and addresses a home
//! network uses (`localhost`, `*.local`, `*.home.arpa`, `*.internal`, loopback, private,
//! link-local, carrier-grade NAT and unique-local addresses): its key, should it ever
//! leave the data directory, cannot make a certificate a device would accept for a bank.
//! RFC 5280 leaves a root's constraints to the verifier: Chrome (since 2024), Firefox,
//! OpenSSL and rustls apply them; one that does not only loses the limit. A machine name
//! or an address outside the constraints (a public IP, a bare host name) is left out of
//! the server certificate rather than making a certificate every verifier refuses.
//!
//! The authority's name is derived from its key (`Parlor local CA 1A2B3C4D`), so a
//! certificate can be issued from the key file alone and two Parlors' authorities are
//! told apart in a phone's settings.

use super::{create_private_dir, provider, read, read_certs, write_file, TlsError};
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, PublicKeyData, SerialNumber,
};
use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};

/// The authority's certificate, PEM (mode 0644: it is public).
pub const CA_CERT_FILE: &str = "ca.pem";
/// The authority's private key, PEM (mode 0600: it never leaves the data directory).
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// The server certificate chain (server certificate, then the authority), PEM.
pub const CERT_FILE: &str = "cert.pem";
/// The server certificate's private key, PEM (mode 0600).
pub const KEY_FILE: &str = "key.pem";

/// The authority lives about ten years: a phone trusts it once.
const CA_DAYS: i64 = 3650;
/// Apple refuses server certificates valid for more than 825 days; its 398-day limit
/// applies to authorities shipped with the system, not to one a person installed. The
/// certificate is renewed only at start, so it is kept as long as Apple allows.
pub const LEAF_DAYS: i64 = 820;
/// A server certificate that ends within this many days is replaced at start.
pub const RENEW_DAYS: u64 = 30;

/// Names (and their subdomains) the authority may vouch for.
const PERMITTED_NAMES: &[&str] = &["localhost", "local", "home.arpa", "internal"];
/// Networks the authority may vouch for: loopback, RFC 1918, carrier-grade NAT (also
/// Tailscale), link-local, IPv6 loopback, unique-local and link-local.
const PERMITTED_NETS: &[(&str, u8)] = &[
    ("127.0.0.0", 8),
    ("10.0.0.0", 8),
    ("172.16.0.0", 12),
    ("192.168.0.0", 16),
    ("100.64.0.0", 10),
    ("169.254.0.0", 16),
    ("::1", 128),
    ("fc00::", 7),
    ("fe80::", 10),
];

/// The authority as `/trust` offers it.
#[derive(Debug, Clone)]
pub struct Authority {
    /// Its certificate, DER.
    pub der: CertificateDer<'static>,
    /// Its common name (`Parlor local CA 1A2B3C4D`).
    pub name: String,
}

/// What [`ensure`] leaves on disk.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The chain the server serves: its certificate, then the authority's.
    pub chain: PathBuf,
    /// The server certificate's key.
    pub key: PathBuf,
    /// The authority's certificate alone (what a client pins).
    pub ca: PathBuf,
    pub authority: Authority,
}

/// Makes (once) the authority under `dir`, and a server certificate for `names` signed
/// by it unless the one there is the authority's, names all of `names` the authority
/// may vouch for, and stays valid for [`RENEW_DAYS`] more days. A data directory of an
/// older Parlor (one self-signed certificate) gets an authority and a new certificate.
pub fn ensure(dir: &Path, names: &[String]) -> Result<Issued, TlsError> {
    create_private_dir(dir)?;
    let chain = dir.join(CERT_FILE);
    let key = dir.join(KEY_FILE);
    let ca = dir.join(CA_CERT_FILE);
    let ca_key = dir.join(CA_KEY_FILE);
    // Kept from an earlier start, perhaps readable by others: owner-only again.
    for secret in [&key, &ca_key] {
        if secret.is_file() {
            crate::private::file(secret).map_err(|source| TlsError::Write {
                path: secret.clone(),
                source,
            })?;
        }
    }
    let (ca_der, ca_keypair) = load_or_make(&ca, &ca_key)?;
    let authority = Authority {
        der: ca_der.clone(),
        name: ca_name(&ca_keypair),
    };
    let leaf_names = permitted_names(names);
    let issued = Issued {
        chain: chain.clone(),
        key: key.clone(),
        ca: ca.clone(),
        authority,
    };
    if chain.is_file() && key.is_file() {
        let later = UnixTime::now()
            .as_secs()
            .saturating_add(RENEW_DAYS * 24 * 3600);
        match covers(&chain, &ca_der, &leaf_names, later) {
            Ok(()) => return Ok(issued),
            Err(reason) => {
                tracing::info!(cert = %chain.display(), %reason, "making a new server certificate");
            }
        }
    }
    let (leaf_pem, leaf_key) = issue(&ca_keypair, &leaf_names)?;
    let ca_pem = pem(&ca_der);
    // The key first: a certificate on disk always has its key next to it.
    write_file(&key, leaf_key.serialize_pem().as_bytes(), 0o600)?;
    write_file(&chain, format!("{leaf_pem}{ca_pem}").as_bytes(), 0o644)?;
    // A key that is not the certificate's (files mixed by hand) shows here, not in a
    // phone's refusal.
    covers(&chain, &ca_der, &leaf_names, UnixTime::now().as_secs()).map_err(|reason| {
        TlsError::Authority {
            path: ca.clone(),
            reason,
        }
    })?;
    tracing::info!(cert = %chain.display(), names = ?leaf_names, "made a server certificate");
    Ok(issued)
}

/// The authority's certificate and key from `cert` and `key`, or a new authority
/// written there when either is missing.
fn load_or_make(cert: &Path, key: &Path) -> Result<(CertificateDer<'static>, KeyPair), TlsError> {
    if cert.is_file() && key.is_file() {
        let pem = String::from_utf8_lossy(&read(key)?).into_owned();
        let keypair = KeyPair::from_pem(&pem).map_err(|e| TlsError::Authority {
            path: key.to_owned(),
            reason: e.to_string(),
        })?;
        let der = read_certs(cert)?
            .into_iter()
            .next()
            .ok_or_else(|| TlsError::Authority {
                path: cert.to_owned(),
                reason: "no certificate".into(),
            })?;
        return Ok((der, keypair));
    }
    if cert.is_file() || key.is_file() {
        tracing::warn!(
            dir = %cert.parent().unwrap_or(cert).display(),
            "half of Parlor's certificate authority is missing: making a new one, which devices must trust again"
        );
    }
    let keypair = KeyPair::generate()?;
    let mut params = ca_params(&keypair);
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(CA_DAYS);
    params.serial_number = Some(serial());
    let made = params.self_signed(&keypair)?;
    write_file(key, keypair.serialize_pem().as_bytes(), 0o600)?;
    write_file(cert, made.pem().as_bytes(), 0o644)?;
    tracing::info!(cert = %cert.display(), name = %ca_name(&keypair), "made Parlor's certificate authority");
    Ok((made.der().clone(), keypair))
}

/// The authority's subject and extensions. Its name comes from its key, so the issuer
/// of a new certificate is rebuilt from the key file alone.
fn ca_params(key: &KeyPair) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, ca_name(key));
    dn.push(DnType::OrganizationName, "Parlor");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut permitted: Vec<GeneralSubtree> = PERMITTED_NAMES
        .iter()
        .map(|n| GeneralSubtree::DnsName((*n).to_string()))
        .collect();
    permitted.extend(PERMITTED_NETS.iter().filter_map(|(net, prefix)| {
        net.parse::<IpAddr>()
            .ok()
            .map(|ip| GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(ip, *prefix)))
    }));
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: permitted,
        excluded_subtrees: Vec::new(),
    });
    params
}

/// `Parlor local CA` and the first four bytes of the SHA-256 of its public key.
fn ca_name(key: &KeyPair) -> String {
    let digest = Sha256::digest(key.subject_public_key_info());
    format!(
        "Parlor local CA {}",
        data_encoding::HEXUPPER.encode(&digest[..4])
    )
}

/// A fresh positive 16-byte serial number.
fn serial() -> SerialNumber {
    let mut raw = [0u8; 16];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    raw[0] &= 0x7f;
    raw[0] |= 0x01;
    SerialNumber::from_slice(&raw)
}

/// A server certificate for `names` signed by the authority's `ca_key`: its PEM and
/// its new key.
pub fn issue(ca_key: &KeyPair, names: &[String]) -> Result<(String, KeyPair), TlsError> {
    issue_for(ca_key, names, LEAF_DAYS)
}

/// [`issue`] with a validity of `days` (tests make ones near their end).
pub fn issue_for(
    ca_key: &KeyPair,
    names: &[String],
    days: i64,
) -> Result<(String, KeyPair), TlsError> {
    let mut params = CertificateParams::new(names.to_vec())?;
    let mut dn = DistinguishedName::new();
    // Not a host name: no verifier mistakes it for one.
    dn.push(DnType::CommonName, "Parlor server");
    params.distinguished_name = dn;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(days);
    params.serial_number = Some(serial());
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate()?;
    let issuer = Issuer::new(ca_params(ca_key), ca_key);
    let cert = params.signed_by(&key, &issuer)?;
    Ok((cert.pem(), key))
}

/// `names` that the authority's name constraints permit; the others are logged.
pub fn permitted_names(names: &[String]) -> Vec<String> {
    let (kept, left): (Vec<String>, Vec<String>) =
        names.iter().cloned().partition(|n| permitted(n));
    if !left.is_empty() {
        tracing::info!(names = ?left, "left out of the server certificate: outside what Parlor's certificate authority may vouch for");
    }
    kept
}

/// Whether the authority may vouch for `name` (a DNS name or an IP address).
pub fn permitted(name: &str) -> bool {
    match name.parse::<IpAddr>() {
        Ok(ip) => PERMITTED_NETS.iter().any(|(net, prefix)| {
            net.parse::<IpAddr>()
                .is_ok_and(|net| in_net(ip, net, *prefix))
        }),
        // A name a certificate cannot carry (not ASCII) is left out.
        Err(_) if rustls::pki_types::DnsName::try_from(name).is_err() => false,
        Err(_) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            PERMITTED_NAMES
                .iter()
                .any(|p| name == *p || name.ends_with(&format!(".{p}")))
        }
    }
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

/// Whether the chain in `path` starts with a server certificate that the authority
/// `ca` (trusted alone) vouches for, for every one of `names`, at `at` (seconds since
/// the epoch), and carries the authority after it.
pub fn covers(
    path: &Path,
    ca: &CertificateDer<'_>,
    names: &[String],
    at: u64,
) -> Result<(), String> {
    use rustls::client::danger::ServerCertVerifier;
    let chain = read_certs(path).map_err(|e| e.to_string())?;
    let (leaf, rest) = chain.split_first().ok_or("no certificate")?;
    if rest.first() != Some(ca) {
        return Err("the chain does not carry the current authority".into());
    }
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(ca.clone().into_owned())
        .map_err(|e| e.to_string())?;
    let verifier =
        rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| e.to_string())?;
    let at = UnixTime::since_unix_epoch(Duration::from_secs(at));
    for name in names {
        // `permitted_names` left out what is not a name or an address; should one
        // come here anyway, it is no reason to remake the certificate at every start.
        let Ok(server_name) = ServerName::try_from(name.as_str()) else {
            continue;
        };
        verifier
            .verify_server_cert(leaf, &[], &server_name, &[], at)
            .map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(())
}

/// `der` as a PEM certificate.
pub fn pem(der: &CertificateDer<'_>) -> String {
    let body = data_encoding::BASE64.encode(der.as_ref());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_rustls::rustls::pki_types::pem::PemObject;

    #[test]
    fn the_authority_vouches_for_home_network_names_only() {
        for ok in [
            "localhost",
            "parlor.local",
            "pi.home.arpa",
            "127.0.0.1",
            "192.168.1.23",
            "10.1.2.3",
            "172.31.0.1",
            "100.100.1.1",
            "::1",
            "fd00::2",
        ] {
            assert!(permitted(ok), "{ok}");
        }
        for refused in [
            "raspberrypi",
            "example.com",
            "local.example.com",
            "8.8.8.8",
            "172.32.0.1",
            "2001:db8::1",
            "pî.local",
        ] {
            assert!(!permitted(refused), "{refused}");
        }
    }

    #[test]
    fn pem_round_trips() {
        let key = KeyPair::generate().expect("key");
        let cert = ca_params(&key).self_signed(&key).expect("cert");
        let der = cert.der().clone();
        let parsed = CertificateDer::pem_slice_iter(pem(&der).as_bytes())
            .next()
            .expect("one")
            .expect("parsed");
        assert_eq!(parsed, der);
    }
}
