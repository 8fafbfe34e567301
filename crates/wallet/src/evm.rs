//! EVM: EIP-55 addresses, EIP-1559 and legacy (EIP-155) transactions, EIP-191 personal
//! messages and EIP-712 typed data — all with alloy (`alloy-consensus`, `alloy-signer-local`,
//! `alloy-dyn-abi`, `alloy-sol-types`). Nothing hand-written here but glue.
//!
//! Send flow: [`Eip1559Request`] (the form) → the unsigned payload → [`decode_eip1559`] → the
//! [`EvmTxSummary`] the confirmation screen shows → [`EvmSigner::sign_reviewed`], which signs
//! only a payload that decodes to the approved summary. Typed data: [`decode_typed_data`] →
//! [`TypedDataView`] → [`EvmSigner::sign_typed_data_reviewed`].

use alloy_consensus::{SignableTransaction, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

pub use alloy_consensus::{TxEip1559, TxLegacy};
pub use alloy_dyn_abi::TypedData;
pub use alloy_primitives::{Address, B256, Bytes, Signature, TxKind, U256};

use crate::derive::Secp256k1Key;
use crate::error::{Error, Result};

pub mod erc20;
mod tx;
mod typed;

pub use tx::{Eip1559Request, EvmPayment, EvmTxKind, EvmTxSummary, decode_eip1559};
pub use typed::{
    DomainView, FieldView, TypedDataView, decode_typed_data, personal_message_view, recover_personal_signer,
    recover_typed_data_signer,
};

const CHAIN: &str = "evm";

alloy_sol_types::sol! {
    /// The ERC-20 (and TRC-20) call the wallet builds and decodes: `transfer(address,uint256)`,
    /// selector `a9059cbb`.
    #[derive(Debug, PartialEq, Eq)]
    interface IERC20 {
        /// Moves `amount` base units of the token from the caller to `to`.
        function transfer(address to, uint256 amount) external returns (bool);
    }
}

/// The EVM address of a secp256k1 key: the last 20 bytes of keccak256 of the uncompressed
/// public key without its 0x04 prefix.
pub fn address_of(key: &Secp256k1Key) -> Result<Address> {
    let [_, xy @ ..] = key.public_key_uncompressed()?;
    Ok(Address::from_raw_public_key(&xy))
}

/// Parses an address, accepting lowercase/uppercase hex and rejecting a wrong EIP-55 checksum.
pub fn parse_address(s: &str) -> Result<Address> {
    let t = s.trim();
    let hex = t.strip_prefix("0x").unwrap_or(t);
    let mixed = hex.chars().any(|c| c.is_ascii_lowercase()) && hex.chars().any(|c| c.is_ascii_uppercase());
    if mixed {
        Address::parse_checksummed(t, None).map_err(|e| Error::address(CHAIN, s, e))
    } else {
        t.parse::<Address>().map_err(|e| Error::address(CHAIN, s, e))
    }
}

/// A signed EVM transaction, ready for `eth_sendRawTransaction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedEvmTx {
    /// EIP-2718 bytes (RLP for a legacy transaction).
    pub raw: Vec<u8>,
    /// The transaction hash (keccak256 of `raw`).
    pub hash: B256,
    /// The signer's address.
    pub from: Address,
}

/// The signing key of one EVM address. k256's key zeroizes on drop; `Debug` shows the address.
pub struct EvmSigner {
    inner: PrivateKeySigner,
}

impl core::fmt::Debug for EvmSigner {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EvmSigner").field("address", &self.inner.address()).finish_non_exhaustive()
    }
}

impl EvmSigner {
    /// A signer for one imported private key (test vectors, a sweep).
    pub fn from_private_key(secret: &[u8; 32]) -> Result<Self> {
        Self::new(&Secp256k1Key::from_private_key(secret)?)
    }

    /// Wraps a derived key.
    pub fn new(key: &Secp256k1Key) -> Result<Self> {
        // From the borrowed bytes: no copy of the key is made here (k256's key zeroizes itself).
        let inner = PrivateKeySigner::from_slice(key.expose_secret()).map_err(|_| Error::InvalidChildKey)?;
        Ok(Self { inner })
    }

    /// The address.
    pub fn address(&self) -> Address {
        self.inner.address()
    }

    fn finish<T: SignableTransaction<Signature>>(&self, tx: T) -> Result<SignedEvmTx>
    where
        TxEnvelope: From<alloy_consensus::Signed<T>>,
    {
        let sig = self.inner.sign_hash_sync(&tx.signature_hash()).map_err(|e| Error::tx(CHAIN, e))?;
        let envelope = TxEnvelope::from(tx.into_signed(sig));
        Ok(SignedEvmTx { raw: envelope.encoded_2718(), hash: *envelope.tx_hash(), from: self.address() })
    }

    /// Signs an EIP-1559 (type 2) transaction. `chain_id` must be set (it is part of the type).
    pub fn sign_eip1559(&self, tx: TxEip1559) -> Result<SignedEvmTx> {
        if tx.chain_id == 0 {
            return Err(Error::tx(CHAIN, "chain id 0 is not a valid chain"));
        }
        self.finish(tx)
    }

    /// Signs a legacy transaction with EIP-155 replay protection (a chain id is required and
    /// 0 is refused).
    pub fn sign_legacy(&self, tx: TxLegacy) -> Result<SignedEvmTx> {
        match tx.chain_id {
            None => return Err(Error::tx(CHAIN, "legacy transaction without a chain id (EIP-155) refused")),
            Some(0) => return Err(Error::tx(CHAIN, "chain id 0 is not a valid chain")),
            Some(_) => {}
        }
        self.finish(tx)
    }

    /// EIP-191 `personal_sign`: signs keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message).
    /// Returns the 65-byte r ‖ s ‖ v signature with v = 27 or 28.
    pub fn sign_personal_message(&self, message: &[u8]) -> Result<[u8; 65]> {
        let sig = self.inner.sign_message_sync(message).map_err(|e| Error::tx(CHAIN, e))?;
        Ok(sig.as_bytes())
    }

    /// EIP-712 `eth_signTypedData_v4` from its JSON (types, primaryType, domain, message).
    /// Returns the signature and the signing hash.
    pub fn sign_typed_data_json(&self, json: &str) -> Result<([u8; 65], B256)> {
        let typed: TypedData = serde_json::from_str(json).map_err(|e| Error::tx(CHAIN, e))?;
        let hash = typed.eip712_signing_hash().map_err(|e| Error::tx(CHAIN, e))?;
        let sig = self.inner.sign_hash_sync(&hash).map_err(|e| Error::tx(CHAIN, e))?;
        Ok((sig.as_bytes(), hash))
    }

    /// Signs an unsigned EIP-1559 payload **only if** it decodes ([`decode_eip1559`], with the
    /// assets the summary shows) to exactly the summary the user approved, else
    /// [`Error::ReviewMismatch`]; the summary's `from` must be this signer.
    pub fn sign_reviewed(&self, payload: &[u8], approved: &EvmTxSummary) -> Result<SignedEvmTx> {
        let (native, token) = approved.assets();
        let decoded = decode_eip1559(payload, self.address(), &native, token.as_ref())?;
        if decoded != *approved {
            return Err(Error::ReviewMismatch);
        }
        let (ty, mut rest) = payload.split_first().ok_or_else(|| Error::tx(CHAIN, "empty payload"))?;
        debug_assert_eq!(*ty, 0x02);
        let tx = <TxEip1559 as alloy_consensus::transaction::RlpEcdsaDecodableTx>::rlp_decode(&mut rest)
            .map_err(|e| Error::tx(CHAIN, e))?;
        self.sign_eip1559(tx)
    }

    /// Signs EIP-712 typed data **only if** it decodes to exactly the view the user approved
    /// ([`decode_typed_data`]; the view carries the signing hash), else [`Error::ReviewMismatch`].
    pub fn sign_typed_data_reviewed(&self, json: &str, approved: &TypedDataView) -> Result<[u8; 65]> {
        if decode_typed_data(json)? != *approved {
            return Err(Error::ReviewMismatch);
        }
        Ok(self.sign_typed_data_json(json)?.0)
    }
}
