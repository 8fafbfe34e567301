//! Token balances of the other chains for the wallet page (no I/O: the page fetches through the
//! server's gateway and hands the replies in), as ERC-20's are read in [`crate::evm::erc20`]:
//!
//! - **SPL** (Solana): the mint's decimals from the mint account (`getAccountInfo [mint,
//!   {"encoding": "base64"}]`), the balance from the owner's token accounts for the mint
//!   (`getTokenAccountsByOwner [owner, {"mint"}, {"encoding": "base64"}]`), both read with the
//!   SPL Token program's own `Mint` and `Account` layouts (`spl-token-interface`).
//! - **TRC-20** (TRON): `symbol()`, `decimals()`, `balanceOf(owner)` run by the node's
//!   `/wallet/triggerconstantcontract` (the same ABI as ERC-20: [`trc20_call`] gives the
//!   `function_selector` and `parameter`, [`crate::evm::erc20`] decodes the `constant_result`).

use alloy_primitives::U256;
use bitcoin::base64::Engine as _;
use serde::Deserialize;
use solana_program_pack::Pack as _;
use spl_token_interface::state::{Account, Mint};

use crate::error::{Error, Result};
use crate::solana::{parse_address, token_program_id};

const SOLANA: &str = "solana";

#[derive(Deserialize)]
struct AccountData {
    data: (String, String),
    owner: String,
}

#[derive(Deserialize)]
struct InfoReply {
    value: Option<AccountData>,
}

#[derive(Deserialize)]
struct Keyed {
    pubkey: String,
    account: AccountData,
}

#[derive(Deserialize)]
struct ListReply {
    value: Vec<Keyed>,
}

fn bytes(what: &str, a: &AccountData) -> Result<Vec<u8>> {
    if a.data.1 != "base64" {
        return Err(Error::tx(SOLANA, format!("{what}: ask for the base64 encoding, not {:?}", a.data.1)));
    }
    if a.owner != token_program_id().to_string() {
        return Err(Error::tx(
            SOLANA,
            format!(
                "{what} is not owned by the SPL Token program (owner {}); Token-2022 mints are not supported",
                a.owner
            ),
        ));
    }
    bitcoin::base64::engine::general_purpose::STANDARD
        .decode(a.data.0.trim())
        .map_err(|_| Error::tx(SOLANA, format!("{what}: the data is not base64")))
}

/// The decimals of an SPL mint, from the `result` of `getAccountInfo [mint, {"encoding":
/// "base64"}]` (JSON text). No account: "no mint at this address"; an account of another
/// program or another layout: an error.
pub fn spl_mint_decimals(result: &str) -> Result<u8> {
    let r: InfoReply = serde_json::from_str(result)
        .map_err(|e| Error::tx(SOLANA, format!("getAccountInfo result is not the expected JSON: {e}")))?;
    let a = r.value.ok_or_else(|| Error::tx(SOLANA, "there is no mint at this address on this network"))?;
    let data = bytes("the mint account", &a)?;
    let mint =
        Mint::unpack(&data).map_err(|e| Error::tx(SOLANA, format!("the account is not an SPL mint: {e}")))?;
    Ok(mint.decimals)
}

/// The balance of `owner` in `mint` (base units): the sum over the token accounts in the
/// `result` of `getTokenAccountsByOwner [owner, {"mint"}, {"encoding": "base64"}]` (JSON text).
/// Each account must be an SPL Token account of that owner and mint (a node that answers with
/// another one is refused, not summed).
pub fn spl_balance(owner: &str, mint: &str, result: &str) -> Result<U256> {
    let (owner_key, mint_key) = (parse_address(owner)?, parse_address(mint)?);
    let r: ListReply = serde_json::from_str(result).map_err(|e| {
        Error::tx(SOLANA, format!("getTokenAccountsByOwner result is not the expected JSON: {e}"))
    })?;
    let mut total = U256::ZERO;
    for k in r.value {
        let data = bytes(&format!("token account {}", k.pubkey), &k.account)?;
        let acc = Account::unpack(&data)
            .map_err(|e| Error::tx(SOLANA, format!("{} is not an SPL token account: {e}", k.pubkey)))?;
        if acc.owner.to_bytes() != owner_key.to_bytes() || acc.mint.to_bytes() != mint_key.to_bytes() {
            return Err(Error::tx(
                SOLANA,
                format!("token account {} is not {owner}'s for mint {mint}", k.pubkey),
            ));
        }
        total = total.saturating_add(U256::from(acc.amount));
    }
    Ok(total)
}

/// A TRC-20 read for `/wallet/triggerconstantcontract`: `(function_selector, parameter hex)`.
/// `call` is `symbol`, `decimals` or `balanceOf` (then `owner`, a `T…` address, is the argument:
/// its 20 bytes as one ABI word).
pub fn trc20_call(call: &str, owner: Option<&str>) -> Result<(&'static str, String)> {
    match (call, owner) {
        ("symbol", None) => Ok(("symbol()", String::new())),
        ("decimals", None) => Ok(("decimals()", String::new())),
        ("balanceOf", Some(o)) => {
            let a = crate::tron::decode_address(o)?;
            let mut word = [0u8; 32];
            for (w, b) in word.iter_mut().skip(12).zip(a.iter().skip(1)) {
                *w = *b;
            }
            Ok(("balanceOf(address)", hex::encode(word)))
        }
        _ => Err(Error::tx("tron", "the call must be symbol, decimals, or balanceOf with an owner")),
    }
}
