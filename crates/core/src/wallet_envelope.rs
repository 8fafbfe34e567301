//! Wallet envelopes: one wallet on every passkey of a person (docs/protocol.md §2.1).
//!
//! Each passkey's PRF output gives its own wallet entropy (§2). A person's wallet is the entropy
//! of the passkey that first opened it; another passkey of theirs opens the *same* wallet through
//! an envelope that a device which can already open the wallet seals while the new passkey is
//! registered (the registration ceremony evaluates the new passkey's PRF, so that device holds
//! the new passkey's key schedule for a moment):
//!
//! ```text
//! envelope = 0x01 ‖ enc[32] ‖ ct[48]
//! (enc, ct) = HPKE-Seal-PSK(pkR    = approver_public(new passkey),
//!                           psk    = wallet_envelope_psk(new passkey),
//!                           psk_id = "blindvault/v1/wallet-envelope",
//!                           info   = "blindvault/v1/wallet-envelope",
//!                           aad    = "blindvault/v1/wallet-envelope" ‖ 0x00
//!                                    ‖ u16 len ‖ user_id ‖ u16 len ‖ credential_id,
//!                           pt     = wallet entropy[32])
//! ```
//!
//! Why PSK mode and not base mode: anyone may seal a base-mode envelope to a public key, so a
//! server could store an envelope of a wallet *it* chose, and the new device would show that
//! wallet's addresses as the person's own and receive funds to them. Only someone who had the
//! new passkey's PRF output knows its pre-shared key, so the server can neither read an envelope
//! nor make one that opens. The associated data binds the envelope to the person and to the
//! passkey it was sealed for, so the server cannot move it to another account or passkey.

use alloc::vec::Vec;
use rand_core::CryptoRng;

use crate::Error;
use crate::hpke::{self, HpkeCiphertext};
use crate::schedule::{KeySchedule, WalletEntropy};

/// HPKE `info`, PSK id and the associated data's label of a wallet envelope, version 1.
pub const WALLET_ENVELOPE_LABEL_V1: &[u8] = b"blindvault/v1/wallet-envelope";
/// The encoding's version byte.
pub const WALLET_ENVELOPE_VERSION: u8 = 0x01;
/// The encoded length: version, `enc`, and the 32-byte entropy with its 16-byte tag.
pub const WALLET_ENVELOPE_LEN: usize = 1 + 32 + 32 + 16;

/// The wallet entropy, sealed to one passkey of one person. Public: only that passkey opens it.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct WalletEnvelope {
    sealed: HpkeCiphertext,
}

impl WalletEnvelope {
    /// `0x01 ‖ enc[32] ‖ ct[48]`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(WALLET_ENVELOPE_LEN);
        out.push(WALLET_ENVELOPE_VERSION);
        out.extend_from_slice(&self.sealed.enc);
        out.extend_from_slice(&self.sealed.ct);
        out
    }

    /// Reads the encoding; a wrong length or version is an error.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let what = "wallet envelope";
        let (&version, rest) =
            bytes.split_first().ok_or(Error::Length { what, expected: WALLET_ENVELOPE_LEN, got: 0 })?;
        if bytes.len() != WALLET_ENVELOPE_LEN {
            return Err(Error::Length { what, expected: WALLET_ENVELOPE_LEN, got: bytes.len() });
        }
        if version != WALLET_ENVELOPE_VERSION {
            return Err(Error::UnknownVersion { what, version });
        }
        let (enc, ct) = rest.split_at_checked(32).ok_or(Error::Truncated { what })?;
        let enc = crate::encoding::array(enc, what)?;
        Ok(Self { sealed: HpkeCiphertext { enc, ct: ct.to_vec() } })
    }
}

/// The associated data: the label, a NUL, then the user id and the passkey's credential id
/// (raw bytes), each after its length as a big-endian `u16`.
pub fn associated_data(user_id: &str, credential_id: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out =
        Vec::with_capacity(WALLET_ENVELOPE_LABEL_V1.len() + 5 + user_id.len() + credential_id.len());
    out.extend_from_slice(WALLET_ENVELOPE_LABEL_V1);
    out.push(0);
    for (what, field) in [("user id", user_id.as_bytes()), ("credential id", credential_id)] {
        let len = u16::try_from(field.len()).map_err(|_| Error::TooLong { what, max: u16::MAX as usize })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(field);
    }
    Ok(out)
}

/// Seals `entropy` (the person's wallet) to the passkey whose key schedule is `to`, for the
/// person `user_id` and that passkey's `credential_id`. Draws the 32 bytes of the HPKE ephemeral
/// key from `rng`.
pub fn seal(
    entropy: &WalletEntropy,
    to: &KeySchedule,
    user_id: &str,
    credential_id: &[u8],
    rng: &mut impl CryptoRng,
) -> Result<WalletEnvelope, Error> {
    let aad = associated_data(user_id, credential_id)?;
    let sealed = hpke::seal_psk(
        &to.approver_public().to_array(),
        (to.wallet_envelope_psk().expose(), WALLET_ENVELOPE_LABEL_V1),
        WALLET_ENVELOPE_LABEL_V1,
        &aad,
        entropy.expose(),
        rng,
    )?;
    Ok(WalletEnvelope { sealed })
}

/// Opens an envelope with the key schedule of the passkey it was sealed to. Any failure (another
/// passkey, another person, an envelope the server made or changed) is [`Error::Decrypt`].
pub fn open(
    envelope: &WalletEnvelope,
    with: &KeySchedule,
    user_id: &str,
    credential_id: &[u8],
) -> Result<WalletEntropy, Error> {
    let aad = associated_data(user_id, credential_id).map_err(|_| Error::Decrypt)?;
    let opened = hpke::open_psk(
        with.approver_secret().expose(),
        (with.wallet_envelope_psk().expose(), WALLET_ENVELOPE_LABEL_V1),
        WALLET_ENVELOPE_LABEL_V1,
        &aad,
        &envelope.sealed,
    )?;
    WalletEntropy::from_slice(opened.expose()).map_err(|_| Error::Decrypt)
}
