//! TON sends reviewed before they are signed (the Send screen): the unsigned v4R2 body and its
//! decoding ([`blindvault_wallet::ton::decode_unsigned_body`]), then a signature only over a body
//! that still decodes to the approved summary, with `valid_until` at most 10 minutes after the
//! page's clock ([`blindvault_wallet::ton::TonSigner::sign_reviewed`]).

use blindvault_wallet::ton::{self, TonAddresses, TonTransfer, TonTransferSummary};
use serde::{Deserialize, Serialize};

use super::ton::SignedMessage;
use super::{Failure, Num, base64, from_base64, request, sign};

/// A transfer to build (no key). The page fills it from the form, the node (seqno) and its clock.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendRequest {
    /// The sender: this wallet's address (any form).
    pub from: String,
    /// Recipient, any address form; a non-bounceable form (`UQ…`) sends non-bounceable.
    pub to: String,
    /// Amount in nanotons.
    pub amount_nano: Num,
    /// Text comment (at most 123 bytes).
    #[serde(default)]
    pub comment: Option<String>,
    /// The wallet's current seqno (from the node; 0 while it is not deployed).
    pub seqno: Num,
    /// Unix time after which the wallet refuses the message: after `now`, at most 600 s after.
    pub valid_until: Num,
    /// The page's clock (Unix seconds).
    pub now: Num,
}

/// A built transfer: the unsigned body, the body for the fee estimate, and the decoding.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuiltSend {
    /// The unsigned v4R2 body (BOC, base64): what will be signed (its cell hash).
    pub body: String,
    /// The same body behind an all-zero signature (BOC, base64), for `estimateFee` with
    /// `ignore_chksig` only: no wallet accepts it.
    pub fee_body: String,
    /// The body decoded: what the confirmation screen shows and the person approves.
    pub summary: TonTransferSummary,
}

/// Builds the unsigned body of a transfer and decodes it. Takes no key.
pub fn build_send(json: &str) -> Result<BuiltSend, Failure> {
    let r: SendRequest = request("the send", json)?;
    let (from, _) = ton::parse_address(&r.from)?;
    let transfer = TonTransfer {
        to: r.to,
        amount_nano: r.amount_nano.u64("amountNano")?,
        comment: r.comment,
        seqno: r.seqno.u32("seqno")?,
        valid_until: r.valid_until.u32("validUntil")?,
    };
    let boc = transfer.unsigned_body_boc(r.now.u32("now")?)?;
    let summary = ton::decode_unsigned_body(&boc, &from)?;
    Ok(BuiltSend { body: base64(&boc), fee_body: base64(&ton::fee_estimate_body(&boc)?), summary })
}

/// Signs a body the person approved.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewedRequest {
    /// Account index (`m/44'/607'/account'`), default 0.
    #[serde(default)]
    pub account: u32,
    /// The unsigned body (BOC, base64), as [`build_send`] gave it.
    pub body: String,
    /// The approved summary (its page-filled fee fields are not compared).
    pub summary: TonTransferSummary,
    /// The page's clock now (Unix seconds): `valid_until` must still be after it and at most
    /// 600 s ahead.
    pub now: Num,
}

/// Signs the body only if it still decodes to the approved summary from this account's wallet
/// (else `review_mismatch`), and its `valid_until` is in (now, now + 600] (else `transaction`).
pub fn sign_reviewed(prf: &mut [u8], json: &str) -> Result<SignedMessage, Failure> {
    sign(
        prf,
        json,
        |r: ReviewedRequest| Ok((r.account, from_base64("body", &r.body)?, r.summary, r.now.u32("now")?)),
        |w, (account, body, summary, now)| {
            let signer = w.ton_signer(account)?;
            let m = signer.sign_reviewed(&body, &summary, now)?;
            Ok(SignedMessage {
                boc: base64(&m.boc),
                hash: hex::encode(m.hash),
                signed_hash: hex::encode(m.signed_hash),
                from: TonAddresses::of(signer.address()).non_bounceable,
            })
        },
    )
}
