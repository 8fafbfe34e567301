//! Sending from the wallet's BIP-84 account: coin selection over its UTXOs (as an Esplora API
//! lists them), change to its own next change address, the fee from an upper bound of the signed
//! size, and a PSBT that goes through the same review and signing as any other
//! ([`BitcoinSigner::review`], [`BitcoinSigner::sign`]).
//!
//! **Coin selection: largest first, confirmed coins before unconfirmed ones** (hand-written, a
//! few lines). Confirmed coins are taken first (largest value first), unconfirmed ones only when
//! the confirmed ones are not enough, so a payment does not depend on a parent that may never
//! confirm. Largest-first needs the fewest inputs, so the lowest fee today, and is simple enough
//! to check by reading; its known cost is that it leaves small coins behind and always makes
//! change when it can. (Branch-and-bound, which looks for a changeless exact match, lives in
//! `bdk_coin_select`; with the few coins a personal wallet holds, the fee it saves is a few
//! hundred satoshis, not worth a second selection path here.)
//!
//! **Fee and size.** `fee = vsize × rate`, where vsize is an upper bound of the signed
//! transaction's virtual size: the unsigned transaction's weight + 2 (SegWit marker and flag) +
//! 108 per P2WPKH input (witness item count, a 72-byte DER signature with its sighash byte — the
//! longest a low-S signature can be — the 33-byte key, and their length bytes), divided by 4 and
//! rounded up. The signed transaction is never larger, so its real rate is never below the one
//! asked for (at most a byte or so per input above it).
//!
//! **Dust.** A recipient amount below its output's dust limit (rust-bitcoin's
//! `minimal_non_dust`, Bitcoin Core's 3 sat/vB dust relay rule: 294 sat for P2WPKH, 546 for
//! P2PKH) is refused. Change below the change output's dust limit (294 sat) is not made: it goes
//! to the fee, and the plan says how much ([`SendPlan::dust_to_fee_sat`]).
//!
//! **Transaction.** Version 2, lock time 0, every input's sequence `0xFFFFFFFD` (BIP-125
//! replace-by-fee), inputs and outputs in BIP-69 order (deterministic, so the change's place
//! says nothing), every input carrying its full previous transaction (which the review
//! requires) and BIP-32 derivation data for our keys.

use std::collections::BTreeSet;

use bitcoin::absolute::LockTime;
use bitcoin::psbt::Psbt;
use bitcoin::transaction::Version;
use bitcoin::{
    Address, Amount, Network, OutPoint, ScriptBuf, Sequence, Transaction, TxIn, TxOut, Txid, Witness,
};

use super::error::BitcoinError;
use super::esplora::EsploraUtxo;
use super::{BitcoinSigner, PsbtReview, ReviewOutput};
use crate::derive::path_string;
use crate::error::{Error, Result};

const CHAIN: &str = "bitcoin";

/// The lowest fee rate accepted, sat/vB (Bitcoin Core's default minimum relay fee).
pub const MIN_FEE_RATE_SAT_VB: u64 = 1;
/// The highest fee rate accepted, sat/vB: above any rate the network has needed, so a higher one
/// is taken for a typing error (e.g. a rate per kvB).
pub const MAX_FEE_RATE_SAT_VB: u64 = 1_000;

/// Weight units a signed P2WPKH input's witness adds at most: item count (1), signature length
/// (1), DER signature + sighash byte (≤ 72 with low S), key length (1), compressed key (33).
pub const P2WPKH_WITNESS_WU_MAX: u64 = 108;

/// One of the wallet's coins: an unspent output as the chain API listed it, and which of the
/// account's keys owns it (`m/84'/c'/0'/change/index`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalletCoin {
    /// The output, its value and confirmation status.
    pub utxo: EsploraUtxo,
    /// On the change branch (`…/1/i`) rather than the receive branch (`…/0/i`).
    pub change: bool,
    /// The address index.
    pub index: u32,
}

/// How much to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendAmount {
    /// Exactly this many satoshis to the recipient; the fee comes on top.
    Exact(u64),
    /// Every coin given, less the fee, to the recipient; no change.
    All,
}

/// A payment to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendRequest {
    /// The recipient's address (checked against the wallet's network).
    pub recipient: String,
    /// The amount.
    pub amount: SendAmount,
    /// Fee rate in sat/vB, [`MIN_FEE_RATE_SAT_VB`]..=[`MAX_FEE_RATE_SAT_VB`].
    pub fee_rate_sat_vb: u64,
    /// The index of the next unused change address (`m/84'/c'/0'/1/change_index`).
    pub change_index: u32,
}

/// The change output of a plan.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChangeOutput {
    /// `m/84'/c'/0'/1/i`.
    pub path: String,
    /// Its address.
    pub address: String,
    /// Its value.
    pub value_sat: u64,
}

/// A payment ready for review: the PSBT, the review the user confirms, and how the fee was made.
#[derive(Debug, Clone)]
pub struct SendPlan {
    /// The unsigned PSBT (every input with its previous transaction and BIP-32 data).
    pub psbt: Psbt,
    /// [`BitcoinSigner::review`] of that PSBT: what the confirmation shows, and what
    /// [`BitcoinSigner::sign_send`] checks again.
    pub review: PsbtReview,
    /// The recipient.
    pub recipient: String,
    /// What the recipient receives.
    pub amount_sat: u64,
    /// The fee (inputs − outputs).
    pub fee_sat: u64,
    /// The virtual size the fee pays for (an upper bound of the signed size).
    pub vsize: u64,
    /// The rate asked for; `fee_sat = vsize × fee_rate_sat_vb + dust_to_fee_sat`.
    pub fee_rate_sat_vb: u64,
    /// The change output, if any.
    pub change: Option<ChangeOutput>,
    /// Change too small to be an output (below its dust limit), added to the fee.
    pub dust_to_fee_sat: u64,
    /// The coins spent.
    pub inputs: Vec<OutPoint>,
    /// The network.
    pub network: Network,
}

/// What the confirmation screen shows, read from the review of the PSBT (the bytes that will be
/// signed, decoded), never from the form; only the fee rate is the one asked for, and
/// `fee_sat = vsize × fee_rate_sat_vb + dust_to_fee_sat` holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SendConfirmation {
    /// `bitcoin`, `testnet`, `signet`, `regtest`, …
    pub network: String,
    /// The transaction id (unchanged by signing: every input is SegWit).
    pub txid: String,
    /// Outputs to others: address and amount.
    pub recipients: Vec<ReviewOutput>,
    /// Outputs back to this wallet, with their paths.
    pub change: Vec<ReviewOutput>,
    /// How many of the wallet's coins are spent.
    pub input_count: usize,
    /// The fee.
    pub fee_sat: u64,
    /// The virtual size the fee pays for (an upper bound of the signed size).
    pub vsize: u64,
    /// The fee rate, sat/vB.
    pub fee_rate_sat_vb: u64,
    /// Change too small to be an output, added to the fee.
    pub dust_to_fee_sat: u64,
    /// What leaves the wallet: recipients + fee.
    pub leaves_wallet_sat: i64,
    /// Every input signals BIP-125 replace-by-fee (the fee can be raised later).
    pub replaceable: bool,
}

/// A signed payment, ready to broadcast (`POST /tx` with `tx_hex`).
#[derive(Debug, Clone)]
pub struct SignedSend {
    /// The network transaction.
    pub transaction: Transaction,
    /// Its consensus serialization in hex.
    pub tx_hex: String,
    /// Its id.
    pub txid: Txid,
    /// Its real virtual size (at most the plan's).
    pub vsize: u64,
    /// The fee.
    pub fee_sat: u64,
}

impl SendPlan {
    /// What the confirmation screen shows, from the PSBT's review.
    pub fn confirmation(&self) -> SendConfirmation {
        let r = &self.review;
        let (change, recipients): (Vec<ReviewOutput>, Vec<ReviewOutput>) =
            r.outputs.iter().cloned().partition(|o| o.change.is_some());
        SendConfirmation {
            network: self.network.to_string(),
            txid: r.txid.clone(),
            recipients,
            change,
            input_count: r.inputs.len(),
            fee_sat: r.fee_sat,
            vsize: r.estimated_vsize,
            fee_rate_sat_vb: self.fee_rate_sat_vb,
            dust_to_fee_sat: r.fee_sat.saturating_sub(r.estimated_vsize.saturating_mul(self.fee_rate_sat_vb)),
            leaves_wallet_sat: r.leaves_wallet_sat,
            replaceable: self.psbt.unsigned_tx.is_explicitly_rbf()
                && self.psbt.unsigned_tx.input.iter().all(|i| i.sequence.is_rbf()),
        }
    }
}

/// The wallet's balance from its coins.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Balance {
    /// Coins in a block.
    pub confirmed_sat: u64,
    /// Coins whose transaction is not yet in a block.
    pub unconfirmed_sat: u64,
}

/// The balance of `coins` (each outpoint counted once).
pub fn balance(coins: &[WalletCoin]) -> Balance {
    let mut seen = BTreeSet::new();
    let mut b = Balance::default();
    for c in coins.iter().filter(|c| seen.insert(c.utxo.outpoint)) {
        let slot = if c.utxo.status.confirmed { &mut b.confirmed_sat } else { &mut b.unconfirmed_sat };
        *slot = slot.saturating_add(c.utxo.value_sat);
    }
    b
}

/// The upper bound of the virtual size of `tx` once each of its inputs is a signed P2WPKH.
pub fn p2wpkh_vsize_bound(tx: &Transaction) -> u64 {
    let inputs = tx.input.len() as u64;
    (tx.weight().to_wu() + 2 + P2WPKH_WITNESS_WU_MAX * inputs).div_ceil(4)
}

/// Parses `text` as an address on `network`: a bad address is [`Error::Address`], one of
/// another network [`BitcoinError::WrongNetwork`].
pub fn parse_address(text: &str, network: Network) -> Result<Address> {
    let unchecked = text
        .trim()
        .parse::<Address<bitcoin::address::NetworkUnchecked>>()
        .map_err(|e| Error::address(CHAIN, text, e))?;
    unchecked.require_network(network).map_err(|_| {
        BitcoinError::WrongNetwork { address: text.trim().to_owned(), network: network.to_string() }.into()
    })
}

/// A coin whose previous transaction has been checked.
struct Checked<'a> {
    coin: &'a WalletCoin,
    prev: &'a Transaction,
    txout: TxOut,
}

impl BitcoinSigner {
    /// Plans a payment from this account: checks the request, selects coins, makes change,
    /// builds the PSBT and reviews it. `prev_txs` holds the previous transaction of each coin
    /// that may be spent (`GET /tx/:txid/hex`, see [`super::esplora::parse_tx_hex`]); each
    /// selected coin's output is checked against it (value and our script).
    pub fn plan_send(
        &self,
        coins: &[WalletCoin],
        prev_txs: &[Transaction],
        req: &SendRequest,
    ) -> Result<SendPlan> {
        let rate = req.fee_rate_sat_vb;
        if !(MIN_FEE_RATE_SAT_VB..=MAX_FEE_RATE_SAT_VB).contains(&rate) {
            return Err(
                BitcoinError::FeeRate { rate, min: MIN_FEE_RATE_SAT_VB, max: MAX_FEE_RATE_SAT_VB }.into()
            );
        }
        let recipient = parse_address(&req.recipient, self.network)?;
        let recipient_script = recipient.script_pubkey();
        let recipient_dust = recipient_script.minimal_non_dust().to_sat();
        if let SendAmount::Exact(amount) = req.amount {
            if amount < recipient_dust {
                return Err(
                    BitcoinError::DustAmount { amount_sat: amount, dust_limit_sat: recipient_dust }.into()
                );
            }
            if amount > Amount::MAX_MONEY.to_sat() {
                return Err(Error::tx(CHAIN, "the amount exceeds 21 million BTC"));
            }
        }
        let mut seen = BTreeSet::new();
        if let Some(dup) = coins.iter().find(|c| !seen.insert(c.utxo.outpoint)) {
            return Err(BitcoinError::ChainData(format!("coin {} is listed twice", dup.utxo.outpoint)).into());
        }
        let change_address = self.address(true, req.change_index)?;
        let change_script = change_address.script_pubkey();
        let change_dust = change_script.minimal_non_dust().to_sat();

        // Confirmed first, then the largest, then a fixed order.
        let mut order: Vec<&WalletCoin> = coins.iter().collect();
        order.sort_by(|a, b| {
            (!a.utxo.status.confirmed, core::cmp::Reverse(a.utxo.value_sat), a.utxo.outpoint).cmp(&(
                !b.utxo.status.confirmed,
                core::cmp::Reverse(b.utxo.value_sat),
                b.utxo.outpoint,
            ))
        });
        let vsize = |inputs: &[Checked<'_>], outputs: &[&ScriptBuf]| {
            p2wpkh_vsize_bound(&template(inputs.iter().map(|c| c.coin.utxo.outpoint), outputs))
        };
        let mut selected: Vec<Checked<'_>> = Vec::new();
        let mut sum = 0u64;
        // (amount, change value, vsize paid for, dust added to the fee)
        let mut outcome: Option<(u64, Option<u64>, u64, u64)> = None;
        match req.amount {
            SendAmount::Exact(amount) => {
                for coin in order {
                    let checked = self.check_coin(coin, prev_txs)?;
                    sum = sum.saturating_add(checked.txout.value.to_sat());
                    selected.push(checked);
                    let v_change = vsize(&selected, &[&recipient_script, &change_script]);
                    let left =
                        sum.checked_sub(amount).and_then(|l| l.checked_sub(v_change.saturating_mul(rate)));
                    if let Some(change) = left
                        && change >= change_dust
                    {
                        outcome = Some((amount, Some(change), v_change, 0));
                        break;
                    }
                    let v_plain = vsize(&selected, &[&recipient_script]);
                    if let Some(extra) =
                        sum.checked_sub(amount).and_then(|l| l.checked_sub(v_plain.saturating_mul(rate)))
                    {
                        outcome = Some((amount, None, v_plain, extra));
                        break;
                    }
                }
                if outcome.is_none() {
                    // Not enough even with every coin: say by how much (fee without change).
                    let all =
                        coins.iter().map(|c| self.check_coin(c, prev_txs)).collect::<Result<Vec<_>>>()?;
                    let available: u64 = all.iter().map(|c| c.txout.value.to_sat()).sum();
                    let needed =
                        amount.saturating_add(vsize(&all, &[&recipient_script]).saturating_mul(rate));
                    return Err(BitcoinError::InsufficientFunds {
                        needed_sat: needed,
                        available_sat: available,
                        shortfall_sat: needed.saturating_sub(available),
                    }
                    .into());
                }
            }
            SendAmount::All => {
                for coin in order {
                    let checked = self.check_coin(coin, prev_txs)?;
                    sum = sum.saturating_add(checked.txout.value.to_sat());
                    selected.push(checked);
                }
                let v = vsize(&selected, &[&recipient_script]);
                let fee = v.saturating_mul(rate);
                match sum.checked_sub(fee) {
                    Some(amount) if amount >= recipient_dust => outcome = Some((amount, None, v, 0)),
                    Some(amount) if !selected.is_empty() => {
                        return Err(BitcoinError::DustAmount {
                            amount_sat: amount,
                            dust_limit_sat: recipient_dust,
                        }
                        .into());
                    }
                    _ => {
                        let needed = fee.saturating_add(recipient_dust);
                        return Err(BitcoinError::InsufficientFunds {
                            needed_sat: needed,
                            available_sat: sum,
                            shortfall_sat: needed.saturating_sub(sum),
                        }
                        .into());
                    }
                }
            }
        }
        let Some((amount, change, vsize_paid, dust_to_fee)) = outcome else {
            return Err(Error::tx(CHAIN, "no coin selection"));
        };

        // The transaction, in BIP-69 order.
        selected.sort_by(|a, b| {
            let key = |c: &Checked<'_>| (c.coin.utxo.outpoint.txid.to_string(), c.coin.utxo.outpoint.vout);
            key(a).cmp(&key(b))
        });
        let mut outputs =
            vec![TxOut { value: Amount::from_sat(amount), script_pubkey: recipient_script.clone() }];
        if let Some(c) = change {
            outputs.push(TxOut { value: Amount::from_sat(c), script_pubkey: change_script.clone() });
        }
        outputs.sort_by(|a, b| {
            (a.value, a.script_pubkey.as_bytes()).cmp(&(b.value, b.script_pubkey.as_bytes()))
        });
        let tx = Transaction {
            version: Version::TWO,
            lock_time: LockTime::ZERO,
            input: selected
                .iter()
                .map(|c| TxIn {
                    previous_output: c.coin.utxo.outpoint,
                    script_sig: ScriptBuf::new(),
                    sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                    witness: Witness::new(),
                })
                .collect(),
            output: outputs,
        };
        let mut psbt = Psbt::from_unsigned_tx(tx).map_err(|e| Error::tx(CHAIN, e))?;
        for (pin, c) in psbt.inputs.iter_mut().zip(&selected) {
            pin.non_witness_utxo = Some(c.prev.clone());
            pin.witness_utxo = Some(c.txout.clone());
            let path = self.path(c.coin.change, c.coin.index);
            pin.bip32_derivation
                .insert(self.key(c.coin.change, c.coin.index)?.public_key()?, (self.fingerprint, path));
        }
        for (pout, txout) in psbt.outputs.iter_mut().zip(&psbt.unsigned_tx.output) {
            if txout.script_pubkey == change_script && change.is_some() {
                let path = self.path(true, req.change_index);
                pout.bip32_derivation
                    .insert(self.key(true, req.change_index)?.public_key()?, (self.fingerprint, path));
            }
        }
        let review = self.review(&psbt)?;
        let fee_sat = vsize_paid.saturating_mul(rate).saturating_add(dust_to_fee);
        if review.fee_sat != fee_sat || review.estimated_vsize != vsize_paid {
            return Err(Error::tx(CHAIN, "the review disagrees with the plan's fee"));
        }
        let inputs = psbt.unsigned_tx.input.iter().map(|i| i.previous_output).collect();
        Ok(SendPlan {
            psbt,
            review,
            recipient: recipient.to_string(),
            amount_sat: amount,
            fee_sat,
            vsize: vsize_paid,
            fee_rate_sat_vb: rate,
            change: change.map(|value_sat| ChangeOutput {
                path: path_string(&self.path(true, req.change_index)),
                address: change_address.to_string(),
                value_sat,
            }),
            dust_to_fee_sat: dust_to_fee,
            inputs,
            network: self.network,
        })
    }

    /// Signs a planned payment whose review the user approved (the PSBT must still match it,
    /// see [`BitcoinSigner::sign`]) and returns the network transaction.
    pub fn sign_send(&self, plan: &SendPlan, approved: &PsbtReview) -> Result<SignedSend> {
        let signed = self.sign(plan.psbt.clone(), approved)?;
        let Some(transaction) = signed.transaction else {
            return Err(Error::tx(CHAIN, "an input of the payment was not signed"));
        };
        let vsize = transaction.vsize() as u64;
        if vsize > plan.vsize {
            return Err(Error::tx(
                CHAIN,
                format!("signed size {vsize} vB exceeds the {} vB paid for", plan.vsize),
            ));
        }
        Ok(SignedSend {
            tx_hex: bitcoin::consensus::encode::serialize_hex(&transaction),
            txid: transaction.compute_txid(),
            transaction,
            vsize,
            fee_sat: approved.fee_sat,
        })
    }

    /// Which of this account's first [`super::GAP_LIMIT`] receive and change addresses
    /// `address` is: `Some((change, index))`, or `None` if it is none of them.
    pub fn locate(&self, address: &str) -> Result<Option<(bool, u32)>> {
        let script = parse_address(address, self.network)?.script_pubkey();
        for change in [false, true] {
            let branch =
                self.account.child(bitcoin::bip32::ChildNumber::Normal { index: u32::from(change) })?;
            for index in 0..super::GAP_LIMIT {
                let child = branch.child(bitcoin::bip32::ChildNumber::Normal { index })?;
                if super::address_of(&child, self.network)?.script_pubkey() == script {
                    return Ok(Some((change, index)));
                }
            }
        }
        Ok(None)
    }

    /// The output scripts (lowercase hex, as Esplora's `scriptpubkey`) of the first `receive`
    /// receive and `change` change addresses: what [`super::history::history`] counts as ours.
    pub fn own_scripts(&self, receive: u32, change: u32) -> Result<BTreeSet<String>> {
        let mut out = BTreeSet::new();
        for (is_change, count) in [(false, receive), (true, change)] {
            let branch =
                self.account.child(bitcoin::bip32::ChildNumber::Normal { index: u32::from(is_change) })?;
            for index in 0..count {
                let child = branch.child(
                    bitcoin::bip32::ChildNumber::from_normal_idx(index).map_err(|e| Error::tx(CHAIN, e))?,
                )?;
                out.insert(super::address_of(&child, self.network)?.script_pubkey().to_hex_string());
            }
        }
        Ok(out)
    }

    /// The coins of one of this account's addresses, from the chain API's reply to
    /// `GET /address/:address/utxo` (see [`super::esplora::parse_address_utxos`]). The address
    /// must be one of the first [`super::GAP_LIMIT`] receive or change addresses.
    pub fn coins_at(&self, address: &str, reply: &str) -> Result<Vec<WalletCoin>> {
        let Some((change, index)) = self.locate(address)? else {
            return Err(BitcoinError::ChainData(format!(
                "{address} is not one of this wallet's first {} receive or change addresses",
                super::GAP_LIMIT
            ))
            .into());
        };
        Ok(super::esplora::parse_address_utxos(reply)?
            .into_iter()
            .map(|utxo| WalletCoin { utxo, change, index })
            .collect())
    }

    /// Checks a coin against its previous transaction: present, the output exists, pays our key
    /// at `(change, index)`, and has the value the chain API reported.
    fn check_coin<'a>(&self, coin: &'a WalletCoin, prev_txs: &'a [Transaction]) -> Result<Checked<'a>> {
        let op = coin.utxo.outpoint;
        let Some(prev) = prev_txs.iter().find(|t| t.compute_txid() == op.txid) else {
            return Err(BitcoinError::ChainData(format!(
                "the previous transaction of coin {op} is missing (fetch /tx/{}/hex)",
                op.txid
            ))
            .into());
        };
        let Some(txout) = usize::try_from(op.vout).ok().and_then(|v| prev.output.get(v)) else {
            return Err(BitcoinError::ChainData(format!(
                "transaction {} has no output {}",
                op.txid, op.vout
            ))
            .into());
        };
        if txout.value.to_sat() != coin.utxo.value_sat {
            return Err(BitcoinError::ChainData(format!(
                "coin {op} is listed with {} sat but its transaction says {}",
                coin.utxo.value_sat,
                txout.value.to_sat()
            ))
            .into());
        }
        if txout.script_pubkey != self.address(coin.change, coin.index)?.script_pubkey() {
            return Err(BitcoinError::ChainData(format!(
                "coin {op} does not pay this wallet's address {}",
                path_string(&self.path(coin.change, coin.index))
            ))
            .into());
        }
        Ok(Checked { coin, prev, txout: txout.clone() })
    }
}

/// A transaction with `inputs` and zero-valued `outputs` (its weight is what a fee is paid for).
fn template(inputs: impl Iterator<Item = OutPoint>, outputs: &[&ScriptBuf]) -> Transaction {
    Transaction {
        version: Version::TWO,
        lock_time: LockTime::ZERO,
        input: inputs
            .map(|previous_output| TxIn {
                previous_output,
                script_sig: ScriptBuf::new(),
                sequence: Sequence::ENABLE_RBF_NO_LOCKTIME,
                witness: Witness::new(),
            })
            .collect(),
        output: outputs.iter().map(|s| TxOut { value: Amount::ZERO, script_pubkey: (*s).clone() }).collect(),
    }
}
