//! Web Push message encryption (RFC 8291, `aes128gcm` of RFC 8188): a fresh P-256 key
//! pair per message, ECDH with the subscription's key, HKDF-SHA256 with its auth
//! secret and a random salt, one AES-128-GCM record of 4096 bytes at most. All of it
//! is `ring`'s (already built for TLS): no OpenSSL, pure Rust and assembly that
//! cross-compiles for the Raspberry Pi.

use ring::rand::{SecureRandom, SystemRandom};
use ring::{aead, agreement, hkdf};

/// The record size written in the header: the whole payload is one record.
pub const RECORD_SIZE: u32 = 4096;
/// Bytes of a payload's header: salt (16), record size (4), key id length (1) and the
/// key id (the server's 65-byte ephemeral public key).
const HEADER_BYTES: usize = 16 + 4 + 1 + 65;
/// Largest plaintext one record holds (the delimiter and the tag take 17 bytes).
pub const MAX_PLAINTEXT: usize = RECORD_SIZE as usize - 17 - HEADER_BYTES;

#[derive(Debug, thiserror::Error)]
pub enum EncryptError {
    #[error("the subscription's key is not a P-256 point")]
    BadKey,
    #[error("the payload is over {MAX_PLAINTEXT} bytes")]
    TooLong,
    #[error("the system's random numbers failed")]
    Random,
    #[error("encryption failed")]
    Crypto,
}

/// Encrypts `plaintext` to the subscription of public key `ua_public` (65 bytes) and
/// authentication secret `auth` (16 bytes): the body of the push request.
pub fn encrypt(ua_public: &[u8], auth: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
    let rng = SystemRandom::new();
    let mut salt = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| EncryptError::Random)?;
    let private = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)
        .map_err(|_| EncryptError::Random)?;
    let as_public = private
        .compute_public_key()
        .map_err(|_| EncryptError::Crypto)?;
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, ua_public);
    let sealed = agreement::agree_ephemeral(private, &peer, |secret| {
        seal(
            secret,
            auth,
            ua_public,
            as_public.as_ref(),
            &salt,
            plaintext,
        )
    })
    .map_err(|_| EncryptError::BadKey)?;
    sealed
}

/// RFC 8291 section 3.4 from the ECDH secret on: the keys derived, the one record
/// sealed, the header put before it.
pub fn seal(
    ecdh_secret: &[u8],
    auth: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    salt: &[u8; 16],
    plaintext: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    if plaintext.len() > MAX_PLAINTEXT {
        return Err(EncryptError::TooLong);
    }
    if ua_public.len() != 65 || as_public.len() != 65 {
        return Err(EncryptError::BadKey);
    }
    // PRK_key = HKDF-Extract(auth, ecdh_secret); IKM = HKDF-Expand(PRK_key, key_info, 32).
    let mut key_info = Vec::with_capacity(14 + 130);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public);
    let mut ikm = [0u8; 32];
    expand(
        &hkdf::Salt::new(hkdf::HKDF_SHA256, auth).extract(ecdh_secret),
        &key_info,
        &mut ikm,
    )?;
    // PRK = HKDF-Extract(salt, IKM); the content key and the nonce expand from it.
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(&ikm);
    let mut cek = [0u8; 16];
    expand(&prk, b"Content-Encoding: aes128gcm\0", &mut cek)?;
    let mut nonce = [0u8; 12];
    expand(&prk, b"Content-Encoding: nonce\0", &mut nonce)?;
    let key = aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| EncryptError::Crypto)?;
    let key = aead::LessSafeKey::new(key);
    let mut body = Vec::with_capacity(HEADER_BYTES + plaintext.len() + 17);
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public);
    let mut record = Vec::with_capacity(plaintext.len() + 17);
    record.extend_from_slice(plaintext);
    // The last (and only) record's delimiter, no padding.
    record.push(2);
    key.seal_in_place_append_tag(
        aead::Nonce::assume_unique_for_key(nonce),
        aead::Aad::empty(),
        &mut record,
    )
    .map_err(|_| EncryptError::Crypto)?;
    body.extend_from_slice(&record);
    Ok(body)
}

/// An HKDF output of `out.len()` bytes.
struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn expand(prk: &hkdf::Prk, info: &[u8], out: &mut [u8]) -> Result<(), EncryptError> {
    let infos = [info];
    prk.expand(&infos, Len(out.len()))
        .and_then(|okm| okm.fill(out))
        .map_err(|_| EncryptError::Crypto)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        data_encoding::BASE64URL_NOPAD
            .decode(s.as_bytes())
            .expect("the vector is base64url")
    }

    /// RFC 8291 section 5 (and appendix A): from the example's ECDH secret, keys and
    /// salt, the body the RFC gives, byte for byte.
    #[test]
    fn the_rfc_8291_example_seals_to_its_body() {
        let salt: [u8; 16] = b64("DGv6ra1nlYgDCS1FRnbzlw").try_into().expect("16 bytes");
        let body = seal(
            &b64("kyrL1jIIOHEzg3sM2ZWRHDRB62YACZhhSlknJ672kSs"),
            &b64("BTBZMqHH6r4Tts7J_aSIgg"),
            &b64("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"),
            &b64("BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"),
            &salt,
            b"When I grow up, I want to be a watermelon",
        )
        .expect("sealed");
        assert_eq!(
            data_encoding::BASE64URL_NOPAD.encode(&body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn a_bad_key_or_a_long_payload_is_refused() {
        assert!(matches!(
            encrypt(&[4; 65], &[0; 16], b"hi"),
            Err(EncryptError::BadKey)
        ));
        let salt = [0; 16];
        let long = vec![b'a'; MAX_PLAINTEXT + 1];
        assert!(matches!(
            seal(&[0; 32], &[0; 16], &[4; 65], &[4; 65], &salt, &long),
            Err(EncryptError::TooLong)
        ));
    }
}
