//! RFC 9180 HPKE, DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305, single-shot,
//! from the `hpke` crate. The only suite blindvault uses: base mode for envelopes (anyone may
//! wrap to an enrolled key), auth mode for an approver's response (only the holder of the
//! approver key can have sealed it), PSK mode for a wallet envelope (only someone who knew the
//! recipient passkey's pre-shared key can have sealed it).

use alloc::vec::Vec;
use hpke::{Deserializable, Kem as _, OpModeR, OpModeS, Serializable};
use rand_core::CryptoRng;

use crate::Error;
use crate::encoding::{Reader, Writer};
use crate::secret::SecretBytes;

/// The KEM: DHKEM(X25519, HKDF-SHA256), id 0x0020.
pub type Kem = hpke::kem::X25519HkdfSha256;
/// The KDF: HKDF-SHA256, id 0x0001.
pub type Kdf = hpke::kdf::HkdfSha256;
/// The AEAD: ChaCha20-Poly1305, id 0x0003.
pub type Aead = hpke::aead::ChaCha20Poly1305;

/// An HPKE ciphertext: the encapsulated key and the AEAD ciphertext (with its 16-byte tag).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct HpkeCiphertext {
    /// `enc`: the sender's ephemeral X25519 public key.
    pub enc: [u8; 32],
    /// The ciphertext, tag included.
    pub ct: Vec<u8>,
}

impl HpkeCiphertext {
    pub(crate) fn write(&self, w: &mut Writer) {
        w.fixed(&self.enc).bytes32(&self.ct);
    }
    pub(crate) fn read(r: &mut Reader<'_>) -> Result<Self, Error> {
        let enc = r.fixed()?;
        let ct = r.bytes32()?.to_vec();
        if ct.len() < 16 {
            return Err(Error::Malformed { what: "hpke ciphertext" });
        }
        Ok(Self { enc, ct })
    }
}

type PublicKey = <Kem as hpke::Kem>::PublicKey;
type PrivateKey = <Kem as hpke::Kem>::PrivateKey;

fn public_key(b: &[u8; 32]) -> Result<PublicKey, Error> {
    PublicKey::from_bytes(b).map_err(|_| Error::Malformed { what: "x25519 public key" })
}

/// The single-shot seal under `mode` (base or auth), to `pk_r`.
fn seal_in(
    mode: &OpModeS<'_, Kem>,
    pk_r: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<HpkeCiphertext, Error> {
    let pk = public_key(pk_r)?;
    let (enc, ct) = hpke::single_shot_seal_with_rng::<Aead, Kdf, Kem>(mode, &pk, info, plaintext, aad, rng)
        .map_err(|_| Error::Malformed { what: "x25519 public key" })?;
    let enc: [u8; 32] = crate::encoding::array(&enc.to_bytes(), "hpke enc")?;
    Ok(HpkeCiphertext { enc, ct })
}

/// The single-shot open under `mode` (base, or auth with the expected sender). Any failure is
/// [`Error::Decrypt`].
fn open_in(
    mode: &OpModeR<'_, Kem>,
    sk_r: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    c: &HpkeCiphertext,
) -> Result<SecretBytes, Error> {
    let sk = PrivateKey::from_bytes(sk_r).map_err(|_| Error::Decrypt)?;
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&c.enc).map_err(|_| Error::Decrypt)?;
    hpke::single_shot_open::<Aead, Kdf, Kem>(mode, &sk, &enc, info, &c.ct, aad)
        .map(SecretBytes::new)
        .map_err(|_| Error::Decrypt)
}

/// Seals `plaintext` to the X25519 public key `pk_r`.
pub fn seal(
    pk_r: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<HpkeCiphertext, Error> {
    seal_in(&OpModeS::Base, pk_r, info, aad, plaintext, rng)
}

/// Seals `plaintext` to `pk_r` in auth mode (RFC 9180 §5.1.3): the recipient can check it was
/// sealed by the holder of the X25519 secret key `sk_s`, whose public key is `pk_s` (passed in,
/// as the `hpke` crate takes it, so that it is not computed twice; a wrong one only makes a
/// ciphertext that does not open).
pub fn seal_auth(
    pk_r: &[u8; 32],
    (sk_s, pk_s): (&[u8; 32], &[u8; 32]),
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<HpkeCiphertext, Error> {
    let sk = PrivateKey::from_bytes(sk_s).map_err(|_| Error::Malformed { what: "x25519 secret key" })?;
    seal_in(&OpModeS::Auth((sk, public_key(pk_s)?)), pk_r, info, aad, plaintext, rng)
}

/// Opens an HPKE ciphertext with the X25519 secret key `sk_r`. Any failure is [`Error::Decrypt`].
pub fn open(sk_r: &[u8; 32], info: &[u8], aad: &[u8], c: &HpkeCiphertext) -> Result<SecretBytes, Error> {
    open_in(&OpModeR::Base, sk_r, info, aad, c)
}

/// Opens an auth-mode ciphertext with `sk_r`, accepting it only if it was sealed by the holder
/// of the secret key of `pk_s`. Any failure, a wrong sender included, is [`Error::Decrypt`].
pub fn open_auth(
    sk_r: &[u8; 32],
    pk_s: &[u8; 32],
    info: &[u8],
    aad: &[u8],
    c: &HpkeCiphertext,
) -> Result<SecretBytes, Error> {
    let pk_s = PublicKey::from_bytes(pk_s).map_err(|_| Error::Decrypt)?;
    open_in(&OpModeR::Auth(pk_s), sk_r, info, aad, c)
}

/// Seals `plaintext` to `pk_r` in PSK mode (RFC 9180 §5.1.2): the recipient can check that the
/// sender knew `psk` (at least 32 bytes), identified by the non-empty `psk_id`.
pub fn seal_psk(
    pk_r: &[u8; 32],
    (psk, psk_id): (&[u8], &[u8]),
    info: &[u8],
    aad: &[u8],
    plaintext: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<HpkeCiphertext, Error> {
    let bundle = hpke::PskBundle::new(psk, psk_id).map_err(|_| Error::Malformed { what: "hpke psk" })?;
    seal_in(&OpModeS::Psk(bundle), pk_r, info, aad, plaintext, rng)
}

/// Opens a PSK-mode ciphertext with `sk_r` and the same `psk` and `psk_id`. Any failure, a wrong
/// PSK included, is [`Error::Decrypt`].
pub fn open_psk(
    sk_r: &[u8; 32],
    (psk, psk_id): (&[u8], &[u8]),
    info: &[u8],
    aad: &[u8],
    c: &HpkeCiphertext,
) -> Result<SecretBytes, Error> {
    let bundle = hpke::PskBundle::new(psk, psk_id).map_err(|_| Error::Decrypt)?;
    open_in(&OpModeR::Psk(bundle), sk_r, info, aad, c)
}

/// RFC 9180 `DeriveKeyPair` for X25519 (used by the test vectors; blindvault's own keys come
/// from the key schedule).
pub fn derive_keypair(ikm: &[u8]) -> (SecretBytes, [u8; 32]) {
    let (sk, pk) = Kem::derive_keypair(ikm);
    let mut pkb = [0u8; 32];
    pkb.copy_from_slice(&pk.to_bytes());
    (SecretBytes::new(sk.to_bytes().to_vec()), pkb)
}
