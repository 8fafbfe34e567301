//! Solana: SOL transfers (system program) and SPL token transfers (`TransferChecked`, with the
//! recipient's associated token account created idempotently when asked).

use blindvault_wallet::solana::decode::{DecodedTransaction, decode_transaction};
use blindvault_wallet::solana::{self, SignedSolanaTx, SplTransfer};
use serde::{Deserialize, Serialize};

use super::{Failure, Num, base64, from_base64, sign};

/// A SOL transfer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferRequest {
    /// Account index (`m/44'/501'/account'/0'`), default 0.
    #[serde(default)]
    pub account: u32,
    /// Recipient (base58).
    pub to: String,
    /// Amount in lamports.
    pub lamports: Num,
    /// A recent blockhash (base58, from `getLatestBlockhash`).
    pub recent_blockhash: String,
}

/// An SPL token transfer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SplTransferRequest {
    /// Account index, default 0.
    #[serde(default)]
    pub account: u32,
    /// The token's mint (base58).
    pub mint: String,
    /// The recipient's wallet address (base58), not its token account.
    pub to: String,
    /// Amount in the token's base units.
    pub amount: Num,
    /// The mint's decimals (checked on chain by `TransferChecked`).
    pub decimals: u8,
    /// Create the recipient's associated token account if it does not exist (idempotent; this
    /// wallet pays its rent). Default false.
    #[serde(default)]
    pub create_recipient_account: bool,
    /// A recent blockhash (base58).
    pub recent_blockhash: String,
}

/// A signed transaction.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SignedTx {
    /// Wire bytes, base64: what `sendTransaction` takes with `encoding: "base64"`.
    pub transaction: String,
    /// The fee payer's signature, base58: the transaction id.
    pub signature: String,
    /// The signer's address (base58).
    pub from: String,
    /// SPL only: this wallet's token account the tokens leave.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_token_account: Option<String>,
    /// SPL only: the recipient's associated token account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_token_account: Option<String>,
    /// What the signed bytes do, decoded from them (fee payer, blockhash, fee, actions).
    pub decoded: DecodedTransaction,
}

pub(crate) fn signed(tx: &SignedSolanaTx) -> Result<SignedTx, Failure> {
    let from = tx.transaction.message.account_keys.first().map(ToString::to_string).unwrap_or_default();
    Ok(SignedTx {
        transaction: base64(&tx.wire),
        signature: tx.signature.to_string(),
        from,
        source_token_account: None,
        destination_token_account: None,
        decoded: decode_transaction(&tx.wire)?,
    })
}

/// What a transaction (base64 wire bytes, signed or not) does, decoded from its bytes; fails
/// (code `transaction`) on any instruction it cannot show.
pub fn decode(transaction: &str) -> Result<DecodedTransaction, Failure> {
    Ok(decode_transaction(&from_base64("transaction", transaction)?)?)
}

/// Signs a SOL transfer.
pub fn sign_transfer(prf: &mut [u8], json: &str) -> Result<SignedTx, Failure> {
    sign(
        prf,
        json,
        |r: TransferRequest| {
            Ok((
                r.account,
                solana::parse_address(&r.to)?,
                r.lamports.u64("lamports")?,
                solana::parse_hash(&r.recent_blockhash)?,
            ))
        },
        |w, (account, to, lamports, blockhash)| {
            signed(&w.solana_signer(account)?.sign_transfer(&to, lamports, blockhash)?)
        },
    )
}

/// Signs an SPL token transfer.
pub fn sign_spl_transfer(prf: &mut [u8], json: &str) -> Result<SignedTx, Failure> {
    sign(
        prf,
        json,
        |r: SplTransferRequest| {
            let transfer = SplTransfer {
                mint: solana::parse_address(&r.mint)?,
                to: solana::parse_address(&r.to)?,
                amount: r.amount.u64("amount")?,
                decimals: r.decimals,
                create_recipient_account: r.create_recipient_account,
            };
            Ok((r.account, transfer, solana::parse_hash(&r.recent_blockhash)?))
        },
        |w, (account, transfer, blockhash)| {
            let signer = w.solana_signer(account)?;
            let mut out = signed(&signer.sign_spl_transfer(&transfer, blockhash)?)?;
            out.source_token_account =
                Some(solana::associated_token_address(&signer.address(), &transfer.mint).to_string());
            out.destination_token_account =
                Some(solana::associated_token_address(&transfer.to, &transfer.mint).to_string());
            Ok(out)
        },
    )
}
