//! Solana: base58 addresses, system transfers, signing of serialized messages, off-chain
//! messages. Built with the Solana SDK component crates (`solana-message`,
//! `solana-transaction`, `solana-system-interface`, `solana-offchain-message`, wire format by
//! `wincode`); the ed25519 signature itself is ed25519-dalek's (same as `solana-keypair`, whose
//! `Keypair` we avoid because it is not zeroized on drop in every version).

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
        if lamports == 0 {
            return Err(Error::tx(CHAIN, "amount must be positive"));
        }
        let from = self.address();
        // solana-system-interface 3.x still builds solana-instruction 3's type: carry it over.
        let ix = solana_system_interface::instruction::transfer(&from, to, lamports);
        let ix = Instruction {
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
        };
        let message = Message::new_with_blockhash(&[ix], Some(&from), &recent_blockhash);
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
