//! The wallet: a BIP-39 seed, and the chains' keys and addresses derived from it.

use core::fmt;
use core::str::FromStr;

use bitcoin::bip32::{ChildNumber, DerivationPath};
use blindvault_core::schedule::{KeySchedule, PrfOutput, WalletEntropy};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::derive::{Ed25519Key, Secp256k1Key, Seed, path_string};
use crate::error::{Error, Result};
use crate::{btc, evm, solana, ton, tron};

/// The five chain families the wallet derives keys for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Chain {
    /// Ethereum and every EVM chain (same address on all of them).
    Evm,
    /// Bitcoin, BIP-84 native SegWit.
    Bitcoin,
    /// Solana.
    Solana,
    /// TRON.
    Tron,
    /// TON (wallet v4R2 contract).
    Ton,
}

/// The elliptic curve a chain uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    /// secp256k1 with BIP-32 derivation.
    Secp256k1,
    /// ed25519 with SLIP-0010 derivation.
    Ed25519,
}

impl Chain {
    /// Every chain, in display order.
    pub const ALL: [Chain; 5] = [Chain::Evm, Chain::Bitcoin, Chain::Solana, Chain::Tron, Chain::Ton];

    /// The lowercase name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Chain::Evm => "evm",
            Chain::Bitcoin => "bitcoin",
            Chain::Solana => "solana",
            Chain::Tron => "tron",
            Chain::Ton => "ton",
        }
    }

    /// The curve and derivation scheme.
    pub fn curve(self) -> Curve {
        match self {
            Chain::Evm | Chain::Bitcoin | Chain::Tron => Curve::Secp256k1,
            Chain::Solana | Chain::Ton => Curve::Ed25519,
        }
    }

    /// The path of address `index` (docs/wallet.md): EVM `m/44'/60'/0'/0/i`, Solana
    /// `m/44'/501'/i'/0'`, Bitcoin `m/84'/0'/0'/0/i`, TRON `m/44'/195'/0'/0/i`, TON `m/44'/607'/i'`.
    pub fn default_path(self, index: u32) -> Result<DerivationPath> {
        let h = |i: u32| ChildNumber::Hardened { index: i };
        let n = |i: u32| ChildNumber::Normal { index: i };
        let levels = match self {
            Chain::Evm => [h(44), h(60), h(0), n(0), n(index)].to_vec(),
            Chain::Bitcoin => [h(84), h(0), h(0), n(0), n(index)].to_vec(),
            Chain::Solana => [h(44), h(501), h(index), h(0)].to_vec(),
            Chain::Tron => [h(44), h(195), h(0), n(0), n(index)].to_vec(),
            Chain::Ton => [h(44), h(607), h(index)].to_vec(),
        };
        // BIP-32 indices are 31 bits (the top bit marks hardened ones).
        if index >= 1 << 31 {
            return Err(Error::Path {
                path: path_string(&DerivationPath::from(levels)),
                reason: "the index must be below 2^31",
            });
        }
        Ok(DerivationPath::from(levels))
    }
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Chain {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "evm" | "eth" | "ethereum" => Ok(Chain::Evm),
            "bitcoin" | "btc" => Ok(Chain::Bitcoin),
            "solana" | "sol" => Ok(Chain::Solana),
            "tron" | "trx" => Ok(Chain::Tron),
            "ton" => Ok(Chain::Ton),
            _ => Err(Error::UnknownChain(s.to_owned())),
        }
    }
}

/// One derived address, as the CLI prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DerivedAddress {
    /// The chain.
    pub chain: String,
    /// The derivation path, e.g. `m/44'/60'/0'/0/0`.
    pub path: String,
    /// The address as the chain's wallets show it.
    pub address: String,
}

/// A BIP-39 mnemonic phrase (for backup display). Zeroized on drop, redacted in `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct MnemonicPhrase(String);

impl MnemonicPhrase {
    /// The words, space separated. Show only to the user, for a backup.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MnemonicPhrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MnemonicPhrase([REDACTED])")
    }
}

/// A wallet: the seed from which every chain key is derived, on demand, and wiped after use.
#[derive(Clone, Debug)]
pub struct Wallet {
    seed: Seed,
}

impl Wallet {
    /// The wallet of a passkey: PRF output → key schedule → wallet entropy → 24 words → seed.
    pub fn from_prf(prf: &PrfOutput) -> Self {
        let schedule = KeySchedule::derive(prf);
        Self::from_entropy(schedule.wallet_entropy())
    }

    /// The 24-word mnemonic of 32 bytes of wallet entropy (for a backup or another wallet).
    pub fn mnemonic_of(entropy: &WalletEntropy) -> MnemonicPhrase {
        // 32 bytes is always a valid BIP-39 entropy length (24 words).
        match bip39::Mnemonic::from_entropy(entropy.expose()) {
            Ok(m) => MnemonicPhrase(m.to_string()),
            Err(_) => MnemonicPhrase(String::new()),
        }
    }

    /// The BIP-39 English mnemonic of 16, 20, 24, 28 or 32 bytes of entropy.
    pub fn mnemonic_from_entropy(entropy: &[u8]) -> Result<MnemonicPhrase> {
        let m =
            bip39::Mnemonic::from_entropy(entropy).map_err(|e| Error::Mnemonic(describe_bip39_error(&e)))?;
        Ok(MnemonicPhrase(m.to_string()))
    }

    /// The wallet of 32 bytes of entropy, with an empty BIP-39 passphrase.
    pub fn from_entropy(entropy: &WalletEntropy) -> Self {
        match bip39::Mnemonic::from_entropy(entropy.expose()) {
            Ok(m) => Self { seed: Seed(bip39_seed(&m, "").to_vec()) },
            // Unreachable: 32 bytes is a valid entropy length. Fall back to the same seed the
            // long way round rather than panic.
            Err(_) => Self { seed: Seed(Vec::new()) },
        }
    }

    /// The wallet of a BIP-39 English mnemonic and optional passphrase (both NFKD-normalised).
    /// Whitespace between words is normalised; the checksum is verified.
    pub fn from_mnemonic(phrase: &str, passphrase: &str) -> Result<Self> {
        // Built in place in one zeroized buffer: a `join` then `to_lowercase` would leave an
        // unwiped copy of the whole phrase behind. Lowercasing can grow a string by half (e.g.
        // 'İ' → "i̇"), so this capacity is never outgrown (no reallocation, no stale copy).
        let mut words: Zeroizing<String> = Zeroizing::new(String::with_capacity(phrase.len() * 3 / 2 + 4));
        for (n, word) in phrase.split_whitespace().enumerate() {
            if n > 0 {
                words.push(' ');
            }
            for c in word.chars().flat_map(char::to_lowercase) {
                words.push(c);
            }
        }
        let mnemonic = bip39::Mnemonic::parse_in(bip39::Language::English, words.as_str())
            .map_err(|e| Error::Mnemonic(describe_bip39_error(&e)))?;
        Ok(Self { seed: Seed(bip39_seed(&mnemonic, passphrase).to_vec()) })
    }

    /// A wallet from a raw BIP-32 seed (16 to 64 bytes), e.g. for test vectors.
    pub fn from_seed(seed: &[u8]) -> Result<Self> {
        if !(16..=64).contains(&seed.len()) {
            return Err(Error::SeedLength(seed.len()));
        }
        Ok(Self { seed: Seed(seed.to_vec()) })
    }

    /// The seed. Keep the borrow short.
    pub fn seed(&self) -> &Seed {
        &self.seed
    }

    /// The BIP-32 secp256k1 key at `path`.
    pub fn secp256k1_key(&self, path: &DerivationPath) -> Result<Secp256k1Key> {
        Secp256k1Key::master(self.seed.expose())?.derive_path(path)
    }

    /// The SLIP-0010 ed25519 key at `path` (hardened levels only).
    pub fn ed25519_key(&self, path: &DerivationPath) -> Result<Ed25519Key> {
        Ed25519Key::master(self.seed.expose())?.derive_path(path)
    }

    /// The address of `chain` at its default path with index `index`.
    pub fn address(&self, chain: Chain, index: u32) -> Result<DerivedAddress> {
        self.address_at(chain, &chain.default_path(index)?)
    }

    /// The address of `chain` at any path (for other wallets' conventions). For Bitcoin the
    /// address type follows the path's purpose (44' P2PKH, 49' P2SH-P2WPKH, 84' P2WPKH, 86' P2TR;
    /// any other is [`btc::BitcoinError::UnknownPurpose`]), on mainnet: see
    /// [`Wallet::bitcoin_address_at`] for other networks.
    pub fn address_at(&self, chain: Chain, path: &DerivationPath) -> Result<DerivedAddress> {
        address_of(chain, path, || self.secp256k1_key(path), || self.ed25519_key(path))
    }

    /// The Bitcoin address at `path` on `network`, its type following the path's purpose.
    pub fn bitcoin_address_at(&self, path: &DerivationPath, network: btc::Network) -> Result<DerivedAddress> {
        let address = btc::address_at_path(&self.secp256k1_key(path)?, path, network)?;
        Ok(DerivedAddress {
            chain: Chain::Bitcoin.name().to_owned(),
            path: path_string(path),
            address: address.to_string(),
        })
    }

    /// The first address (index 0) of every chain: EVM, Bitcoin, Solana, TRON, TON.
    ///
    /// Derives each master key and the shared `m/44'` level once, so this is the cheapest way
    /// to show all five (the same addresses as [`Wallet::address`], checked in the tests).
    pub fn first_addresses(&self) -> Result<Vec<DerivedAddress>> {
        let purpose44 = ChildNumber::Hardened { index: 44 };
        let secp_master = Secp256k1Key::master(self.seed.expose())?;
        let secp_44 = secp_master.child(purpose44)?;
        let ed_44 = Ed25519Key::master(self.seed.expose())?.derive_children(&[purpose44])?;
        Chain::ALL
            .iter()
            .map(|&chain| {
                let path = chain.default_path(0)?;
                // Paths under m/44' continue from the shared m/44' keys; others start afresh.
                match path.as_ref() {
                    [first, below_44 @ ..] if *first == purpose44 => address_of(
                        chain,
                        &path,
                        || secp_44.derive_children(below_44),
                        || ed_44.derive_children(below_44),
                    ),
                    _ => address_of(
                        chain,
                        &path,
                        || secp_master.derive_path(&path),
                        || self.ed25519_key(&path),
                    ),
                }
            })
            .collect()
    }

    /// The EVM signer of address `index`.
    pub fn evm_signer(&self, index: u32) -> Result<evm::EvmSigner> {
        evm::EvmSigner::new(&self.secp256k1_key(&Chain::Evm.default_path(index)?)?)
    }

    /// The TRON signer of address `index`.
    pub fn tron_signer(&self, index: u32) -> Result<tron::TronSigner> {
        tron::TronSigner::new(&self.secp256k1_key(&Chain::Tron.default_path(index)?)?)
    }

    /// The Solana signer of account `index`.
    pub fn solana_signer(&self, index: u32) -> Result<solana::SolanaSigner> {
        Ok(solana::SolanaSigner::new(&self.ed25519_key(&Chain::Solana.default_path(index)?)?))
    }

    /// The TON wallet v4R2 signer of account `index`.
    pub fn ton_signer(&self, index: u32) -> Result<ton::TonSigner> {
        ton::TonSigner::new(&self.ed25519_key(&Chain::Ton.default_path(index)?)?)
    }

    /// The Bitcoin BIP-84 account 0 signer for `network` (coin type 0 on mainnet, 1 otherwise).
    pub fn bitcoin_signer(&self, network: btc::Network) -> Result<btc::BitcoinSigner> {
        btc::BitcoinSigner::new(&self.seed, network)
    }
}

/// The BIP-39 seed: PBKDF2-HMAC-SHA512(NFKD(words), "mnemonic" ‖ NFKD(passphrase), 2048, 64).
/// English words and an ASCII passphrase are their own NFKD form, and go through RustCrypto's
/// PBKDF2 (faster); any other passphrase goes through rust-bip39, which normalises it.
fn bip39_seed(mnemonic: &bip39::Mnemonic, passphrase: &str) -> Zeroizing<[u8; 64]> {
    if !passphrase.is_ascii() {
        return Zeroizing::new(mnemonic.to_seed(passphrase));
    }
    let words = Zeroizing::new(mnemonic.to_string());
    let mut salt = Zeroizing::new(String::with_capacity(8 + passphrase.len()));
    salt.push_str("mnemonic");
    salt.push_str(passphrase);
    let mut out = Zeroizing::new([0u8; 64]);
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(words.as_bytes(), salt.as_bytes(), 2048, out.as_mut());
    out
}

fn describe_bip39_error(e: &bip39::Error) -> String {
    // bip39's Display never prints the whole phrase; BadWordCount / UnknownWord(index) /
    // InvalidChecksum. Print the index, not the word itself.
    match e {
        bip39::Error::BadWordCount(n) => format!("{n} words; expected 12, 15, 18, 21 or 24"),
        bip39::Error::UnknownWord(i) => format!("word number {} is not in the BIP-39 English list", i + 1),
        bip39::Error::BadEntropyBitCount(n) => format!("bad entropy bit count {n}"),
        bip39::Error::InvalidChecksum => {
            "checksum does not match (a word is wrong or out of order)".to_owned()
        }
        bip39::Error::AmbiguousLanguages(_) => "ambiguous language".to_owned(),
    }
}

/// The address of `chain` at `path`, with its key from `secp` or `ed` (whichever curve it uses).
fn address_of(
    chain: Chain,
    path: &DerivationPath,
    secp: impl FnOnce() -> Result<Secp256k1Key>,
    ed: impl FnOnce() -> Result<Ed25519Key>,
) -> Result<DerivedAddress> {
    let address = match chain {
        Chain::Evm => evm::address_of(&secp()?)?.to_checksum(None),
        Chain::Tron => tron::address_of(&secp()?)?,
        Chain::Bitcoin => btc::address_at_path(&secp()?, path, btc::Network::Bitcoin)?.to_string(),
        Chain::Solana => solana::address_of(&ed()?).to_string(),
        Chain::Ton => ton::TonAddresses::v4r2_non_bounceable(&ed()?.public_key())?,
    };
    Ok(DerivedAddress { chain: chain.name().to_owned(), path: path_string(path), address })
}
