//! Message encryption for Web Push (RFC 8291) in the `aes128gcm` content coding (RFC 8188), one
//! record, from RustCrypto's P-256 ECDH, HKDF-SHA-256 and AES-128-GCM. A fresh sender key and
//! salt per message. The tests decrypt with an independent implementation (Mozilla's `ece`
//! crate over OpenSSL, and npm `http_ece` in the browser test).

use aes_gcm::aead::Aead as _;
use aes_gcm::{Aes128Gcm, KeyInit as _, Nonce};
use hkdf::Hkdf;
use p256_push::elliptic_curve::sec1::ToEncodedPoint as _;
use p256_push::{PublicKey, SecretKey};
use rand_core::Rng as _;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The record size written into the header (the payload is far smaller: one record).
const RECORD_SIZE: u32 = 4096;

/// Why a message could not be encrypted (a malformed subscription key).
#[derive(Debug, thiserror::Error)]
pub(crate) enum EncryptError {
    /// `p256dh` is not an uncompressed P-256 point.
    #[error("the subscription's p256dh is not a P-256 point")]
    BadKey,
    /// `auth` is not 16 bytes.
    #[error("the subscription's auth secret is not 16 bytes")]
    BadAuth,
    /// A primitive refused its input (lengths are fixed, so this does not happen).
    #[error("encryption failed")]
    Failed,
}

/// Checks a subscription's keys: `p256dh` an uncompressed P-256 point, `auth` 16 bytes.
pub(crate) fn check_keys(p256dh: &[u8], auth: &[u8]) -> Result<(), EncryptError> {
    if p256dh.len() != 65 || PublicKey::from_sec1_bytes(p256dh).is_err() {
        return Err(EncryptError::BadKey);
    }
    if auth.len() != 16 {
        return Err(EncryptError::BadAuth);
    }
    Ok(())
}

/// Encrypts `payload` to the subscription key `ua_public` with its `auth` secret: the body of
/// a push (`Content-Encoding: aes128gcm`).
pub(crate) fn encrypt(ua_public: &[u8], auth: &[u8], payload: &[u8]) -> Result<Vec<u8>, EncryptError> {
    let mut rng = blindvault_core::rng::os_rng();
    let as_secret = loop {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut *bytes);
        if let Ok(k) = SecretKey::from_slice(&*bytes) {
            break k;
        }
    };
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    encrypt_with(ua_public, auth, payload, &as_secret, salt)
}

fn encrypt_with(
    ua_public: &[u8],
    auth: &[u8],
    payload: &[u8],
    as_secret: &SecretKey,
    salt: [u8; 16],
) -> Result<Vec<u8>, EncryptError> {
    check_keys(ua_public, auth)?;
    let ua = PublicKey::from_sec1_bytes(ua_public).map_err(|_| EncryptError::BadKey)?;
    let as_public = as_secret.public_key().to_encoded_point(false);
    let shared = p256_push::ecdh::diffie_hellman(as_secret.to_nonzero_scalar(), ua.as_affine());
    // RFC 8291 §3.4: IKM = HKDF(auth, ecdh_secret, "WebPush: info" || 0 || ua_public || as_public, 32).
    let mut key_info = Vec::with_capacity(14 + 65 + 65);
    key_info.extend_from_slice(b"WebPush: info\0");
    key_info.extend_from_slice(ua_public);
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = Zeroizing::new([0u8; 32]);
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut *ikm)
        .map_err(|_| EncryptError::Failed)?;
    // RFC 8188 §2.2–2.3: the content-encryption key and nonce from the salt.
    let prk = Hkdf::<Sha256>::new(Some(&salt), &*ikm);
    let mut cek = Zeroizing::new([0u8; 16]);
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut *cek).map_err(|_| EncryptError::Failed)?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).map_err(|_| EncryptError::Failed)?;
    // One record, the last: payload || 0x02 (no padding).
    let mut record = Zeroizing::new(Vec::with_capacity(payload.len() + 1));
    record.extend_from_slice(payload);
    record.push(2);
    let cipher = Aes128Gcm::new_from_slice(&*cek).map_err(|_| EncryptError::Failed)?;
    let sealed = cipher.encrypt(&Nonce::from(nonce), record.as_slice()).map_err(|_| EncryptError::Failed)?;
    // Header: salt (16) || rs (4, big-endian) || idlen (1) || keyid (the sender's public key).
    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + sealed.len());
    body.extend_from_slice(&salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(65);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8291 Appendix A: the example's keys, salt and plaintext give its exact message.
    #[test]
    fn rfc_8291_appendix_a() -> Result<(), Box<dyn std::error::Error>> {
        let d = |s: &str| blindvault_core::encoding::b64::decode(s);
        let ua_public =
            d("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")?;
        let auth = d("BTBZMqHH6r4Tts7J_aSIgg")?;
        let as_secret = SecretKey::from_slice(&d("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw")?)?;
        let salt: [u8; 16] = d("DGv6ra1nlYgDCS1FRnbzlw")?.try_into().map_err(|_| "salt")?;
        let got =
            encrypt_with(&ua_public, &auth, b"When I grow up, I want to be a watermelon", &as_secret, salt)?;
        let want = d(
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN",
        )?;
        assert_eq!(got, want);
        Ok(())
    }

    #[test]
    fn malformed_keys_are_refused() {
        assert!(matches!(check_keys(&[4; 65], &[0; 16]), Err(EncryptError::BadKey)));
        assert!(matches!(check_keys(&[0; 10], &[0; 16]), Err(EncryptError::BadKey)));
    }
}
