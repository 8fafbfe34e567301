//! Device-local cache encryption with the key schedule's local-storage key.
//!
//! What the web app keeps on a device (the pinned org key, the user's enrolment, display
//! preferences) is sealed with ChaCha20-Poly1305 under the PRF-derived [`LocalStorageKey`], so a
//! copy of the browser profile without the passkey opens nothing and an edit is detected.
//!
//! ```text
//! sealed = 0x01 ‖ nonce (12, random) ‖ ChaCha20-Poly1305(key, nonce, plaintext,
//!                                        aad = "blindvault/v1/local-storage" ‖ 0x00 ‖ name)
//! ```
//!
//! `name` is the storage slot (for example `pinned-org`), so a sealed value moved to another
//! slot does not open. Any failure to open is [`Error::Decrypt`].

use alloc::vec::Vec;

use chacha20poly1305::aead::{Aead as _, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use rand_core::CryptoRng;

use crate::Error;
use crate::schedule::LocalStorageKey;
use crate::secret::SecretBytes;

/// Domain label of the additional data.
pub const AAD_STORAGE_V1: &[u8] = b"blindvault/v1/local-storage";
/// Format version byte.
pub const STORAGE_VERSION_V1: u8 = 1;

fn aad(name: &str) -> Vec<u8> {
    let mut a = Vec::with_capacity(AAD_STORAGE_V1.len() + 1 + name.len());
    a.extend_from_slice(AAD_STORAGE_V1);
    a.push(0);
    a.extend_from_slice(name.as_bytes());
    a
}

/// Seals `plaintext` for the slot `name`.
pub fn seal(
    key: &LocalStorageKey,
    name: &str,
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<Vec<u8>, Error> {
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let cipher = ChaCha20Poly1305::new(key.expose().into());
    let ct = cipher
        .encrypt(&Nonce::from(nonce), Payload { msg: plaintext, aad: &aad(name) })
        .map_err(|_| Error::TooLong { what: "plaintext", max: 1 << 30 })?;
    let mut out = Vec::with_capacity(1 + 12 + ct.len());
    out.push(STORAGE_VERSION_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a value sealed by [`seal`] for the same slot `name`.
pub fn open(key: &LocalStorageKey, name: &str, sealed: &[u8]) -> Result<SecretBytes, Error> {
    let (&version, rest) = sealed.split_first().ok_or(Error::Decrypt)?;
    if version != STORAGE_VERSION_V1 || rest.len() < 12 + 16 {
        return Err(Error::Decrypt);
    }
    let (nonce, ct) = rest.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().map_err(|_| Error::Decrypt)?;
    let cipher = ChaCha20Poly1305::new(key.expose().into());
    cipher
        .decrypt(&Nonce::from(nonce), Payload { msg: ct, aad: &aad(name) })
        .map(SecretBytes::new)
        .map_err(|_| Error::Decrypt)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    struct Counter(u8);
    impl rand_core::TryRng for Counter {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for b in dst {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for Counter {}

    #[test]
    fn round_trip_and_every_tamper_fails() {
        let key = LocalStorageKey::from_bytes([9; 32]);
        let mut rng = Counter(0);
        let sealed = seal(&key, "pinned-org", b"org key bytes", &mut rng).unwrap();
        assert_eq!(open(&key, "pinned-org", &sealed).unwrap().expose(), b"org key bytes");
        // Another slot, another key, any flipped bit, a truncation: one opaque error.
        assert_eq!(open(&key, "enrolment", &sealed).unwrap_err(), Error::Decrypt);
        assert_eq!(
            open(&LocalStorageKey::from_bytes([8; 32]), "pinned-org", &sealed).unwrap_err(),
            Error::Decrypt
        );
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 1;
            assert_eq!(open(&key, "pinned-org", &t).unwrap_err(), Error::Decrypt, "byte {i}");
        }
        for n in 0..sealed.len() {
            assert_eq!(open(&key, "pinned-org", &sealed[..n]).unwrap_err(), Error::Decrypt);
        }
        // Fresh nonces: sealing twice differs.
        assert_ne!(
            seal(&key, "pinned-org", b"x", &mut rng).unwrap(),
            seal(&key, "pinned-org", b"x", &mut rng).unwrap()
        );
    }
}
