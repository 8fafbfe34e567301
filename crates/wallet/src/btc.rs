//! Bitcoin: BIP-84 native SegWit (P2WPKH) addresses and PSBT (BIP-174) signing of P2WPKH
//! inputs, with rust-bitcoin (`bitcoin` 0.32: addresses, PSBT, BIP-143 sighash, libsecp256k1).
//!
//! The flow is review → approve → sign: [`BitcoinSigner::review`] returns what the transaction
//! does (inputs, recipients, change, fee); [`BitcoinSigner::sign`] takes that review back and
//! refuses a PSBT whose summary differs from it.

use std::collections::BTreeMap;

use bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, KeySource};
use bitcoin::hashes::{Hash, hash160};
use bitcoin::secp256k1::{self, Message, Secp256k1};
use bitcoin::sighash::{EcdsaSighashType, SighashCache};
use bitcoin::{CompressedPublicKey, ScriptBuf, TxOut, Witness};

pub use bitcoin::{Address, Amount, Network, Psbt, Transaction, Txid};

use crate::derive::{Secp256k1Key, secp};
use crate::error::{Error, Result};
use crate::wallet::Wallet;

const CHAIN: &str = "bitcoin";
/// How many receive and change addresses are scanned for inputs and change without BIP-32
/// derivation data in the PSBT (BIP-44's gap limit).
pub const GAP_LIMIT: u32 = 20;

/// The P2WPKH address of a key.
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
/// data removed. The spent output must be in the PSBT and pay to `key`'s P2WPKH script.
pub fn finalize_p2wpkh_input<C: secp256k1::Signing>(
    psbt: &mut Psbt,
    cache: &mut SighashCache<Transaction>,
    i: usize,
    key: &Secp256k1Key,
    secp: &Secp256k1<C>,
) -> Result<()> {
    let utxo = psbt.spend_utxo(i).cloned().map_err(|e| Error::tx(CHAIN, format!("input {i}: {e}")))?;
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
    /// Fee = inputs − outputs.
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
    pub(crate) fn new(wallet: &Wallet, network: Network) -> Result<Self> {
        let secp = secp();
        let master = Secp256k1Key::master(wallet.seed().expose())?;
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

    /// Finds which of our keys owns `script`: first from BIP-32 derivation data carrying our
    /// fingerprint, then by scanning the first `GAP_LIMIT` receive and change addresses.
    fn find(
        &self,
        script: &ScriptBuf,
        bip32: &BTreeMap<secp256k1::PublicKey, KeySource>,
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
                && self.address(*ch == 1, *index)?.script_pubkey() == *script
            {
                return Ok(Some((*ch == 1, *index)));
            }
        }
        for change in [false, true] {
            for index in 0..GAP_LIMIT {
                if self.address(change, index)?.script_pubkey() == *script {
                    return Ok(Some((change, index)));
                }
            }
        }
        Ok(None)
    }

    fn spent_output(psbt: &Psbt, i: usize) -> Result<TxOut> {
        psbt.spend_utxo(i).cloned().map_err(|e| Error::tx(CHAIN, format!("input {i}: {e}")))
    }

    /// Summarises a PSBT for the user: inputs (ours or not), recipients, change and fee.
    pub fn review(&self, psbt: &Psbt) -> Result<PsbtReview> {
        let tx = &psbt.unsigned_tx;
        let mut inputs = Vec::new();
        let mut total_in: u64 = 0;
        for (i, (txin, pin)) in tx.input.iter().zip(psbt.inputs.iter()).enumerate() {
            let utxo = Self::spent_output(psbt, i)?;
            total_in = total_in
                .checked_add(utxo.value.to_sat())
                .ok_or_else(|| Error::tx(CHAIN, "input sum overflows"))?;
            let ours = self.find(&utxo.script_pubkey, &pin.bip32_derivation)?;
            inputs.push(ReviewInput {
                outpoint: txin.previous_output.to_string(),
                value_sat: utxo.value.to_sat(),
                ours: ours.map(|(c, i)| crate::path_string(&self.path(c, i))),
            });
        }
        let mut outputs = Vec::new();
        let (mut send, mut change, mut total_out) = (0u64, 0u64, 0u64);
        for (txout, pout) in tx.output.iter().zip(psbt.outputs.iter()) {
            let v = txout.value.to_sat();
            total_out = total_out.checked_add(v).ok_or_else(|| Error::tx(CHAIN, "output sum overflows"))?;
            let ours = self.find(&txout.script_pubkey, &pout.bip32_derivation)?;
            if ours.is_some() {
                change = change.saturating_add(v);
            } else {
                send = send.saturating_add(v);
            }
            outputs.push(ReviewOutput {
                address: Address::from_script(&txout.script_pubkey, self.network).ok().map(|a| a.to_string()),
                value_sat: v,
                change: ours.map(|(c, i)| crate::path_string(&self.path(c, i))),
            });
        }
        let fee = total_in.checked_sub(total_out).ok_or_else(|| Error::tx(CHAIN, "outputs exceed inputs"))?;
        // A signed P2WPKH input adds a witness of about 108 weight units (72-byte signature,
        // 33-byte key, 3 length bytes) plus the 2-unit SegWit marker once.
        let witness_wu = 108u64 * tx.input.len() as u64 + 2;
        let estimated_vsize = (tx.weight().to_wu() + witness_wu).div_ceil(4);
        Ok(PsbtReview {
            txid: tx.compute_txid().to_string(),
            inputs,
            outputs,
            total_in_sat: total_in,
            send_sat: send,
            change_sat: change,
            fee_sat: fee,
            estimated_vsize,
        })
    }

    /// Signs (SIGHASH_ALL, BIP-143) and finalizes every P2WPKH input this wallet owns, if the
    /// PSBT still matches the approved review. Extracts the transaction when all are final.
    pub fn sign(&self, mut psbt: Psbt, approved: &PsbtReview) -> Result<SignedBitcoinTx> {
        if self.review(&psbt)? != *approved {
            return Err(Error::ReviewMismatch);
        }
        let mut signed_inputs = Vec::new();
        let mut cache = SighashCache::new(psbt.unsigned_tx.clone());
        for i in 0..psbt.inputs.len() {
            let utxo = Self::spent_output(&psbt, i)?;
            let Some(pin) = psbt.inputs.get(i) else { continue };
            let Some((change, index)) = self.find(&utxo.script_pubkey, &pin.bip32_derivation)? else {
                continue;
            };
            if let Some(t) = pin.sighash_type
                && t.ecdsa_hash_ty().ok() != Some(EcdsaSighashType::All)
            {
                return Err(Error::tx(CHAIN, format!("input {i}: only SIGHASH_ALL is signed")));
            }
            if !utxo.script_pubkey.is_p2wpkh() {
                continue;
            }
            let key = self.key(change, index)?;
            finalize_p2wpkh_input(&mut psbt, &mut cache, i, &key, &self.secp)?;
            signed_inputs.push(i);
        }
        if signed_inputs.is_empty() {
            return Err(Error::tx(CHAIN, "no input of this PSBT belongs to this wallet"));
        }
        let complete =
            psbt.inputs.iter().all(|i| i.final_script_witness.is_some() || i.final_script_sig.is_some());
        let transaction =
            if complete { Some(psbt.clone().extract_tx().map_err(|e| Error::tx(CHAIN, e))?) } else { None };
        Ok(SignedBitcoinTx { psbt, signed_inputs, transaction })
    }
}
