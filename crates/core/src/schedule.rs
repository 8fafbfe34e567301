//! The PRF key schedule: one WebAuthn PRF evaluation, many keys.
//!
//! ```text
//! salt_prf = SHA-256("blindvault/v1/prf-salt")                 (sent as prf.eval.first)
//! P        = PRF(credential, salt_prf)                          (32 bytes, on the device)
//! PRK      = HKDF-Extract(salt = "blindvault/v1/key-schedule", IKM = P)
//! approver = X25519 secret = HKDF-Expand(PRK, "blindvault/v1/approver-x25519", 32)
//! wallet   = HKDF-Expand(PRK, "blindvault/v1/wallet-entropy", 32)
//! storage  = HKDF-Expand(PRK, "blindvault/v1/local-storage-key", 32)
//! envelope = HKDF-Expand(PRK, "blindvault/v1/wallet-envelope-psk", 32)   (wallet_envelope.rs)
//! ```

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::keys::{ApproverPublicKey, ApproverSecretKey};
use crate::secret::secret_bytes;

/// The label whose SHA-256 is the deployment-independent PRF salt, version 1.
pub const PRF_SALT_LABEL_V1: &[u8] = b"blindvault/v1/prf-salt";
/// SHA-256(`PRF_SALT_LABEL_V1`): the 32-byte salt every client passes as `prf.eval.first`.
pub const PRF_SALT_V1: [u8; 32] = [
    0x14, 0x4b, 0x20, 0x4f, 0xa0, 0xdc, 0x53, 0xab, 0xf6, 0x79, 0xd7, 0x69, 0x50, 0x8f, 0x0c, 0x65, 0x3e,
    0x66, 0x1e, 0xf4, 0x85, 0x05, 0x09, 0xb7, 0xcf, 0x37, 0xd4, 0xe2, 0xa6, 0x26, 0xe1, 0x9c,
];
/// HKDF-Extract salt of the key schedule.
pub const SCHEDULE_SALT_V1: &[u8] = b"blindvault/v1/key-schedule";
/// HKDF-Expand info of the approver X25519 secret key.
pub const INFO_APPROVER_V1: &[u8] = b"blindvault/v1/approver-x25519";
/// HKDF-Expand info of the wallet entropy.
pub const INFO_WALLET_V1: &[u8] = b"blindvault/v1/wallet-entropy";
/// HKDF-Expand info of the local-storage key.
pub const INFO_STORAGE_V1: &[u8] = b"blindvault/v1/local-storage-key";
/// HKDF-Expand info of the pre-shared key of the wallet envelopes sealed to this passkey.
pub const INFO_WALLET_ENVELOPE_PSK_V1: &[u8] = b"blindvault/v1/wallet-envelope-psk";

secret_bytes!(
    /// The 32-byte output of a WebAuthn PRF evaluation. Exists only on the device.
    PrfOutput, 32
);
secret_bytes!(
    /// 32 bytes of wallet entropy: the input of the 24-word BIP-39 mnemonic.
    WalletEntropy, 32
);
secret_bytes!(
    /// The key that encrypts what the web app caches on the device (ChaCha20-Poly1305).
    LocalStorageKey, 32
);
secret_bytes!(
    /// The HPKE pre-shared key of the wallet envelopes sealed to this passkey
    /// ([`crate::wallet_envelope`]): only someone who had this passkey's PRF output can seal one.
    WalletEnvelopePsk, 32
);

/// Every key derived from one PRF output.
#[derive(Debug)]
pub struct KeySchedule {
    approver: ApproverSecretKey,
    wallet: WalletEntropy,
    storage: LocalStorageKey,
    envelope_psk: WalletEnvelopePsk,
}

impl KeySchedule {
    /// Runs the version-1 schedule on a PRF output.
    pub fn derive(prf: &PrfOutput) -> Self {
        let hk = Hkdf::<Sha256>::new(Some(SCHEDULE_SALT_V1), prf.expose());
        let expand = |info: &[u8]| -> Zeroizing<[u8; 32]> {
            let mut out = Zeroizing::new([0u8; 32]);
            // HKDF-SHA256 can expand up to 255 * 32 bytes; 32 can never fail.
            #[allow(clippy::expect_used)]
            hk.expand(info, out.as_mut()).expect("32 bytes is within HKDF-SHA256's limit");
            out
        };
        let approver = ApproverSecretKey::from_bytes(*expand(INFO_APPROVER_V1));
        let wallet = WalletEntropy::from_bytes(*expand(INFO_WALLET_V1));
        let storage = LocalStorageKey::from_bytes(*expand(INFO_STORAGE_V1));
        let envelope_psk = WalletEnvelopePsk::from_bytes(*expand(INFO_WALLET_ENVELOPE_PSK_V1));
        Self { approver, wallet, storage, envelope_psk }
    }

    /// The approver's X25519 secret key (opens envelopes).
    pub fn approver_secret(&self) -> &ApproverSecretKey {
        &self.approver
    }

    /// The approver's X25519 public key (enrolled, signed by the org key).
    pub fn approver_public(&self) -> ApproverPublicKey {
        self.approver.public_key()
    }

    /// The wallet entropy (24-word BIP-39 mnemonic input).
    pub fn wallet_entropy(&self) -> &WalletEntropy {
        &self.wallet
    }

    /// The local-storage key.
    pub fn local_storage_key(&self) -> &LocalStorageKey {
        &self.storage
    }

    /// The pre-shared key of wallet envelopes sealed to this passkey.
    pub fn wallet_envelope_psk(&self) -> &WalletEnvelopePsk {
        &self.envelope_psk
    }
}
