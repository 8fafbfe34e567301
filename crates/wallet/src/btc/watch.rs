//! Watch-only import of another wallet's account: an extended public key in SLIP-132 form
//! (xpub/ypub/zpub on mainnet, tpub/upub/vpub on the test networks). The version bytes say the
//! address type (ypub/upub P2SH-P2WPKH, zpub/vpub P2WPKH; xpub/tpub P2PKH, or P2TR when the
//! caller says so: BIP-86 exports a plain xpub); receive and change addresses are derived below
//! the key as `…/0/i` and `…/1/i` (BIP-32 public derivation, rust-bitcoin).
//!
//! Errors never repeat the text given: a private key pasted by mistake must not reach a log.

use bitcoin::bip32::{ChildNumber, Fingerprint, Xpub};
use bitcoin::secp256k1::{self, Secp256k1};
use bitcoin::{Address, Network, NetworkKind};

use super::address::AddressType;
use super::error::BitcoinError;
use crate::error::Result;

/// One SLIP-132 version: its bytes, prefix, network kind, whether it is public, and the address
/// type it fixes (None: xpub and tpub, P2PKH unless told otherwise).
type Version = ([u8; 4], &'static str, NetworkKind, bool, Option<AddressType>);

/// SLIP-132's single-key Bitcoin versions.
const VERSIONS: [Version; 12] = [
    ([0x04, 0x88, 0xb2, 0x1e], "xpub", NetworkKind::Main, true, None),
    ([0x04, 0x9d, 0x7c, 0xb2], "ypub", NetworkKind::Main, true, Some(AddressType::P2shP2wpkh)),
    ([0x04, 0xb2, 0x47, 0x46], "zpub", NetworkKind::Main, true, Some(AddressType::P2wpkh)),
    ([0x04, 0x35, 0x87, 0xcf], "tpub", NetworkKind::Test, true, None),
    ([0x04, 0x4a, 0x52, 0x62], "upub", NetworkKind::Test, true, Some(AddressType::P2shP2wpkh)),
    ([0x04, 0x5f, 0x1c, 0xf6], "vpub", NetworkKind::Test, true, Some(AddressType::P2wpkh)),
    ([0x04, 0x88, 0xad, 0xe4], "xprv", NetworkKind::Main, false, None),
    ([0x04, 0x9d, 0x78, 0x78], "yprv", NetworkKind::Main, false, None),
    ([0x04, 0xb2, 0x43, 0x0c], "zprv", NetworkKind::Main, false, None),
    ([0x04, 0x35, 0x83, 0x94], "tprv", NetworkKind::Test, false, None),
    ([0x04, 0x4a, 0x4e, 0x28], "uprv", NetworkKind::Test, false, None),
    ([0x04, 0x5f, 0x18, 0xbc], "vprv", NetworkKind::Test, false, None),
];

/// SLIP-132's multisig versions (Ypub, Zpub, Upub, Vpub and their private forms): refused with a
/// hint, since the wallet watches single-key accounts only.
const MULTISIG: [[u8; 4]; 8] = [
    [0x02, 0x95, 0xb4, 0x3f],
    [0x02, 0xaa, 0x7e, 0xd3],
    [0x02, 0x42, 0x89, 0xef],
    [0x02, 0x57, 0x54, 0x83],
    [0x02, 0x95, 0xb0, 0x05],
    [0x02, 0xaa, 0x7a, 0x99],
    [0x02, 0x42, 0x85, 0xb5],
    [0x02, 0x57, 0x50, 0x48],
];

/// The BIP-32 version bytes rust-bitcoin reads (xpub, tpub).
const XPUB: [u8; 4] = [0x04, 0x88, 0xb2, 0x1e];
const TPUB: [u8; 4] = [0x04, 0x35, 0x87, 0xcf];

/// Another wallet's account, watched: its extended public key and address type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchOnlyAccount {
    xpub: Xpub,
    prefix: &'static str,
    address_type: AddressType,
    network: Network,
}

impl WatchOnlyAccount {
    /// Parses an extended public key for a wallet on `network`. `address_type` may choose the
    /// type of an xpub/tpub (P2PKH by default; e.g. P2TR for a BIP-86 account); for a ypub,
    /// zpub, upub or vpub it must be `None` or the type its version fixes.
    ///
    /// Refused, with an error that never contains the text: a private key (xprv, yprv, …), a
    /// base58check checksum or character error, a wrong length, an unknown or multisig version,
    /// a key of the other network kind, an invalid public key.
    pub fn parse(text: &str, network: Network, address_type: Option<AddressType>) -> Result<Self> {
        let data = bitcoin::base58::decode_check(text.trim()).map_err(|e| {
            let reason = match e {
                bitcoin::base58::Error::IncorrectChecksum(_) => "the base58check checksum does not match",
                bitcoin::base58::Error::TooShort(_) => "too short for base58check",
                _ => "a character outside the base58 alphabet",
            };
            BitcoinError::ExtendedKeyEncoding { reason: reason.to_owned() }
        })?;
        let Some(version) = data.get(..4).and_then(|v| <[u8; 4]>::try_from(v).ok()) else {
            return Err(BitcoinError::ExtendedKeyEncoding { reason: "too short".to_owned() }.into());
        };
        let Some(&(_, prefix, kind, public, fixed)) = VERSIONS.iter().find(|v| v.0 == version) else {
            let hint = if MULTISIG.contains(&version) {
                " (Ypub, Zpub, Upub and Vpub are multisig keys, which this wallet does not watch)"
            } else {
                ""
            };
            return Err(BitcoinError::ExtendedKeyVersion { version: hex::encode(version), hint }.into());
        };
        if !public {
            return Err(BitcoinError::PrivateExtendedKey { prefix }.into());
        }
        if data.len() != 78 {
            return Err(BitcoinError::ExtendedKeyEncoding {
                reason: format!("{} bytes where BIP-32 has 78", data.len()),
            }
            .into());
        }
        if NetworkKind::from(network) != kind {
            let (key_network, wallet_network) = match kind {
                NetworkKind::Main => ("mainnet", network.to_string()),
                NetworkKind::Test => ("test network", network.to_string()),
            };
            return Err(BitcoinError::ExtendedKeyNetwork { prefix, key_network, wallet_network }.into());
        }
        let address_type = match (fixed, address_type) {
            (None, chosen) => chosen.unwrap_or(AddressType::P2pkh),
            (Some(f), None) => f,
            (Some(f), Some(chosen)) if f == chosen => f,
            (Some(f), Some(_)) => {
                return Err(BitcoinError::ExtendedKeyType { prefix, fixed: f.name() }.into());
            }
        };
        // rust-bitcoin reads the BIP-32 versions only: give it xpub/tpub bytes.
        let mut bip32 = data;
        if let Some(v) = bip32.get_mut(..4) {
            v.copy_from_slice(if kind == NetworkKind::Main { &XPUB } else { &TPUB });
        }
        let xpub = Xpub::decode(&bip32)
            .map_err(|e| BitcoinError::ExtendedKeyInvalid { reason: describe_bip32_error(&e) })?;
        Ok(Self { xpub, prefix, address_type, network })
    }

    /// The address type the key's version (or the caller) chose.
    pub fn address_type(&self) -> AddressType {
        self.address_type
    }

    /// The prefix the key was given with (`xpub`, `zpub`, …).
    pub fn prefix(&self) -> &'static str {
        self.prefix
    }

    /// The network.
    pub fn network(&self) -> Network {
        self.network
    }

    /// BIP-32 depth of the key (3 for an account key `m/purpose'/coin'/account'`).
    pub fn depth(&self) -> u8 {
        self.xpub.depth
    }

    /// The fingerprint of the key itself (HASH160 of its public key, first 4 bytes).
    pub fn fingerprint(&self) -> Fingerprint {
        self.xpub.fingerprint()
    }

    /// The key as rust-bitcoin's `Xpub` (BIP-32 xpub/tpub version).
    pub fn xpub(&self) -> &Xpub {
        &self.xpub
    }

    /// Receive (`change = false`, `…/0/index`) or change (`…/1/index`) address.
    pub fn address(&self, change: bool, index: u32) -> Result<Address> {
        self.address_with(change, index, &Secp256k1::verification_only())
    }

    /// `count` consecutive addresses from `start` on the receive or change branch (the branch
    /// key is derived once).
    pub fn addresses(&self, change: bool, start: u32, count: u32) -> Result<Vec<Address>> {
        let secp = Secp256k1::verification_only();
        let branch = self
            .xpub
            .ckd_pub(&secp, normal(u32::from(change))?)
            .map_err(|e| BitcoinError::ExtendedKeyInvalid { reason: describe_bip32_error(&e) })?;
        (0..count)
            .map(|i| {
                let index = start.checked_add(i).ok_or_else(|| BitcoinError::ExtendedKeyInvalid {
                    reason: "address index overflows".to_owned(),
                })?;
                let child = branch
                    .ckd_pub(&secp, normal(index)?)
                    .map_err(|e| BitcoinError::ExtendedKeyInvalid { reason: describe_bip32_error(&e) })?;
                Ok(self.address_type.address(&child.public_key, self.network, &secp))
            })
            .collect()
    }

    fn address_with<C: secp256k1::Verification>(
        &self,
        change: bool,
        index: u32,
        secp: &Secp256k1<C>,
    ) -> Result<Address> {
        let child = self
            .xpub
            .derive_pub(secp, &[normal(u32::from(change))?, normal(index)?])
            .map_err(|e| BitcoinError::ExtendedKeyInvalid { reason: describe_bip32_error(&e) })?;
        Ok(self.address_type.address(&child.public_key, self.network, secp))
    }
}

fn normal(index: u32) -> Result<ChildNumber> {
    ChildNumber::from_normal_idx(index).map_err(|_| {
        BitcoinError::ExtendedKeyInvalid { reason: format!("index {index} is not below 2^31") }.into()
    })
}

fn describe_bip32_error(e: &bitcoin::bip32::Error) -> String {
    // rust-bitcoin's messages name fields and lengths, never the key's bytes.
    e.to_string()
}
