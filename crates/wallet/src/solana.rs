//! Solana: base58 addresses, system (SOL) transfers, SPL token transfers, signing of serialized
//! messages, off-chain messages. Built with the Solana SDK component crates (`solana-message`,
//! `solana-transaction`, `solana-system-interface`, `solana-offchain-message`, wire format by
//! `wincode`) and the SPL programs' interface crates (`spl-token-interface`: `transfer_checked`;
//! `spl-associated-token-account-interface`: the associated token account's address and its
//! idempotent creation); the ed25519 signature itself is ed25519-dalek's (same as
//! `solana-keypair`, whose `Keypair` we avoid because it is not zeroized on drop in every
//! version). Nothing here is hand-built but the carry-over of those crates' instructions, built
//! with solana-instruction 3, to solana-instruction 4's type (same fields, same bytes).

use ed25519_dalek::Signer as _;
use solana_instruction::{AccountMeta, Instruction};
use solana_message::{Message, VersionedMessage};
use solana_offchain_message::OffchainMessage;
use solana_transaction::Transaction;

pub use solana_address::Address;
pub use solana_hash::Hash;
pub use solana_signature::Signature;

use crate::derive::Ed25519Key;
use crate::error::{Error, Result};

const CHAIN: &str = "solana";

/// What a transaction does, decoded from its bytes (the confirmation screen).
#[path = "solana_decode.rs"]
pub mod decode;

/// A send built unsigned, reviewed, then signed only if it still says what was reviewed.
#[path = "solana_send.rs"]
pub mod send;

/// The Solana address of an ed25519 key: its 32-byte public key (base58 when displayed).
pub fn address_of(key: &Ed25519Key) -> Address {
    Address::new_from_array(key.public_key())
}

/// Parses a base58 address.
pub fn parse_address(s: &str) -> Result<Address> {
    s.trim().parse::<Address>().map_err(|e| Error::address(CHAIN, s, e))
}

/// Parses a base58 blockhash.
pub fn parse_hash(s: &str) -> Result<Hash> {
    s.trim().parse::<Hash>().map_err(|e| Error::tx(CHAIN, format!("invalid blockhash: {e}")))
}

/// The SPL Token program (`TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA`).
pub fn token_program_id() -> Address {
    Address::new_from_array(spl_token_interface::id().to_bytes())
}

/// The associated token account program (`ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL`).
pub fn associated_token_program_id() -> Address {
    Address::new_from_array(spl_associated_token_account_interface::program::id().to_bytes())
}

/// The associated token account (ATA) of `owner` for `mint` under the SPL Token program: the
/// program-derived address of seeds `[owner, token program, mint]` of the ATA program.
pub fn associated_token_address(owner: &Address, mint: &Address) -> Address {
    let ata = spl_associated_token_account_interface::address::get_associated_token_address_with_program_id(
        &v3(owner),
        &v3(mint),
        &spl_token_interface::id(),
    );
    Address::new_from_array(ata.to_bytes())
}

fn v3(a: &Address) -> solana_pubkey_v3::Pubkey {
    solana_pubkey_v3::Pubkey::new_from_array(a.to_bytes())
}

/// Carries an instruction built with solana-instruction 3 (the interface crates' version) over
/// to solana-instruction 4's type, which `solana-message` 6 takes: same fields, same bytes.
fn from_v3(ix: solana_instruction_v3::Instruction) -> Instruction {
    Instruction {
        program_id: Address::new_from_array(ix.program_id.to_bytes()),
        accounts: ix
            .accounts
            .iter()
            .map(|m| AccountMeta {
                pubkey: Address::new_from_array(m.pubkey.to_bytes()),
                is_signer: m.is_signer,
                is_writable: m.is_writable,
            })
            .collect(),
        data: ix.data,
    }
}

/// An SPL token transfer (`TransferChecked`) from this wallet's associated token account for
/// `mint` to the recipient's, fee paid by this wallet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplTransfer {
    /// The token's mint.
    pub mint: Address,
    /// The recipient's wallet address (the owner of the destination token account, not the token
    /// account itself): the tokens go to its associated token account for `mint`.
    pub to: Address,
    /// Amount in the token's base units.
    pub amount: u64,
    /// The mint's decimals: `TransferChecked` fails on chain if they differ from the mint's.
    pub decimals: u8,
    /// Prepend the ATA program's `CreateIdempotent` for the recipient's token account (paid by
    /// this wallet, about 0.002 SOL of rent when it does not exist yet; a no-op when it does).
    pub create_recipient_account: bool,
}

/// A signed transaction in wire format.
#[derive(Debug, Clone)]
pub struct SignedSolanaTx {
    /// The transaction (signatures + message).
    pub transaction: Transaction,
    /// Wire bytes (what `sendTransaction` takes, base64 or base58 encoded).
    pub wire: Vec<u8>,
    /// The first signature, which is the transaction id.
    pub signature: Signature,
}

/// The signing key of one Solana account (ed25519-dalek, zeroized on drop).
pub struct SolanaSigner {
    key: ed25519_dalek::SigningKey,
}

impl core::fmt::Debug for SolanaSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SolanaSigner").field("address", &self.address()).finish_non_exhaustive()
    }
}

impl SolanaSigner {
    /// A signer for one imported ed25519 private key (32-byte seed).
    pub fn from_private_key(secret: &[u8; 32]) -> Self {
        Self::new(&Ed25519Key::from_private_key(secret))
    }

    /// Wraps a derived key.
    pub fn new(key: &Ed25519Key) -> Self {
        Self { key: key.signing_key() }
    }

    /// The address.
    pub fn address(&self) -> Address {
        Address::new_from_array(self.key.verifying_key().to_bytes())
    }

    fn sign_bytes(&self, bytes: &[u8]) -> Signature {
        Signature::from(self.key.sign(bytes).to_bytes())
    }

    /// A system-program transfer of `lamports` to `to`, fee paid by this account.
    pub fn sign_transfer(
        &self,
        to: &Address,
        lamports: u64,
        recent_blockhash: Hash,
    ) -> Result<SignedSolanaTx> {
        self.sign_instructions(&transfer_instructions(&self.address(), to, lamports)?, recent_blockhash)
    }

    /// An SPL token transfer: `TransferChecked` of `amount` (with the mint's `decimals`) from
    /// this wallet's associated token account for the mint to the recipient's, preceded by the
    /// ATA program's `CreateIdempotent` for the recipient when `create_recipient_account` is set.
    /// Fee (and that account's rent) paid by this wallet.
    pub fn sign_spl_transfer(
        &self,
        transfer: &SplTransfer,
        recent_blockhash: Hash,
    ) -> Result<SignedSolanaTx> {
        self.sign_instructions(&spl_instructions(&self.address(), transfer)?, recent_blockhash)
    }

    /// A legacy message of `ixs`, fee paid by this account, signed by it alone.
    fn sign_instructions(&self, ixs: &[Instruction], recent_blockhash: Hash) -> Result<SignedSolanaTx> {
        let message = message_of(ixs, &self.address(), recent_blockhash)?;
        let signature = self.sign_bytes(&message.serialize());
        let transaction = Transaction { signatures: vec![signature], message };
        let wire = wincode::serialize(&transaction).map_err(|e| Error::tx(CHAIN, e))?;
        Ok(SignedSolanaTx { transaction, wire, signature })
    }

    /// Signs a serialized **transaction** message (legacy or v0) built elsewhere, e.g. by a
    /// dApp: the signature authorises that transaction. The bytes must decode exactly (no
    /// trailing bytes) as a message that lists this account among its required signers. The
    /// instructions are not interpreted: show the user what they do before calling this. For
    /// signing text, use [`Self::sign_offchain_message`].
    pub fn sign_transaction_message(&self, message: &[u8]) -> Result<Signature> {
        let parsed: VersionedMessage = wincode::deserialize_exact(message)
            .map_err(|e| Error::tx(CHAIN, format!("not exactly one transaction message: {e}")))?;
        let signers = usize::from(parsed.header().num_required_signatures);
        let me = self.address();
        if !parsed.static_account_keys().iter().take(signers).any(|k| *k == me) {
            return Err(Error::tx(CHAIN, "this account is not a signer of the message"));
        }
        Ok(self.sign_bytes(message))
    }

    /// Signs an off-chain message (version 0: "\xffsolana offchain" header, as `solana
    /// sign-offchain-message`). Returns the signature and the serialized message that was signed.
    pub fn sign_offchain_message(&self, text: &[u8]) -> Result<(Signature, Vec<u8>)> {
        let msg = OffchainMessage::new(0, text).map_err(|e| Error::tx(CHAIN, e))?;
        let bytes = msg.serialize().map_err(|e| Error::tx(CHAIN, e))?;
        Ok((self.sign_bytes(&bytes), bytes))
    }
}

/// The instructions of a SOL transfer from `from` (a system-program `Transfer`).
fn transfer_instructions(from: &Address, to: &Address, lamports: u64) -> Result<Vec<Instruction>> {
    if lamports == 0 {
        return Err(Error::tx(CHAIN, "amount must be positive"));
    }
    // solana-system-interface 3.x still builds solana-instruction 3's type: carry it over.
    Ok(vec![from_v3(solana_system_interface::instruction::transfer(&v3(from), &v3(to), lamports))])
}

/// The instructions of an SPL transfer from `from`'s associated token account (see
/// [`SolanaSigner::sign_spl_transfer`]).
fn spl_instructions(from: &Address, transfer: &SplTransfer) -> Result<Vec<Instruction>> {
    if transfer.amount == 0 {
        return Err(Error::tx(CHAIN, "amount must be positive"));
    }
    let token = spl_token_interface::id();
    let source = associated_token_address(from, &transfer.mint);
    let destination = associated_token_address(&transfer.to, &transfer.mint);
    if source == destination {
        return Err(Error::tx(CHAIN, "the recipient is this wallet itself"));
    }
    let mut ixs = Vec::with_capacity(2);
    if transfer.create_recipient_account {
        ixs.push(from_v3(
            spl_associated_token_account_interface::instruction::create_associated_token_account_idempotent(
                &v3(from),
                &v3(&transfer.to),
                &v3(&transfer.mint),
                &token,
            ),
        ));
    }
    let ix = spl_token_interface::instruction::transfer_checked(
        &token,
        &v3(&source),
        &v3(&transfer.mint),
        &v3(&destination),
        &v3(from),
        &[],
        transfer.amount,
        transfer.decimals,
    )
    .map_err(|e| Error::tx(CHAIN, e))?;
    ixs.push(from_v3(ix));
    Ok(ixs)
}

/// A legacy message of `ixs` whose fee payer `from` is its only signer.
fn message_of(ixs: &[Instruction], from: &Address, recent_blockhash: Hash) -> Result<Message> {
    let message = Message::new_with_blockhash(ixs, Some(from), &recent_blockhash);
    if usize::from(message.header.num_required_signatures) != 1 {
        return Err(Error::tx(CHAIN, "the transaction would need another signer"));
    }
    Ok(message)
}
