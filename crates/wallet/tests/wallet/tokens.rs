//! SPL and TRC-20 token reads (`blindvault_wallet::tokens`): the mint's decimals and the owner's
//! balance from a Solana node's base64 accounts (laid out here by the SPL Token program's own
//! `Pack`), and TRC-20 calls for `triggerconstantcontract`.

use blindvault_wallet::tokens::{spl_balance, spl_mint_decimals, trc20_call};
use solana_program_pack::Pack as _;
use spl_token_interface::state::{Account, AccountState, Mint};

const TOKEN: &str = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
const TOKEN_2022: &str = "TokenzQdBNbLqP5VEhdkAS6EPFLC1PE9qW3mqtUUWzk";
const OWNER: &str = "HAgk14JpMQLgt6rVgv7cBQFJWFto5Dqxi472uT3DKpqk";
const MINT: &str = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v";
const OTHER: &str = "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T";

fn b64(bytes: &[u8]) -> String {
    use bitcoin::base64::Engine as _;
    bitcoin::base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn key(s: &str) -> solana_pubkey_v3::Pubkey {
    s.parse().unwrap()
}

fn mint_data(decimals: u8) -> Vec<u8> {
    let mut d = vec![0u8; Mint::LEN];
    Mint {
        mint_authority: None.into(),
        supply: 1_000_000,
        decimals,
        is_initialized: true,
        freeze_authority: None.into(),
    }
    .pack_into_slice(&mut d);
    d
}

fn account_data(owner: &str, mint: &str, amount: u64) -> Vec<u8> {
    let mut d = vec![0u8; Account::LEN];
    Account {
        mint: key(mint),
        owner: key(owner),
        amount,
        delegate: None.into(),
        state: AccountState::Initialized,
        is_native: None.into(),
        delegated_amount: 0,
        close_authority: None.into(),
    }
    .pack_into_slice(&mut d);
    d
}

fn account_json(data: &[u8], program: &str) -> String {
    format!(
        r#"{{"data":["{}","base64"],"executable":false,"lamports":1461600,"owner":"{program}","rentEpoch":0,"space":{}}}"#,
        b64(data),
        data.len()
    )
}

fn info(data: &[u8], program: &str) -> String {
    format!(r#"{{"context":{{"slot":5}},"value":{}}}"#, account_json(data, program))
}

#[test]
fn spl_decimals_come_from_the_mint_account() {
    assert_eq!(spl_mint_decimals(&info(&mint_data(6), TOKEN)).unwrap(), 6);
    assert!(
        spl_mint_decimals(r#"{"context":{"slot":5},"value":null}"#)
            .unwrap_err()
            .to_string()
            .contains("no mint")
    );
    assert!(
        spl_mint_decimals(&info(&mint_data(6), TOKEN_2022)).unwrap_err().to_string().contains("Token-2022")
    );
    assert!(
        spl_mint_decimals(&info(&account_data(OWNER, MINT, 1), TOKEN)).is_err(),
        "a token account is not a mint"
    );
    assert!(spl_mint_decimals(&info(&mint_data(6), TOKEN).replace("base64\"", "jsonParsed\"")).is_err());
}

#[test]
fn spl_balance_sums_the_owners_accounts_of_that_mint_only() {
    let list = |accounts: &[Vec<u8>]| {
        let items: Vec<String> = accounts
            .iter()
            .enumerate()
            .map(|(i, d)| {
                format!(r#"{{"pubkey":"{}","account":{}}}"#, [OTHER, MINT][i % 2], account_json(d, TOKEN))
            })
            .collect();
        format!(r#"{{"context":{{"slot":5}},"value":[{}]}}"#, items.join(","))
    };
    let two = list(&[account_data(OWNER, MINT, 2_500_000), account_data(OWNER, MINT, 1)]);
    assert_eq!(spl_balance(OWNER, MINT, &two).unwrap().to_string(), "2500001");
    assert_eq!(spl_balance(OWNER, MINT, &list(&[])).unwrap().to_string(), "0");
    assert!(
        spl_balance(OWNER, MINT, &list(&[account_data(OTHER, MINT, 5)])).is_err(),
        "another owner's account"
    );
    assert!(
        spl_balance(OWNER, MINT, &list(&[account_data(OWNER, OTHER, 5)])).is_err(),
        "another mint's account"
    );
    assert!(spl_balance("not base58!", MINT, &two).is_err());
}

#[test]
fn trc20_calls_are_erc20_abi_with_the_tron_address_as_a_word() {
    assert_eq!(trc20_call("symbol", None).unwrap(), ("symbol()", String::new()));
    assert_eq!(trc20_call("decimals", None).unwrap(), ("decimals()", String::new()));
    let (sel, param) = trc20_call("balanceOf", Some("TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH")).unwrap();
    assert_eq!(sel, "balanceOf(address)");
    let evm = blindvault_wallet::tron::decode_address("TUEZSdKsoDHQMeZwihtdoBiN46zxhGWYdH").unwrap();
    assert_eq!(param, format!("{}{}", "00".repeat(12), hex::encode(&evm[1..])));
    assert!(trc20_call("balanceOf", None).is_err());
    assert!(trc20_call("transfer", None).is_err());
    assert!(trc20_call("balanceOf", Some("0x9858EfFD232B4033E47d90003D41EC34EcaEda94")).is_err());
}
