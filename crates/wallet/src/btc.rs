//! Bitcoin: addresses whose type follows the path's purpose ([`address`]: BIP-44 P2PKH, BIP-49
//! P2SH-P2WPKH, BIP-84 P2WPKH, BIP-86 P2TR), and PSBT (BIP-174) signing of the BIP-84 account's
//! P2WPKH inputs, with rust-bitcoin (`bitcoin` 0.32: addresses, PSBT, BIP-143 sighash,
//! libsecp256k1).
//!
//! The flow is review → approve → sign: [`BitcoinSigner::review`] returns what the transaction
//! does (inputs, recipients, change, what leaves this wallet, fee); [`BitcoinSigner::sign`] takes
//! that review back and refuses a PSBT whose summary differs from it. Every input must carry its
//! full previous transaction (`non_witness_utxo`, txid checked), so that every amount, ours or
//! not, and so the fee, is the one the network will use ([`spent_output`]).

use std::collections::BTreeMap;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, KeySource};
use bitcoin::hashes::{Hash, hash160};
use bitcoin::secp256k1::{self, Message, Secp256k1};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{CompressedPublicKey, ScriptBuf, TxOut, Witness};

pub use bitcoin::{Address, Amount, Network, Psbt, Transaction, Txid};

use crate::derive::{Secp256k1Key, Seed, path_string, secp};
use crate::error::{Error, Result};

pub mod address;
pub mod error;
pub mod esplora;
pub mod history;
pub mod send;
pub mod watch;

pub use address::{AddressType, address_at_path};
pub use error::BitcoinError;
pub use send::{SendAmount, SendConfirmation, SendPlan, SendRequest, SignedSend, WalletCoin};
pub use watch::WatchOnlyAccount;

const CHAIN: &str = "bitcoin";
/// How many receive and change addresses are scanned for inputs and change without BIP-32
/// derivation data in the PSBT (BIP-44's gap limit).
pub const GAP_LIMIT: u32 = 20;

/// The P2WPKH (BIP-84) address of a key, whatever its path; [`address_at_path`] picks the type
/// from the path's purpose.
pub fn address_of(key: &Secp256k1Key, network: Network) -> Result<Address> {
    let pk = CompressedPublicKey(key.public_key()?);
    Ok(Address::p2wpkh(&pk, network))
}

/// BIP-44 coin type: 0 on mainnet, 1 on testnet, signet and regtest.
pub fn coin_type(network: Network) -> u32 {
    if network == Network::Bitcoin { 0 } else { 1 }
}

/// Parses a network name: bitcoin/mainnet, testnet, testnet4, signet, regtest.
pub fn parse_network(s: &str) -> Result<Network> {
    match s.trim().to_ascii_lowercase().as_str() {
        "bitcoin" | "mainnet" | "main" => Ok(Network::Bitcoin),
        "testnet" | "testnet3" => Ok(Network::Testnet),
        "testnet4" => Ok(Network::Testnet4),
        "signet" => Ok(Network::Signet),
        "regtest" => Ok(Network::Regtest),
        _ => Err(Error::tx(CHAIN, format!("unknown network {s:?}"))),
    }
}

/// Signs input `i` of `psbt` (P2WPKH, SIGHASH_ALL, BIP-143 sighash, RFC 6979 low-S ECDSA) with
/// `key` and finalizes it as BIP-174's finalizer does: witness = [signature, public key], signing
/// data removed. `utxo` is the output input `i` spends and must pay to `key`'s P2WPKH script.
///
/// The amount is taken from `utxo` as given: checking it is the caller's job
/// ([`BitcoinSigner::sign`] takes it from the input's `non_witness_utxo`, whose txid it checks).
pub fn finalize_p2wpkh_input<C: secp256k1::Signing>(
    psbt: &mut Psbt,
    cache: &mut SighashCache<Transaction>,
    i: usize,
    utxo: &TxOut,
    key: &Secp256k1Key,
    secp: &Secp256k1<C>,
) -> Result<()> {
    if psbt.inputs.len() <= i {
        return Err(Error::tx(CHAIN, format!("no input {i}")));
    }
    let mut sk = key.secret_key()?;
    let pk = secp256k1::PublicKey::from_secret_key(secp, &sk);
    if utxo.script_pubkey != ScriptBuf::new_p2wpkh(&CompressedPublicKey(pk).wpubkey_hash()) {
        sk.non_secure_erase();
        return Err(Error::tx(CHAIN, format!("input {i} is not a P2WPKH output of this key")));
    }
    let sighash = match cache.p2wpkh_signature_hash(i, &utxo.script_pubkey, utxo.value, EcdsaSighashType::All)
    {
        Ok(h) => h,
        Err(e) => {
            sk.non_secure_erase();
            return Err(Error::tx(CHAIN, e));
        }
    };
    let sig = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &sk);
    sk.non_secure_erase();
    let sig = bitcoin::ecdsa::Signature { signature: sig, sighash_type: EcdsaSighashType::All };
    let pin = psbt.inputs.get_mut(i).ok_or_else(|| Error::tx(CHAIN, format!("no input {i}")))?;
    pin.final_script_witness = Some(Witness::p2wpkh(&sig, &pk));
    pin.partial_sigs.clear();
    pin.sighash_type = None;
    pin.redeem_script = None;
    pin.witness_script = None;
    pin.bip32_derivation.clear();
    Ok(())
}

/// The output that input `i` spends, read from the input's full previous transaction
/// (`non_witness_utxo`), which is required for every input: its txid must be the one the input
/// spends, `vout` must exist in it, and a `witness_utxo`, if present, must equal that output.
///
/// BIP-143 commits a signature to its own input's amount only, so an amount taken from a
/// `witness_utxo` alone, or from an input that is not ours, could be anything and the fee shown
/// could be far below the real one (the 2020 SegWit fee attack). A txid-checked previous
/// transaction makes every amount the one the network will use.
pub fn spent_output(psbt: &Psbt, i: usize) -> Result<TxOut> {
    let (Some(txin), Some(pin)) = (psbt.unsigned_tx.input.get(i), psbt.inputs.get(i)) else {
        return Err(Error::tx(CHAIN, format!("no input {i}")));
    };
    let outpoint = txin.previous_output;
    let Some(prev) = pin.non_witness_utxo.as_ref() else {
        return Err(Error::tx(
            CHAIN,
            format!(
                "input {i} ({outpoint}) has no non_witness_utxo: the full previous transaction is required \
                 for every input, so that the amount it spends can be checked"
            ),
        ));
    };
    let txid = prev.compute_txid();
    if txid != outpoint.txid {
        return Err(Error::tx(
            CHAIN,
            format!(
                "input {i} ({outpoint}): its non_witness_utxo is transaction {txid}, not the one the input spends"
            ),
        ));
    }
    let Some(out) = usize::try_from(outpoint.vout).ok().and_then(|v| prev.output.get(v)) else {
        return Err(Error::tx(
            CHAIN,
            format!(
                "input {i} ({outpoint}): the previous transaction has {} outputs, no output {}",
                prev.output.len(),
                outpoint.vout
            ),
        ));
    };
    if let Some(w) = &pin.witness_utxo
        && w != out
    {
        return Err(Error::tx(
            CHAIN,
            format!(
                "input {i} ({outpoint}): witness_utxo differs from output {} of its non_witness_utxo",
                outpoint.vout
            ),
        ));
    }
    Ok(out.clone())
}

/// One input as the user should see it before signing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReviewInput {
    /// `txid:vout`.
    pub outpoint: String,
    /// Value in satoshis.
    pub value_sat: u64,
    /// The derivation path if this wallet owns (and will sign) the input.
    pub ours: Option<String>,
}

/// One output as the user should see it before signing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReviewOutput {
    /// The address (None for a script with no address form, e.g. OP_RETURN).
    pub address: Option<String>,
    /// Value in satoshis.
    pub value_sat: u64,
    /// The derivation path if the output returns to this wallet (change).
    pub change: Option<String>,
}

/// What a PSBT does: shown to the user, then handed back to [`BitcoinSigner::sign`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PsbtReview {
    /// The unsigned transaction's id (does not change when signed: SegWit).
    pub txid: String,
    /// Inputs.
    pub inputs: Vec<ReviewInput>,
    /// Outputs.
    pub outputs: Vec<ReviewOutput>,
    /// Sum of the inputs.
    pub total_in_sat: u64,
    /// Sent to others (outputs that are not change).
    pub send_sat: u64,
    /// Returned to this wallet.
    pub change_sat: u64,
    /// Sum of the inputs this wallet owns (and signs).
    pub own_in_sat: u64,
    /// What leaves this wallet: its own inputs − its change (negative when more comes back to it
    /// than it puts in, e.g. a payjoin).
    pub leaves_wallet_sat: i64,
    /// Fee = inputs − outputs (every input's amount checked against its previous transaction).
    pub fee_sat: u64,
    /// Estimated virtual size once every input is a signed P2WPKH.
    pub estimated_vsize: u64,
}

/// The result of signing.
#[derive(Debug, Clone)]
pub struct SignedBitcoinTx {
    /// The PSBT with this wallet's inputs finalized.
    pub psbt: Psbt,
    /// Indices of the inputs signed here.
    pub signed_inputs: Vec<usize>,
    /// The network transaction, when every input is finalized.
    pub transaction: Option<Transaction>,
}

/// The BIP-84 account 0 of a wallet on one network.
pub struct BitcoinSigner {
    account: Secp256k1Key,
    fingerprint: Fingerprint,
    network: Network,
    secp: Secp256k1<secp256k1::All>,
}

impl core::fmt::Debug for BitcoinSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("BitcoinSigner")
            .field("fingerprint", &self.fingerprint)
            .field("network", &self.network)
            .finish_non_exhaustive()
    }
}

impl BitcoinSigner {
    /// The signer of a wallet's seed (the BIP-39 seed: [`crate::Wallet::seed`]) on `network`.
    pub fn new(seed: &Seed, network: Network) -> Result<Self> {
        let secp = secp();
        let master = Secp256k1Key::master(seed.expose())?;
        let master_pk = master.public_key()?.serialize();
        let h = hash160::Hash::hash(&master_pk).to_byte_array();
        let fingerprint = Fingerprint::from([h[0], h[1], h[2], h[3]]);
        let account = master.derive_path(&Self::account_path(network))?;
        Ok(Self { account, fingerprint, network, secp })
    }

    fn account_path(network: Network) -> DerivationPath {
        DerivationPath::from(vec![
            ChildNumber::Hardened { index: 84 },
            ChildNumber::Hardened { index: coin_type(network) },
            ChildNumber::Hardened { index: 0 },
        ])
    }

    /// The master key fingerprint (what PSBT `bip32_derivation` entries carry).
    pub fn fingerprint(&self) -> Fingerprint {
        self.fingerprint
    }

    /// The full path of `m/84'/c'/0'/change/index`.
    pub fn path(&self, change: bool, index: u32) -> DerivationPath {
        Self::account_path(self.network)
            .extend([ChildNumber::Normal { index: u32::from(change) }, ChildNumber::Normal { index }])
    }

    fn key(&self, change: bool, index: u32) -> Result<Secp256k1Key> {
        let rel = DerivationPath::from(vec![
            ChildNumber::from_normal_idx(u32::from(change)).map_err(|e| Error::tx(CHAIN, e))?,
            ChildNumber::from_normal_idx(index).map_err(|e| Error::tx(CHAIN, e))?,
        ]);
        self.account.derive_path(&rel)
    }

    /// Receive (`change = false`) or change address `index`.
    pub fn address(&self, change: bool, index: u32) -> Result<Address> {
        address_of(&self.key(change, index)?, self.network)
    }

    /// The P2WPKH script of `m/84'/c'/0'/change/index`, derived once per review (from the
    /// receive or change branch key, itself derived once).
    fn script(&self, change: bool, index: u32, scripts: &mut Scripts) -> Result<ScriptBuf> {
        if let Some(s) = scripts.derived.get(&(change, index)) {
            return Ok(s.clone());
        }
        let slot = if change { &mut scripts.change_branch } else { &mut scripts.receive_branch };
        if slot.is_none() {
            *slot = Some(self.account.child(ChildNumber::Normal { index: u32::from(change) })?);
        }
        let Some(branch) = slot.as_ref() else {
            return Err(Error::tx(CHAIN, "branch key missing"));
        };
        let child = ChildNumber::from_normal_idx(index).map_err(|e| Error::tx(CHAIN, e))?;
        let s = address_of(&branch.child(child)?, self.network)?.script_pubkey();
        scripts.derived.insert((change, index), s.clone());
        Ok(s)
    }

    /// Finds which of our keys owns `script`: first from BIP-32 derivation data carrying our
    /// fingerprint, then among the first `GAP_LIMIT` receive and change addresses (derived once
    /// per review, on first need).
    fn find(
        &self,
        script: &ScriptBuf,
        bip32: &BTreeMap<secp256k1::PublicKey, KeySource>,
        scripts: &mut Scripts,
    ) -> Result<Option<(bool, u32)>> {
        let prefix = Self::account_path(self.network);
        for (fp, path) in bip32.values() {
            if *fp != self.fingerprint {
                continue;
            }
            let levels: Vec<ChildNumber> = path.into_iter().copied().collect();
            if let [a, b, c, ChildNumber::Normal { index: ch }, ChildNumber::Normal { index }] =
                levels.as_slice()
                && [*a, *b, *c].as_slice() == prefix.as_ref()
                && *ch <= 1
                && self.script(*ch == 1, *index, scripts)? == *script
            {
                return Ok(Some((*ch == 1, *index)));
            }
        }
        if scripts.gap.is_none() {
            let mut gap = BTreeMap::new();
            for change in [false, true] {
                for index in 0..GAP_LIMIT {
                    gap.entry(self.script(change, index, scripts)?).or_insert((change, index));
                }
            }
            scripts.gap = Some(gap);
        }
        Ok(scripts.gap.as_ref().and_then(|g| g.get(script)).copied())
    }

    /// Summarises a PSBT for the user: inputs (ours or not), recipients, change, what leaves
    /// this wallet and the fee. Every input must carry its full previous transaction
    /// (`non_witness_utxo`, see [`spent_output`]); a PSBT without one is refused.
    pub fn review(&self, psbt: &Psbt) -> Result<PsbtReview> {
        Ok(self.analyse(psbt)?.review)
    }

    fn analyse(&self, psbt: &Psbt) -> Result<Analysis> {
        let tx = &psbt.unsigned_tx;
        if tx.input.len() != psbt.inputs.len() || tx.output.len() != psbt.outputs.len() {
            return Err(Error::tx(
                CHAIN,
                format!(
                    "the unsigned transaction has {} inputs and {} outputs but the PSBT {} input and {} output maps",
                    tx.input.len(),
                    tx.output.len(),
                    psbt.inputs.len(),
                    psbt.outputs.len()
                ),
            ));
        }
        // Every input's amount is checked before any key is derived.
        let spent = (0..tx.input.len()).map(|i| spent_output(psbt, i)).collect::<Result<Vec<_>>>()?;
        let mut scripts = Scripts::default();
        let mut inputs = Vec::new();
        let mut owned = Vec::new();
        let (mut total_in, mut own_in) = (0u64, 0u64);
        for (i, (txin, utxo)) in tx.input.iter().zip(spent).enumerate() {
            let pin = psbt.inputs.get(i).ok_or_else(|| Error::tx(CHAIN, format!("no input {i}")))?;
            let v = utxo.value.to_sat();
            total_in = total_in.checked_add(v).ok_or_else(|| Error::tx(CHAIN, "input sum overflows"))?;
            let ours = self.find(&utxo.script_pubkey, &pin.bip32_derivation, &mut scripts)?;
            inputs.push(ReviewInput {
                outpoint: txin.previous_output.to_string(),
                value_sat: v,
                ours: ours.map(|(c, i)| path_string(&self.path(c, i))),
            });
            if let Some((change, index)) = ours {
                own_in = own_in.checked_add(v).ok_or_else(|| Error::tx(CHAIN, "input sum overflows"))?;
                owned.push(OwnedInput { index: i, utxo, change, key_index: index });
            }
        }
        let mut outputs = Vec::new();
        let (mut send, mut change, mut total_out) = (0u64, 0u64, 0u64);
        for (i, txout) in tx.output.iter().enumerate() {
            let pout = psbt.outputs.get(i).ok_or_else(|| Error::tx(CHAIN, format!("no output {i}")))?;
            let v = txout.value.to_sat();
            total_out = total_out.checked_add(v).ok_or_else(|| Error::tx(CHAIN, "output sum overflows"))?;
            let ours = self.find(&txout.script_pubkey, &pout.bip32_derivation, &mut scripts)?;
            if ours.is_some() {
                change = change.saturating_add(v);
            } else {
                send = send.saturating_add(v);
            }
            outputs.push(ReviewOutput {
                address: Address::from_script(&txout.script_pubkey, self.network).ok().map(|a| a.to_string()),
                value_sat: v,
                change: ours.map(|(c, i)| path_string(&self.path(c, i))),
            });
        }
        let fee = total_in.checked_sub(total_out).ok_or_else(|| Error::tx(CHAIN, "outputs exceed inputs"))?;
        let leaves = i64::try_from(i128::from(own_in) - i128::from(change))
            .map_err(|_| Error::tx(CHAIN, "amounts out of range"))?;
        // A signed P2WPKH input adds a witness of at most 108 weight units (72-byte signature,
        // 33-byte key, 3 length bytes) plus the 2-unit SegWit marker once.
        let estimated_vsize = send::p2wpkh_vsize_bound(tx);
        let review = PsbtReview {
            txid: tx.compute_txid().to_string(),
            inputs,
            outputs,
            total_in_sat: total_in,
            send_sat: send,
            change_sat: change,
            own_in_sat: own_in,
            leaves_wallet_sat: leaves,
            fee_sat: fee,
            estimated_vsize,
        };
        Ok(Analysis { review, owned })
    }

    /// Signs (SIGHASH_ALL, BIP-143) and finalizes every P2WPKH input this wallet owns, if the
    /// PSBT still matches the approved review. Extracts the transaction when all are final.
    pub fn sign(&self, mut psbt: Psbt, approved: &PsbtReview) -> Result<SignedBitcoinTx> {
        let analysis = self.analyse(&psbt)?;
        if analysis.review != *approved {
            return Err(Error::ReviewMismatch);
        }
        let mut signed_inputs = Vec::new();
        let mut cache = SighashCache::new(psbt.unsigned_tx.clone());
        for OwnedInput { index: i, utxo, change, key_index } in analysis.owned {
            let Some(pin) = psbt.inputs.get(i) else { continue };
            if let Some(t) = pin.sighash_type
                && t.ecdsa_hash_ty().ok() != Some(EcdsaSighashType::All)
            {
                return Err(Error::tx(CHAIN, format!("input {i}: only SIGHASH_ALL is signed")));
            }
            if !utxo.script_pubkey.is_p2wpkh() {
                continue;
            }
            let key = self.key(change, key_index)?;
            finalize_p2wpkh_input(&mut psbt, &mut cache, i, &utxo, &key, &self.secp)?;
            signed_inputs.push(i);
        }
        if signed_inputs.is_empty() {
            return Err(Error::tx(CHAIN, "no input of this PSBT belongs to this wallet"));
        }
        let complete =
            psbt.inputs.iter().all(|i| i.final_script_witness.is_some() || i.final_script_sig.is_some());
        // `extract_tx` recomputes the fee from the PSBT's UTXO fields; `analyse` has checked them
        // all (lengths, txids, vouts, witness_utxo = non_witness_utxo output), so it cannot fail
        // on them here.
        let transaction =
            if complete { Some(psbt.clone().extract_tx().map_err(|e| Error::tx(CHAIN, e))?) } else { None };
        Ok(SignedBitcoinTx { psbt, signed_inputs, transaction })
    }
}

/// Keys and scripts derived during one review.
#[derive(Default)]
struct Scripts {
    /// The receive branch key `m/84'/c'/0'/0` (zeroized on drop).
    receive_branch: Option<Secp256k1Key>,
    /// The change branch key `m/84'/c'/0'/1` (zeroized on drop).
    change_branch: Option<Secp256k1Key>,
    /// `(change, index)` → P2WPKH script.
    derived: BTreeMap<(bool, u32), ScriptBuf>,
    /// The first `GAP_LIMIT` receive and change scripts, once needed.
    gap: Option<BTreeMap<ScriptBuf, (bool, u32)>>,
}

/// An input this wallet owns, as found by a review.
struct OwnedInput {
    index: usize,
    utxo: TxOut,
    change: bool,
    key_index: u32,
}

/// A review and the inputs it found to be ours.
struct Analysis {
    review: PsbtReview,
    owned: Vec<OwnedInput>,
}
