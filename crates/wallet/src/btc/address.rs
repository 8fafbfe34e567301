//! Which address a Bitcoin key gets: the address type follows the path's BIP-43 purpose, as other
//! wallets do (BIP-44 → P2PKH, BIP-49 → P2SH-P2WPKH, BIP-84 → P2WPKH, BIP-86 → P2TR with the
//! BIP-86 key-path-only tweak). The encodings are rust-bitcoin's.

use bitcoin::bip32::{ChildNumber, DerivationPath};
use bitcoin::key::{TweakedPublicKey, UntweakedPublicKey};
use bitcoin::secp256k1::{self, PublicKey, Secp256k1};
use bitcoin::{Address, CompressedPublicKey, Network, ScriptBuf};

use super::error::BitcoinError;
use crate::derive::{Secp256k1Key, path_string};
use crate::error::Result;

/// A single-key Bitcoin address type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddressType {
    /// BIP-44 legacy pay-to-public-key-hash: `1…` (`m…`/`n…` on test networks).
    P2pkh,
    /// BIP-49 P2WPKH nested in P2SH: `3…` (`2…`).
    P2shP2wpkh,
    /// BIP-84 native SegWit v0: `bc1q…` (`tb1q…`, `bcrt1q…`).
    P2wpkh,
    /// BIP-86 Taproot key path (output key = internal key tweaked with no script tree): `bc1p…`.
    P2tr,
}

impl AddressType {
    /// Every type, in purpose order.
    pub const ALL: [AddressType; 4] =
        [AddressType::P2pkh, AddressType::P2shP2wpkh, AddressType::P2wpkh, AddressType::P2tr];

    /// The type of a BIP-43 purpose (hardened): 44, 49, 84, 86.
    pub fn from_purpose(purpose: u32) -> Option<Self> {
        match purpose {
            44 => Some(AddressType::P2pkh),
            49 => Some(AddressType::P2shP2wpkh),
            84 => Some(AddressType::P2wpkh),
            86 => Some(AddressType::P2tr),
            _ => None,
        }
    }

    /// The type of `path`: its first level must be one of the hardened purposes 44', 49', 84',
    /// 86' (else [`BitcoinError::UnknownPurpose`]).
    pub fn of_path(path: &DerivationPath) -> Result<Self> {
        let found = match path.as_ref().first() {
            Some(ChildNumber::Hardened { index }) => AddressType::from_purpose(*index),
            _ => None,
        };
        found.ok_or_else(|| {
            let purpose = match path.as_ref().first() {
                Some(ChildNumber::Hardened { index }) => format!("{index}'"),
                Some(ChildNumber::Normal { index }) => format!("{index} (not hardened)"),
                None => "no purpose level".to_owned(),
            };
            BitcoinError::UnknownPurpose { path: path_string(path), purpose }.into()
        })
    }

    /// The BIP-43 purpose of this type.
    pub fn purpose(self) -> u32 {
        match self {
            AddressType::P2pkh => 44,
            AddressType::P2shP2wpkh => 49,
            AddressType::P2wpkh => 84,
            AddressType::P2tr => 86,
        }
    }

    /// A short name: `p2pkh`, `p2sh-p2wpkh`, `p2wpkh`, `p2tr`.
    pub fn name(self) -> &'static str {
        match self {
            AddressType::P2pkh => "p2pkh",
            AddressType::P2shP2wpkh => "p2sh-p2wpkh",
            AddressType::P2wpkh => "p2wpkh",
            AddressType::P2tr => "p2tr",
        }
    }

    /// The address of public key `pk` as this type on `network`. P2TR uses `pk` as the BIP-86
    /// internal key: output key Q = P + hash_TapTweak(x(P))·G (no script tree).
    pub fn address<C: secp256k1::Verification>(
        self,
        pk: &PublicKey,
        network: Network,
        secp: &Secp256k1<C>,
    ) -> Address {
        let compressed = CompressedPublicKey(*pk);
        match self {
            AddressType::P2pkh => Address::p2pkh(compressed, network),
            AddressType::P2shP2wpkh => Address::p2shwpkh(&compressed, network),
            AddressType::P2wpkh => Address::p2wpkh(&compressed, network),
            AddressType::P2tr => Address::p2tr(secp, UntweakedPublicKey::from(*pk), None, network),
        }
    }

    /// The BIP-86 output key of internal key `pk` (what a P2TR key-path signature is made for).
    pub fn p2tr_output_key<C: secp256k1::Verification>(
        pk: &PublicKey,
        secp: &Secp256k1<C>,
    ) -> TweakedPublicKey {
        use bitcoin::key::TapTweak as _;
        UntweakedPublicKey::from(*pk).tap_tweak(secp, None).0
    }

    /// The output script of `pk` as this type.
    pub fn script_pubkey<C: secp256k1::Verification>(self, pk: &PublicKey, secp: &Secp256k1<C>) -> ScriptBuf {
        // The script does not depend on the network.
        self.address(pk, Network::Bitcoin, secp).script_pubkey()
    }
}

impl core::fmt::Display for AddressType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The address of `key` derived at `path`, its type chosen by the path's purpose
/// ([`AddressType::of_path`]).
pub fn address_at_path(key: &Secp256k1Key, path: &DerivationPath, network: Network) -> Result<Address> {
    let ty = AddressType::of_path(path)?;
    Ok(ty.address(&key.public_key()?, network, &Secp256k1::verification_only()))
}
