//! TON: transfers from the wallet v4R2 contract.

use blindvault_wallet::ton::{TonAddresses, TonTransfer};
use serde::{Deserialize, Serialize};

use super::{Failure, Num, base64, sign};

/// A transfer from this wallet's v4R2 contract (one internal message, send mode 3).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferRequest {
    /// Account index (`m/44'/607'/account'`), default 0.
    #[serde(default)]
    pub account: u32,
    /// Recipient, any address form; a non-bounceable form (`UQ…`) sends non-bounceable.
    pub to: String,
    /// Amount in nanotons.
    pub amount_nano: Num,
    /// Text comment (at most 123 bytes), default none.
    #[serde(default)]
    pub comment: Option<String>,
    /// The wallet's current seqno (0 while it is not deployed: its StateInit is attached).
    pub seqno: Num,
    /// Unix time after which the wallet refuses the message: after `now` and at most 600 s after
    /// it (a signed message can be replayed until it expires).
    pub valid_until: Num,
    /// The page's current time (Unix seconds); the module has no clock of its own.
    pub now: Num,
}

/// A signed external message.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SignedMessage {
    /// The external message as a bag of cells, base64: what `sendBoc` takes.
    pub boc: String,
    /// The external message's cell hash (hex).
    pub hash: String,
    /// The hash of the signed body, i.e. the 32 bytes that were signed (hex).
    pub signed_hash: String,
    /// The wallet contract's address (non-bounceable, mainnet form).
    pub from: String,
}

/// Signs a transfer.
pub fn sign_transfer(prf: &mut [u8], json: &str) -> Result<SignedMessage, Failure> {
    sign(
        prf,
        json,
        |r: TransferRequest| {
            let t = TonTransfer {
                to: r.to,
                amount_nano: r.amount_nano.u64("amountNano")?,
                comment: r.comment,
                seqno: r.seqno.u32("seqno")?,
                valid_until: r.valid_until.u32("validUntil")?,
            };
            Ok((r.account, t, r.now.u32("now")?))
        },
        |w, (account, transfer, now)| {
            let signer = w.ton_signer(account)?;
            let m = signer.sign_transfer(&transfer, now)?;
            Ok(SignedMessage {
                boc: base64(&m.boc),
                hash: hex::encode(m.hash),
                signed_hash: hex::encode(m.signed_hash),
                from: TonAddresses::of(signer.address()).non_bounceable,
            })
        },
    )
}
