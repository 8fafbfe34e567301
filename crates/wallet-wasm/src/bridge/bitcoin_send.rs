//! Bitcoin sends from the BIP-84 account (the Send screen): the account's addresses for the page
//! to ask the chain API about, then a payment planned by the wallet crate over the coins the
//! page fetched (coin selection, change to the wallet's own change address, fee = vsize × rate)
//! and reviewed from the PSBT's own bytes. Signing is `bitcoinSignPsbt` with that review
//! ([`super::bitcoin::sign_psbt`]): only a PSBT that still gives exactly the approved review.

use blindvault_wallet::btc::esplora::{parse_address_utxos, parse_tx_hex};
use blindvault_wallet::btc::{self, SendAmount, SendConfirmation, SendRequest, WalletCoin};
use serde::{Deserialize, Serialize};

use super::{Code, Failure, Num, base64, sign};

/// Which addresses of the account (no more than the wallet's gap limit of each).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddressesRequest {
    /// `bitcoin` (mainnet), `testnet`, `testnet4`, `signet` or `regtest`.
    pub network: String,
    /// How many receive addresses (`m/84'/c'/0'/0/i`), 1 to 20.
    pub receive: u32,
    /// How many change addresses (`m/84'/c'/0'/1/i`), 1 to 20.
    pub change: u32,
}

/// The account's first addresses (public).
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct AccountAddresses {
    /// Receive addresses, index 0 first.
    pub receive: Vec<String>,
    /// Change addresses, index 0 first.
    pub change: Vec<String>,
}

/// The first `receive` and `change` addresses of the BIP-84 account 0.
pub fn account_addresses(prf: &mut [u8], json: &str) -> Result<AccountAddresses, Failure> {
    sign(
        prf,
        json,
        |r: AddressesRequest| {
            let max = btc::GAP_LIMIT;
            if !(1..=max).contains(&r.receive) || !(1..=max).contains(&r.change) {
                return Err(Failure::new(Code::BadRequest, format!("receive and change are 1 to {max}")));
            }
            Ok((btc::parse_network(&r.network)?, r.receive, r.change))
        },
        |w, (network, receive, change)| {
            let signer = w.bitcoin_signer(network)?;
            let list = |is_change: bool, n: u32| -> Result<Vec<String>, Failure> {
                (0..n).map(|i| Ok(signer.address(is_change, i)?.to_string())).collect()
            };
            Ok(AccountAddresses { receive: list(false, receive)?, change: list(true, change)? })
        },
    )
}

/// The coins of one of the account's addresses: the chain API's reply to
/// `GET /address/:address/utxo` (its JSON text, or the array itself).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoinsAt {
    /// One of the account's first 20 receive or change addresses.
    pub address: String,
    /// Esplora's reply.
    pub utxos: serde_json::Value,
}

/// A payment to plan.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlanRequest {
    /// The network.
    pub network: String,
    /// The recipient's address.
    pub recipient: String,
    /// Satoshis to send; absent with `all`.
    #[serde(default)]
    pub amount_sat: Option<Num>,
    /// Send every coin given, less the fee (no change).
    #[serde(default)]
    pub all: bool,
    /// Fee rate, whole sat/vB (1 to 1000).
    pub fee_rate: Num,
    /// The index of the next unused change address.
    pub change_index: Num,
    /// The coins of each address the page asked about.
    pub coins: Vec<CoinsAt>,
    /// The previous transaction of each coin (`GET /tx/:txid/hex`), hex.
    pub prev_txs: Vec<String>,
}

/// A planned payment: the PSBT to sign, its review (what `bitcoinSignPsbt` takes back as
/// approved) and the confirmation screen's facts, read from that review.
#[derive(Debug, Serialize)]
pub struct Planned {
    /// The unsigned PSBT, base64.
    pub psbt: String,
    /// `BitcoinSigner::review` of the PSBT (as `bitcoinReviewPsbt` gives it).
    pub review: serde_json::Value,
    /// What the confirmation screen shows (`SendPlan::confirmation`).
    pub confirmation: SendConfirmation,
}

/// Plans a payment over the coins given: checks each selected coin against its previous
/// transaction, selects (largest first, confirmed first), makes change to the account's change
/// address `changeIndex`, builds and reviews the PSBT (`BitcoinSigner::plan_send`).
pub fn plan(prf: &mut [u8], json: &str) -> Result<Planned, Failure> {
    sign(
        prf,
        json,
        |r: PlanRequest| {
            let network = btc::parse_network(&r.network)?;
            let amount = match (r.amount_sat, r.all) {
                (Some(n), false) => SendAmount::Exact(n.u64("amountSat")?),
                (None, true) => SendAmount::All,
                _ => return Err(Failure::new(Code::BadRequest, "give exactly one of amountSat and all")),
            };
            let req = SendRequest {
                recipient: r.recipient,
                amount,
                fee_rate_sat_vb: r.fee_rate.u64("feeRate")?,
                change_index: r.change_index.u32("changeIndex")?,
            };
            let prevs = r.prev_txs.iter().map(|h| parse_tx_hex(h)).collect::<Result<Vec<_>, _>>()?;
            let coins = r
                .coins
                .into_iter()
                .map(|c| {
                    let text = match c.utxos {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    parse_address_utxos(&text)?;
                    Ok((c.address, text))
                })
                .collect::<Result<Vec<_>, Failure>>()?;
            Ok((network, req, coins, prevs))
        },
        |w, (network, req, coins, prevs)| {
            let signer = w.bitcoin_signer(network)?;
            let mut all: Vec<WalletCoin> = Vec::new();
            for (address, text) in &coins {
                all.extend(signer.coins_at(address, text)?);
            }
            let plan = signer.plan_send(&all, &prevs, &req)?;
            Ok(Planned {
                psbt: base64(&plan.psbt.serialize()),
                review: serde_json::to_value(&plan.review)
                    .map_err(|e| Failure::new(Code::Wallet, e.to_string()))?,
                confirmation: plan.confirmation(),
            })
        },
    )
}
