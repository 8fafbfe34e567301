//! Bitcoin: PSBT review and signing (BIP-84 account 0, P2WPKH inputs).

use std::str::FromStr as _;

use blindvault_wallet::btc::{self, Psbt};
use serde::{Deserialize, Serialize};

use super::{Code, Failure, base64, sign};

/// A PSBT to review.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewRequest {
    /// `bitcoin` (mainnet), `testnet`, `testnet4`, `signet` or `regtest`.
    pub network: String,
    /// The PSBT (BIP-174), base64.
    pub psbt: String,
}

/// A PSBT to sign, with the review the person approved (what `bitcoinReviewPsbt` returned).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignRequest {
    /// The network, as for the review.
    pub network: String,
    /// The PSBT, base64.
    pub psbt: String,
    /// The review shown and approved.
    pub review: serde_json::Value,
}

/// A signed PSBT.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SignedPsbt {
    /// The PSBT with this wallet's inputs finalized, base64.
    pub psbt: String,
    /// The network transaction (hex) when every input is final, else null.
    pub transaction: Option<String>,
    /// Its txid.
    pub txid: String,
    /// The inputs signed here.
    pub signed_inputs: Vec<usize>,
}

fn parse(network: &str, psbt: &str) -> Result<(btc::Network, Psbt), Failure> {
    let network = btc::parse_network(network)?;
    let psbt = Psbt::from_str(psbt.trim())
        .map_err(|e| Failure::new(Code::BadEncoding, format!("not a base64 PSBT: {e}")))?;
    Ok((network, psbt))
}

/// What the PSBT does (inputs, outputs, change, fee): see `blindvault_wallet::btc::PsbtReview`.
pub fn review(prf: &mut [u8], json: &str) -> Result<serde_json::Value, Failure> {
    sign(
        prf,
        json,
        |r: ReviewRequest| parse(&r.network, &r.psbt),
        |w, (network, psbt)| {
            let review = w.bitcoin_signer(network)?.review(&psbt)?;
            serde_json::to_value(&review).map_err(|e| Failure::new(Code::Wallet, e.to_string()))
        },
    )
}

/// Signs the PSBT if it still has the review the person approved.
pub fn sign_psbt(prf: &mut [u8], json: &str) -> Result<SignedPsbt, Failure> {
    sign(
        prf,
        json,
        |r: SignRequest| Ok((parse(&r.network, &r.psbt)?, r.review)),
        |w, ((network, psbt), approved)| {
            let signer = w.bitcoin_signer(network)?;
            let review = signer.review(&psbt)?;
            // The review comes back from JavaScript as JSON: compare it in that form.
            let now = serde_json::to_value(&review).map_err(|e| Failure::new(Code::Wallet, e.to_string()))?;
            if now != approved {
                return Err(blindvault_wallet::Error::ReviewMismatch.into());
            }
            let signed = signer.sign(psbt, &review)?;
            let txid = signed.psbt.unsigned_tx.compute_txid().to_string();
            Ok(SignedPsbt {
                psbt: base64(&signed.psbt.serialize()),
                transaction: signed.transaction.as_ref().map(bitcoin::consensus::encode::serialize_hex),
                txid,
                signed_inputs: signed.signed_inputs,
            })
        },
    )
}
