//! Solana sends reviewed before they are signed (the Send screen): the unsigned transaction and
//! its decoding ([`blindvault_wallet::solana::send`]), then a signature only over bytes that
//! still decode to the approved summary.

use blindvault_wallet::display::Asset;
use blindvault_wallet::solana::send::{self, SolanaSendSummary};
use blindvault_wallet::solana::{self, SplTransfer};
use serde::{Deserialize, Serialize};

use super::solana::SignedTx;
use super::{Code, Failure, Num, base64, from_base64, request, sign};

/// A send to build (no key: nothing is signed yet). The page fills it from the form, the node
/// (blockhash) and the token list (mint, decimals, symbol).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendRequest {
    /// The sender: this wallet's Solana address (the fee payer).
    pub from: String,
    /// The recipient's wallet address.
    pub to: String,
    /// Amount in base units (lamports, or the token's).
    pub amount: Num,
    /// A recent blockhash (base58, from `getLatestBlockhash`).
    pub recent_blockhash: String,
    /// SPL only: the token's mint.
    #[serde(default)]
    pub mint: Option<String>,
    /// SPL only: the mint's decimals (SOL: 9, the default).
    #[serde(default)]
    pub decimals: Option<u8>,
    /// The symbol shown (`SOL` by default).
    #[serde(default)]
    pub symbol: Option<String>,
    /// SPL only: create the recipient's token account (idempotently) first.
    #[serde(default)]
    pub create_recipient_account: bool,
}

/// A built send: the unsigned transaction and what it does, decoded from it.
#[derive(Debug, Serialize)]
pub struct BuiltSend {
    /// The unsigned transaction's wire bytes (base64; an all-zero signature slot).
    pub transaction: String,
    /// Its decoding: what the confirmation screen shows and the person approves.
    pub summary: SolanaSendSummary,
}

/// Builds the unsigned transaction of a SOL or SPL send and decodes it back. Takes no key.
pub fn build_send(json: &str) -> Result<BuiltSend, Failure> {
    let r: SendRequest = request("the send", json)?;
    let symbol = r.symbol.unwrap_or_else(|| "SOL".to_owned());
    if symbol.is_empty() || symbol.len() > 16 {
        return Err(Failure::new(Code::BadRequest, "the symbol must be 1 to 16 characters"));
    }
    let from = solana::parse_address(&r.from)?;
    let to = solana::parse_address(&r.to)?;
    let blockhash = solana::parse_hash(&r.recent_blockhash)?;
    let amount = r.amount.u64("amount")?;
    let (wire, asset) = match r.mint {
        None => {
            if r.decimals.is_some_and(|d| d != 9) || r.create_recipient_account {
                return Err(Failure::new(Code::BadRequest, "a SOL send takes no decimals or token account"));
            }
            (send::build_transfer(&from, &to, amount, blockhash)?, Asset::new(symbol, 9))
        }
        Some(mint) => {
            let decimals = r
                .decimals
                .ok_or_else(|| Failure::new(Code::BadRequest, "a token send needs the mint's decimals"))?;
            let transfer = SplTransfer {
                mint: solana::parse_address(&mint)?,
                to,
                amount,
                decimals,
                create_recipient_account: r.create_recipient_account,
            };
            (send::build_spl_transfer(&from, &transfer, blockhash)?, Asset::new(symbol, decimals))
        }
    };
    let summary = send::summarize(&wire, &asset, &to.to_string())?;
    Ok(BuiltSend { transaction: base64(&wire), summary })
}

/// Signs a transaction the person approved: `summary` is the one the confirmation screen showed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewedRequest {
    /// Account index (`m/44'/501'/account'/0'`), default 0.
    #[serde(default)]
    pub account: u32,
    /// The unsigned transaction (base64), as [`build_send`] gave it.
    pub transaction: String,
    /// The approved summary.
    pub summary: SolanaSendSummary,
}

/// Signs the transaction only if it still decodes to exactly the approved summary, with this
/// account as its fee payer (else `review_mismatch`).
pub fn sign_reviewed(prf: &mut [u8], json: &str) -> Result<SignedTx, Failure> {
    sign(
        prf,
        json,
        |r: ReviewedRequest| Ok((r.account, from_base64("transaction", &r.transaction)?, r.summary)),
        |w, (account, wire, summary)| {
            let signer = w.solana_signer(account)?;
            let tx = signer.sign_reviewed(&wire, &summary)?;
            let mut out = super::solana::signed(&tx)?;
            out.source_token_account = summary.source_token_account;
            out.destination_token_account = summary.destination_token_account;
            Ok(out)
        },
    )
}

/// `{owner, mint}` → the owner's associated token account for the mint (public; base58).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenAccountRequest {
    /// The wallet that owns the token account.
    pub owner: String,
    /// The token's mint.
    pub mint: String,
}

/// The associated token account of `owner` for `mint` (where a wallet's tokens of that mint are,
/// and where a send to it arrives).
pub fn token_account(json: &str) -> Result<String, Failure> {
    let r: TokenAccountRequest = request("the token account", json)?;
    Ok(solana::associated_token_address(&solana::parse_address(&r.owner)?, &solana::parse_address(&r.mint)?)
        .to_string())
}
