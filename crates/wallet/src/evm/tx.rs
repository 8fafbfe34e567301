//! EVM send: the EIP-1559 builder (form values → the unsigned type-2 payload) and the decoder
//! (that payload → the [`EvmTxSummary`] a confirmation screen shows).
//!
//! The unsigned payload is what EIP-1559 signs: `0x02 ‖ rlp([chain_id, nonce,
//! max_priority_fee_per_gas, max_fee_per_gas, gas_limit, to, value, data, access_list])`; its
//! keccak256 is the signing hash. A token transfer is a call to the token contract with value 0
//! and data = ERC-20 `transfer(address,uint256)` (selector `a9059cbb`, from alloy's `sol!`).

use alloy_consensus::SignableTransaction;
use alloy_consensus::transaction::RlpEcdsaDecodableTx;
use alloy_primitives::{Address, TxKind, U256, keccak256};
use alloy_sol_types::SolCall;

use super::{CHAIN, IERC20, TxEip1559};
use crate::display::{Amount, Asset};
use crate::error::{Error, Result};

/// What a send pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvmPayment {
    /// The chain's native coin: `amount` wei to `to`.
    Native {
        /// Recipient.
        to: Address,
        /// Amount in wei.
        amount: U256,
    },
    /// An ERC-20 token: `amount` base units of `token` to `to`.
    Erc20 {
        /// The token contract.
        token: Address,
        /// Recipient.
        to: Address,
        /// Amount in the token's base units.
        amount: U256,
    },
}

/// The form of an EIP-1559 send, as the page fills it (fees and nonce from the node).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Eip1559Request {
    /// EIP-155 chain id (not 0).
    pub chain_id: u64,
    /// The sender's next nonce.
    pub nonce: u64,
    /// What is paid to whom.
    pub payment: EvmPayment,
    /// Gas limit (21 000 for a plain transfer; the node's estimate for a token).
    pub gas_limit: u64,
    /// Max fee per gas (wei).
    pub max_fee_per_gas: u128,
    /// Max priority fee per gas (wei), at most `max_fee_per_gas`.
    pub max_priority_fee_per_gas: u128,
}

impl Eip1559Request {
    /// The transaction. Refuses chain id 0, a zero gas limit, a priority fee above the max fee,
    /// and a zero token amount.
    pub fn build(&self) -> Result<TxEip1559> {
        if self.chain_id == 0 {
            return Err(Error::tx(CHAIN, "chain id 0 is not a valid chain"));
        }
        if self.gas_limit == 0 {
            return Err(Error::tx(CHAIN, "gas limit must be positive"));
        }
        if self.max_priority_fee_per_gas > self.max_fee_per_gas {
            return Err(Error::tx(CHAIN, "the priority fee is above the max fee per gas"));
        }
        let (to, value, input) = match &self.payment {
            EvmPayment::Native { to, amount } => (*to, *amount, Vec::new()),
            EvmPayment::Erc20 { token, to, amount } => {
                if amount.is_zero() {
                    return Err(Error::tx(CHAIN, "token amount must be positive"));
                }
                (*token, U256::ZERO, IERC20::transferCall { to: *to, amount: *amount }.abi_encode())
            }
        };
        Ok(TxEip1559 {
            chain_id: self.chain_id,
            nonce: self.nonce,
            gas_limit: self.gas_limit,
            max_fee_per_gas: self.max_fee_per_gas,
            max_priority_fee_per_gas: self.max_priority_fee_per_gas,
            to: TxKind::Call(to),
            value,
            access_list: Default::default(),
            input: input.into(),
        })
    }

    /// The unsigned payload to show and sign: `0x02 ‖ rlp(fields)`.
    pub fn unsigned_payload(&self) -> Result<Vec<u8>> {
        Ok(self.build()?.encoded_for_signing())
    }
}

/// What an EVM transaction does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvmTxKind {
    /// Native coin, no data.
    Native,
    /// ERC-20 `transfer` (value 0).
    Erc20,
    /// Any other call: the data is shown in hex, not interpreted.
    ContractCall,
}

/// What an EVM confirmation screen shows, decoded from the unsigned EIP-1559 payload (plus
/// the sender, the native coin's symbol, and a token's symbol and decimals as the page read them
/// from the contract).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EvmTxSummary {
    /// Native, ERC-20 or another call.
    pub kind: EvmTxKind,
    /// EIP-155 chain id.
    pub chain_id: u64,
    /// Nonce.
    pub nonce: u64,
    /// The sender (EIP-55).
    pub from: String,
    /// The transaction's `to`: the recipient, or the token contract for a token transfer.
    pub to: String,
    /// The person paid: `to`, or the recipient decoded from the ERC-20 call.
    pub recipient: String,
    /// The token contract (ERC-20 only).
    pub token_contract: Option<String>,
    /// What the recipient gets: the native value, or the token amount with its symbol and decimals.
    pub amount: Amount,
    /// The native value the transaction carries (0 for a token transfer).
    pub value: Amount,
    /// The call data, hex (`0x` for a plain transfer).
    pub data: String,
    /// Gas limit.
    pub gas_limit: u64,
    /// Max fee per gas, in the native coin.
    pub max_fee_per_gas: Amount,
    /// Max priority fee per gas, in the native coin.
    pub max_priority_fee_per_gas: Amount,
    /// The most the transaction can cost in fees: gas limit × max fee per gas.
    pub max_fee: Amount,
    /// keccak256 of the payload: what is signed.
    pub signing_hash: String,
}

/// Decodes an unsigned EIP-1559 payload (`0x02 ‖ rlp(fields)`) for the confirmation screen.
/// `from` is the account that will sign, `native` the chain's coin (ETH, 18), `token` the
/// token's symbol and decimals read from the contract (required when the data is an ERC-20
/// `transfer`). Refuses another type, trailing bytes, a non-canonical encoding, contract
/// creation, an access list and an ERC-20 transfer that also sends native value.
pub fn decode_eip1559(
    payload: &[u8],
    from: Address,
    native: &Asset,
    token: Option<&Asset>,
) -> Result<EvmTxSummary> {
    let (ty, mut rest) = payload.split_first().ok_or_else(|| Error::tx(CHAIN, "empty payload"))?;
    if *ty != 0x02 {
        return Err(Error::tx(CHAIN, format!("transaction type {ty:#04x} is not EIP-1559 (0x02)")));
    }
    let tx = TxEip1559::rlp_decode(&mut rest).map_err(|e| Error::tx(CHAIN, format!("rlp: {e}")))?;
    if !rest.is_empty() {
        return Err(Error::tx(CHAIN, "trailing bytes after the transaction"));
    }
    if tx.encoded_for_signing() != payload {
        return Err(Error::tx(CHAIN, "the payload is not in the canonical encoding"));
    }
    summarize(&tx, from, native, token)
}

pub(crate) fn summarize(
    tx: &TxEip1559,
    from: Address,
    native: &Asset,
    token: Option<&Asset>,
) -> Result<EvmTxSummary> {
    if tx.chain_id == 0 {
        return Err(Error::tx(CHAIN, "chain id 0 is not a valid chain"));
    }
    let TxKind::Call(to) = tx.to else {
        return Err(Error::tx(CHAIN, "contract creation is not supported"));
    };
    if !tx.access_list.is_empty() {
        return Err(Error::tx(CHAIN, "an access list is not supported (it would not be shown)"));
    }
    let erc20 = IERC20::transferCall::abi_decode_validate(&tx.input)
        .ok()
        .filter(|c| IERC20::transferCall { to: c.to, amount: c.amount }.abi_encode() == tx.input.as_ref());
    let value = Amount::new(tx.value, native);
    let (kind, recipient, token_contract, amount) = match erc20 {
        Some(call) => {
            if !tx.value.is_zero() {
                return Err(Error::tx(CHAIN, "a token transfer that also sends native value is refused"));
            }
            let asset = token.ok_or_else(|| {
                Error::tx(CHAIN, "an ERC-20 transfer needs the token's symbol and decimals to be shown")
            })?;
            (EvmTxKind::Erc20, call.to, Some(to.to_checksum(None)), Amount::new(call.amount, asset))
        }
        None if tx.input.is_empty() => (EvmTxKind::Native, to, None, value.clone()),
        None => (EvmTxKind::ContractCall, to, None, value.clone()),
    };
    let max_fee = U256::from(tx.gas_limit) * U256::from(tx.max_fee_per_gas);
    Ok(EvmTxSummary {
        kind,
        chain_id: tx.chain_id,
        nonce: tx.nonce,
        from: from.to_checksum(None),
        to: to.to_checksum(None),
        recipient: recipient.to_checksum(None),
        token_contract,
        amount,
        value,
        data: format!("0x{}", hex::encode(&tx.input)),
        gas_limit: tx.gas_limit,
        max_fee_per_gas: Amount::new(U256::from(tx.max_fee_per_gas), native),
        max_priority_fee_per_gas: Amount::new(U256::from(tx.max_priority_fee_per_gas), native),
        max_fee: Amount::new(max_fee, native),
        signing_hash: format!("0x{}", hex::encode(keccak256(tx.encoded_for_signing()))),
    })
}

impl EvmTxSummary {
    /// The assets the summary shows (native coin; token when it is an ERC-20 transfer), to
    /// decode the same payload again for comparison.
    pub(crate) fn assets(&self) -> (Asset, Option<Asset>) {
        let native = Asset { symbol: self.value.symbol.clone(), decimals: self.value.decimals };
        let token = (self.kind == EvmTxKind::Erc20)
            .then(|| Asset { symbol: self.amount.symbol.clone(), decimals: self.amount.decimals });
        (native, token)
    }
}
