//! What a Solana transaction does, decoded from its wire bytes, for the confirmation screen:
//! fee payer, blockhash, and each instruction as an action a person can read. Only the
//! instructions this wallet builds are understood — a System transfer, the ATA program's
//! `Create`/`CreateIdempotent`, the SPL Token program's `TransferChecked` (and `Transfer`) —
//! and any other instruction makes decoding fail: a screen must never show part of what is
//! signed.
//!
//! Instruction data is decoded by the programs' own interface crates (`SystemInstruction` via
//! `solana-system-interface`'s wincode schema, `TokenInstruction::unpack` of
//! `spl-token-interface`); the ATA program's one-byte discriminant (0 `Create`, 1
//! `CreateIdempotent`; empty data is `Create` too) is matched here, as its interface crate reads
//! it only with borsh.

use solana_message::compiled_instruction::CompiledInstruction;
use solana_transaction::Transaction;

use super::{Address, associated_token_program_id, token_program_id};
use crate::error::{Error, Result};

const CHAIN: &str = "solana";

/// One instruction of a transaction, as the person should see it. Addresses are base58.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// System program `Transfer`: `lamports` from `from` to `to`.
    SolTransfer {
        /// The paying account.
        from: String,
        /// The recipient.
        to: String,
        /// Amount in lamports.
        lamports: u64,
    },
    /// ATA program: create `owner`'s token account for `mint` at `account`, rent paid by
    /// `funder` (`idempotent`: no-op when it exists; else the transaction fails if it does).
    CreateTokenAccount {
        /// Pays the rent.
        funder: String,
        /// The associated token account created.
        account: String,
        /// Its owner (the recipient's wallet).
        owner: String,
        /// The token.
        mint: String,
        /// `CreateIdempotent` rather than `Create`.
        idempotent: bool,
    },
    /// SPL Token `TransferChecked` (`decimals: Some`) or `Transfer` (`None`, no mint named).
    TokenTransfer {
        /// The token account debited.
        source: String,
        /// The token (for `TransferChecked`).
        mint: Option<String>,
        /// The token account credited.
        destination: String,
        /// The source's owner, who signs.
        authority: String,
        /// Amount in the token's base units.
        amount: u64,
        /// The mint's decimals, checked on chain (`TransferChecked` only).
        decimals: Option<u8>,
    },
}

/// A decoded transaction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DecodedTransaction {
    /// Pays the fee (the first account).
    pub fee_payer: String,
    /// The blockhash it is valid with (about 150 slots, a minute or two, after that block).
    pub recent_blockhash: String,
    /// How many signatures it needs (this wallet's transactions: 1).
    pub signatures_required: u8,
    /// Base fee in lamports: 5000 per signature (no priority fee instruction is understood).
    pub fee_lamports: u64,
    /// Each instruction, in order.
    pub actions: Vec<Action>,
}

/// Decodes a legacy transaction in wire form (signed or not: signatures are not checked here).
pub fn decode_transaction(wire: &[u8]) -> Result<DecodedTransaction> {
    let tx: Transaction = wincode::deserialize_exact(wire)
        .map_err(|e| Error::tx(CHAIN, format!("not exactly one legacy transaction: {e}")))?;
    let keys = &tx.message.account_keys;
    let fee_payer = keys.first().ok_or_else(|| Error::tx(CHAIN, "a transaction without accounts"))?;
    let actions = tx.message.instructions.iter().map(|ix| action(keys, ix)).collect::<Result<Vec<_>>>()?;
    let signatures_required = tx.message.header.num_required_signatures;
    Ok(DecodedTransaction {
        fee_payer: fee_payer.to_string(),
        recent_blockhash: tx.message.recent_blockhash.to_string(),
        signatures_required,
        fee_lamports: 5000 * u64::from(signatures_required),
        actions,
    })
}

fn action(keys: &[Address], ix: &CompiledInstruction) -> Result<Action> {
    let key = |i: u8| -> Result<String> {
        keys.get(usize::from(i))
            .map(ToString::to_string)
            .ok_or_else(|| Error::tx(CHAIN, "an instruction names an account the message does not list"))
    };
    let account = |n: usize| -> Result<String> {
        let i = *ix.accounts.get(n).ok_or_else(|| Error::tx(CHAIN, "an instruction lacks an account"))?;
        key(i)
    };
    let program = keys
        .get(usize::from(ix.program_id_index))
        .ok_or_else(|| Error::tx(CHAIN, "an instruction names a program the message does not list"))?;
    let unknown = || Error::tx(CHAIN, format!("an instruction of program {program} this wallet cannot show"));
    if *program == Address::default() {
        use solana_system_interface::instruction::SystemInstruction;
        let parsed: SystemInstruction = wincode::deserialize_exact(&ix.data).map_err(|_| unknown())?;
        return match parsed {
            SystemInstruction::Transfer { lamports } => {
                Ok(Action::SolTransfer { from: account(0)?, to: account(1)?, lamports })
            }
            _ => Err(unknown()),
        };
    }
    if *program == associated_token_program_id() {
        let idempotent = match ix.data.as_slice() {
            [] | [0] => false,
            [1] => true,
            _ => return Err(unknown()),
        };
        return Ok(Action::CreateTokenAccount {
            funder: account(0)?,
            account: account(1)?,
            owner: account(2)?,
            mint: account(3)?,
            idempotent,
        });
    }
    if *program == token_program_id() {
        use spl_token_interface::instruction::TokenInstruction;
        return match TokenInstruction::unpack(&ix.data).map_err(|_| unknown())? {
            TokenInstruction::TransferChecked { amount, decimals } => Ok(Action::TokenTransfer {
                source: account(0)?,
                mint: Some(account(1)?),
                destination: account(2)?,
                authority: account(3)?,
                amount,
                decimals: Some(decimals),
            }),
            #[allow(deprecated)]
            TokenInstruction::Transfer { amount } => Ok(Action::TokenTransfer {
                source: account(0)?,
                mint: None,
                destination: account(1)?,
                authority: account(2)?,
                amount,
                decimals: None,
            }),
            _ => Err(unknown()),
        };
    }
    Err(unknown())
}
