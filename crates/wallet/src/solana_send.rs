//! A send a person reviews before it is signed (the web wallet's Send screen):
//!
//! 1. [`build_transfer`] / [`build_spl_transfer`] build the exact transaction to sign, unsigned
//!    (wire bytes with an all-zero signature slot), from public data only: the sender's address,
//!    the recipient, the amount and a recent blockhash the page fetched from the node;
//! 2. [`summarize`] decodes those bytes ([`super::decode::decode_transaction`]) into the
//!    [`SolanaSendSummary`] the confirmation screen shows — never the form's values;
//! 3. [`SolanaSigner::sign_reviewed`] decodes the bytes again and signs only if they still give
//!    exactly the summary the person approved, from this key.
//!
//! Only the two shapes this wallet builds summarize: one System `Transfer` from the fee payer, or
//! an SPL `TransferChecked` by the fee payer from its own associated token account to the
//! recipient's (optionally preceded by the ATA program's creation of that account, funded by the
//! fee payer). Anything else is refused: a summary never shows part of what is signed.

use alloy_primitives::U256;
use solana_signature::Signature;
use solana_transaction::Transaction;

use super::decode::{Action, decode_transaction};
use super::{
    Address, CHAIN, Hash, SignedSolanaTx, SolanaSigner, SplTransfer, associated_token_address, message_of,
    parse_address, spl_instructions, transfer_instructions,
};
use crate::display::{Amount, Asset};
use crate::error::{Error, Result};

/// What a send does, decoded from its bytes: what the confirmation screen shows and the person
/// approves. Addresses are base58.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SolanaSendSummary {
    /// The fee payer and only signer: this wallet.
    pub from: String,
    /// The recipient's wallet (for SPL: the owner of the destination token account, checked to
    /// be that account's associated token address).
    pub to: String,
    /// The amount: lamports as SOL (9 decimals), or the token's base units with the mint's
    /// decimals (which `TransferChecked` carries and the chain checks) and the page's symbol.
    pub amount: Amount,
    /// SPL only: the token's mint.
    pub mint: Option<String>,
    /// SPL only: this wallet's token account the tokens leave.
    pub source_token_account: Option<String>,
    /// SPL only: the recipient's associated token account the tokens arrive in.
    pub destination_token_account: Option<String>,
    /// SPL only: the transaction first creates the recipient's token account (idempotently),
    /// its rent paid by this wallet.
    pub creates_recipient_account: bool,
    /// The base fee: 5000 lamports per signature (no priority fee is set).
    pub fee: Amount,
    /// The blockhash the transaction is valid with (about 150 blocks after it; then it expires
    /// and can never execute).
    pub recent_blockhash: String,
}

/// SOL's 9 decimals.
pub fn sol() -> Asset {
    Asset::new("SOL", 9)
}

fn unsigned(message: solana_message::Message) -> Result<Vec<u8>> {
    let tx = Transaction { signatures: vec![Signature::default()], message };
    wincode::serialize(&tx).map_err(|e| Error::tx(CHAIN, e))
}

/// The unsigned transaction of a SOL transfer of `lamports` from `from` to `to`.
pub fn build_transfer(
    from: &Address,
    to: &Address,
    lamports: u64,
    recent_blockhash: Hash,
) -> Result<Vec<u8>> {
    unsigned(message_of(&transfer_instructions(from, to, lamports)?, from, recent_blockhash)?)
}

/// The unsigned transaction of an SPL transfer from `from`'s associated token account.
pub fn build_spl_transfer(from: &Address, transfer: &SplTransfer, recent_blockhash: Hash) -> Result<Vec<u8>> {
    unsigned(message_of(&spl_instructions(from, transfer)?, from, recent_blockhash)?)
}

fn not_a_send(why: &str) -> Error {
    Error::tx(CHAIN, format!("not a send this wallet shows: {why}"))
}

/// Decodes a transaction (wire bytes, signed or not) into the summary of a send of `asset` to the
/// wallet `to`. `asset`'s symbol is the page's; for SOL its decimals must be 9, for a token they
/// must equal the `TransferChecked` decimals in the bytes.
pub fn summarize(wire: &[u8], asset: &Asset, to: &str) -> Result<SolanaSendSummary> {
    let d = decode_transaction(wire)?;
    if d.signatures_required != 1 {
        return Err(not_a_send("it needs more than one signature"));
    }
    let to_addr = parse_address(to)?;
    let me = &d.fee_payer;
    let fee = Amount::new(U256::from(d.fee_lamports), &sol());
    let base = |amount: u64, asset: &Asset| SolanaSendSummary {
        from: me.clone(),
        to: to_addr.to_string(),
        amount: Amount::new(U256::from(amount), asset),
        mint: None,
        source_token_account: None,
        destination_token_account: None,
        creates_recipient_account: false,
        fee: fee.clone(),
        recent_blockhash: d.recent_blockhash.clone(),
    };
    match d.actions.as_slice() {
        [Action::SolTransfer { from, to: dest, lamports }] => {
            if from != me {
                return Err(not_a_send("the lamports leave another account than the fee payer"));
            }
            if *dest != to_addr.to_string() {
                return Err(not_a_send("the lamports go to another account"));
            }
            if asset.decimals != 9 {
                return Err(not_a_send("SOL has 9 decimals"));
            }
            Ok(base(*lamports, asset))
        }
        [
            rest @ ..,
            Action::TokenTransfer {
                source,
                mint: Some(mint),
                destination,
                authority,
                amount,
                decimals: Some(dec),
            },
        ] if rest.len() <= 1 => {
            let mint_addr = parse_address(mint)?;
            let payer = parse_address(me)?;
            if authority != me || *source != associated_token_address(&payer, &mint_addr).to_string() {
                return Err(not_a_send(
                    "the tokens leave another account than this wallet's own token account",
                ));
            }
            if *destination != associated_token_address(&to_addr, &mint_addr).to_string() {
                return Err(not_a_send(
                    "the tokens go to another account than the recipient's token account",
                ));
            }
            if *dec != asset.decimals {
                return Err(not_a_send("the decimals differ from the token's"));
            }
            let creates = match rest {
                [] => false,
                [Action::CreateTokenAccount { funder, account, owner, mint: m, .. }]
                    if funder == me
                        && account == destination
                        && *owner == to_addr.to_string()
                        && m == mint =>
                {
                    true
                }
                _ => return Err(not_a_send("an instruction before the transfer this wallet does not build")),
            };
            Ok(SolanaSendSummary {
                mint: Some(mint.clone()),
                source_token_account: Some(source.clone()),
                destination_token_account: Some(destination.clone()),
                creates_recipient_account: creates,
                ..base(*amount, asset)
            })
        }
        _ => Err(not_a_send("it is not one transfer")),
    }
}

impl SolanaSigner {
    /// Signs `wire` (an unsigned transaction from [`build_transfer`] or [`build_spl_transfer`])
    /// **only if** it decodes to exactly `approved` and this key is its fee payer, else
    /// [`Error::ReviewMismatch`].
    pub fn sign_reviewed(&self, wire: &[u8], approved: &SolanaSendSummary) -> Result<SignedSolanaTx> {
        let asset = Asset::new(approved.amount.symbol.clone(), approved.amount.decimals);
        let decoded = summarize(wire, &asset, &approved.to)?;
        if decoded != *approved || decoded.from != self.address().to_string() {
            return Err(Error::ReviewMismatch);
        }
        let tx: Transaction = wincode::deserialize_exact(wire)
            .map_err(|e| Error::tx(CHAIN, format!("not exactly one legacy transaction: {e}")))?;
        let message = tx.message.serialize();
        if !wire.ends_with(&message) {
            return Err(Error::tx(CHAIN, "the message does not read back to its own bytes"));
        }
        let signature = self.sign_bytes(&message);
        let transaction = Transaction { signatures: vec![signature], message: tx.message };
        let wire = wincode::serialize(&transaction).map_err(|e| Error::tx(CHAIN, e))?;
        Ok(SignedSolanaTx { transaction, wire, signature })
    }
}
