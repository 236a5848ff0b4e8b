//! VAPID (RFC 8292): the server's P-256 key pair, made once under `--data/push/` and
//! kept there (owner-only), since every browser subscription is bound to its public
//! key; and the ES256 JWT that identifies the server to a push service on each send.

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The key file under `--data`: PKCS#8 DER.
pub const KEY_FILE: &str = "push/vapid.p8";
/// How long a JWT is valid (RFC 8292 allows up to 24 hours).
pub const JWT_LIFETIME_SECS: u64 = 12 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum VapidError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} holds no P-256 key (remove it to make a new one; every subscription then ends)"
    )]
    BadKey { path: PathBuf },
    #[error("cannot make a key pair")]
    Random,
}

pub struct Vapid {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    /// The public key, base64url without padding (the `k=` of the header).
    public: String,
}

impl Vapid {
    /// The key pair of `data`, made and written (0600) if there is none yet.
    pub fn load_or_create(data: &Path) -> Result<Vapid, VapidError> {
        let path = data.join(KEY_FILE);
        let io = |source| VapidError::Io {
            path: path.clone(),
            source,
        };
        let rng = SystemRandom::new();
        let der = match std::fs::read(&path) {
            Ok(der) => der,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| VapidError::Random)?;
                if let Some(dir) = path.parent() {
                    crate::private::dir(dir).map_err(io)?;
                }
                // Written aside and renamed: a crash never leaves half a key.
                let part = path.with_extension("part");
                let mut file = crate::private::create(&part).map_err(io)?;
                file.write_all(doc.as_ref()).map_err(io)?;
                file.sync_all().map_err(io)?;
                std::fs::rename(&part, &path).map_err(io)?;
                tracing::info!(path = %path.display(), "made the push (VAPID) key pair");
                doc.as_ref().to_vec()
            }
            Err(e) => return Err(io(e)),
        };
        crate::private::file(&path).map_err(io)?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng)
            .map_err(|_| VapidError::BadKey { path: path.clone() })?;
        let public = data_encoding::BASE64URL_NOPAD.encode(pair.public_key().as_ref());
        Ok(Vapid { pair, rng, public })
    }

    /// The public key, base64url without padding (65-byte uncompressed point).
    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The `Authorization` header for a push to a service of origin `audience`
    /// (`https://host[:port]`), valid from `now` (Unix seconds).
    pub fn authorization(
        &self,
        audience: &str,
        contact: &str,
        now: u64,
    ) -> Result<String, VapidError> {
        let b64 = |bytes: &[u8]| data_encoding::BASE64URL_NOPAD.encode(bytes);
        let header = b64(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": audience,
            "exp": now + JWT_LIFETIME_SECS,
            "sub": contact,
        });
        let claims = b64(claims.to_string().as_bytes());
        let signing_input = format!("{header}.{claims}");
        let signature = self
            .pair
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| VapidError::Random)?;
        Ok(format!(
            "vapid t={signing_input}.{}, k={}",
            b64(signature.as_ref()),
            self.public
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    #[test]
    fn the_key_is_made_once_and_signs_verifiable_tokens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = Vapid::load_or_create(dir.path()).expect("made");
        let again = Vapid::load_or_create(dir.path()).expect("read");
        assert_eq!(first.public_key(), again.public_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .expect("file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let header = again
            .authorization("https://push.example", "mailto:a@b.c", 1000)
            .expect("signed");
        let rest = header.strip_prefix("vapid t=").expect("scheme");
        let (jwt, key) = rest.split_once(", k=").expect("key");
        assert_eq!(key, first.public_key());
        let (input, sig) = jwt.rsplit_once('.').expect("signature");
        let decode = |s: &str| {
            data_encoding::BASE64URL_NOPAD
                .decode(s.as_bytes())
                .expect("b64")
        };
        let public = decode(key);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &public)
            .verify(input.as_bytes(), &decode(sig))
            .expect("the signature verifies");
        let claims = input.split('.').nth(1).expect("claims");
        let claims: serde_json::Value =
            serde_json::from_slice(&decode(claims)).expect("claims json");
        assert_eq!(claims["aud"], "https://push.example");
        assert_eq!(claims["exp"], 1000 + JWT_LIFETIME_SECS);
        assert_eq!(claims["sub"], "mailto:a@b.c");
    }

    #[test]
    fn a_damaged_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("push")).expect("dir");
        std::fs::write(dir.path().join(KEY_FILE), b"garbage").expect("write");
        assert!(matches!(
            Vapid::load_or_create(dir.path()),
            Err(VapidError::BadKey { .. })
        ));
    }
}
