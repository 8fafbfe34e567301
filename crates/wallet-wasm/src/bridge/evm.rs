//! EVM: EIP-1559 transactions, EIP-191 `personal_sign`, EIP-712 typed data.

use blindvault_wallet::evm::{self, Bytes, TxEip1559, TxKind, U256};
use serde::{Deserialize, Serialize};

use blindvault_wallet::display::Asset;
use blindvault_wallet::evm::{Eip1559Request, EvmPayment, EvmTxSummary, TypedDataView};

use super::{Code, Failure, Num, from_hex, hex0x, request, sign};

/// An EIP-1559 (type 2) transaction to sign. Amounts in wei; numbers as JSON numbers or
/// decimal / `0x` strings.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TxRequest {
    /// Address index (`m/44'/60'/0'/0/account`), default 0.
    #[serde(default)]
    pub account: u32,
    /// EIP-155 chain id (1 for Ethereum mainnet); 0 is refused.
    pub chain_id: Num,
    /// The sender's nonce.
    pub nonce: Num,
    /// Recipient (or contract called), EIP-55 checksummed or all one case.
    pub to: String,
    /// Value in wei.
    pub value: Num,
    /// Gas limit.
    pub gas_limit: Num,
    /// Max fee per gas (wei).
    pub max_fee_per_gas: Num,
    /// Max priority fee per gas (wei).
    pub max_priority_fee_per_gas: Num,
    /// Call data (`0x` hex), default empty.
    #[serde(default)]
    pub data: Option<String>,
}

/// A signed transaction.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct SignedTx {
    /// EIP-2718 bytes, `0x` hex: what `eth_sendRawTransaction` takes.
    pub raw: String,
    /// Transaction hash, `0x` hex.
    pub hash: String,
    /// The signer's address (EIP-55).
    pub from: String,
}

/// A 256-bit whole number (wei or token base units) from a JSON number or string.
pub(crate) fn wei(n: &Num, what: &str) -> Result<U256, Failure> {
    match n {
        Num::Int(v) => Ok(U256::from(*v)),
        Num::Text(s) => {
            let t = s.trim();
            let parsed = match t.strip_prefix("0x") {
                Some(h) if !h.is_empty() => U256::from_str_radix(h, 16).ok(),
                Some(_) => None,
                None if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
                    U256::from_str_radix(t, 10).ok()
                }
                None => None,
            };
            parsed.ok_or_else(|| {
                Failure::new(Code::BadAmount, format!("{what} must be a whole number of wei below 2^256"))
            })
        }
    }
}

/// Signs an EIP-1559 transaction.
pub fn sign_transaction(prf: &mut [u8], json: &str) -> Result<SignedTx, Failure> {
    sign(
        prf,
        json,
        |r: TxRequest| {
            let tx = TxEip1559 {
                chain_id: r.chain_id.u64("chainId")?,
                nonce: r.nonce.u64("nonce")?,
                gas_limit: r.gas_limit.u64("gasLimit")?,
                max_fee_per_gas: r.max_fee_per_gas.u128("maxFeePerGas")?,
                max_priority_fee_per_gas: r.max_priority_fee_per_gas.u128("maxPriorityFeePerGas")?,
                to: TxKind::Call(evm::parse_address(&r.to)?),
                value: wei(&r.value, "value")?,
                access_list: Default::default(),
                input: Bytes::from(
                    r.data.as_deref().map(|d| from_hex("data", d)).transpose()?.unwrap_or_default(),
                ),
            };
            Ok((r.account, tx))
        },
        |w, (account, tx)| {
            let signed = w.evm_signer(account)?.sign_eip1559(tx)?;
            Ok(SignedTx {
                raw: hex0x(&signed.raw),
                hash: hex0x(signed.hash.as_slice()),
                from: signed.from.to_checksum(None),
            })
        },
    )
}

/// An EIP-191 `personal_sign` request: exactly one of `message` (text, signed as its UTF-8
/// bytes) and `messageHex` (bytes, `0x` hex), and optionally the `view` the person approved
/// (`messageView`'s answer; then signed only if the bytes still show so).
pub type PersonalRequest = super::message::MessageRequest;

/// A message signature.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct MessageSignature {
    /// 65 bytes r ‖ s ‖ v (v = 27 or 28), `0x` hex: what `personal_sign` and
    /// `eth_signTypedData_v4` return.
    pub signature: String,
    /// The signer's address (EIP-55).
    pub address: String,
    /// EIP-712 only: the signing hash (`0x` hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
}

/// Signs `keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message)` (EIP-191).
pub fn sign_personal(prf: &mut [u8], json: &str) -> Result<MessageSignature, Failure> {
    sign(
        prf,
        json,
        |r: PersonalRequest| r.bytes(),
        |w, (account, bytes)| {
            let signer = w.evm_signer(account)?;
            let sig = signer.sign_personal_message(&bytes)?;
            Ok(MessageSignature {
                signature: hex0x(&sig),
                address: signer.address().to_checksum(None),
                hash: None,
            })
        },
    )
}

/// An EIP-712 request: `typedData` is the `eth_signTypedData_v4` object (types, primaryType,
/// domain, message), or that object as JSON text.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypedDataRequest {
    /// Address index, default 0.
    #[serde(default)]
    pub account: u32,
    /// The typed data.
    pub typed_data: serde_json::Value,
}

/// Signs EIP-712 typed data.
pub fn sign_typed_data(prf: &mut [u8], json: &str) -> Result<MessageSignature, Failure> {
    sign(
        prf,
        json,
        |r: TypedDataRequest| {
            let text = match r.typed_data {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            Ok((r.account, text))
        },
        |w, (account, text)| {
            let signer = w.evm_signer(account)?;
            let (sig, hash) = signer.sign_typed_data_json(&text)?;
            Ok(MessageSignature {
                signature: hex0x(&sig),
                address: signer.address().to_checksum(None),
                hash: Some(hex0x(hash.as_slice())),
            })
        },
    )
}

/// A native-coin send to build for the confirmation screen (no key: nothing is signed yet). The
/// page fills it from the form and the node (nonce, fees).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SendRequest {
    /// The sender: this wallet's address (the summary shows it; signing checks it is the key's).
    pub from: String,
    /// EIP-155 chain id (not 0).
    pub chain_id: Num,
    /// The sender's next nonce.
    pub nonce: Num,
    /// Recipient.
    pub to: String,
    /// Amount in wei.
    pub value: Num,
    /// Gas limit.
    pub gas_limit: Num,
    /// Max fee per gas (wei).
    pub max_fee_per_gas: Num,
    /// Max priority fee per gas (wei), at most the max fee.
    pub max_priority_fee_per_gas: Num,
    /// The native coin's symbol (18 decimals), as the page names the chain's coin.
    pub symbol: String,
    /// An ERC-20 send: the token, with the symbol and decimals the page read from the contract
    /// (`symbol()`, `decimals()`); `value` is then the token amount in its base units, and the
    /// transaction calls the contract's `transfer` with no native value.
    #[serde(default)]
    pub token: Option<TokenRequest>,
}

/// The token of an ERC-20 send.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenRequest {
    /// The token contract.
    pub contract: String,
    /// Its symbol, as `symbol()` returned it.
    pub symbol: String,
    /// Its decimals, as `decimals()` returned them.
    pub decimals: u8,
}

/// A built send: the unsigned EIP-1559 payload and what it does, decoded from it.
#[derive(Debug, Serialize)]
pub struct BuiltSend {
    /// `0x02 ‖ rlp(fields)`, `0x` hex: what will be signed (its keccak256).
    pub payload: String,
    /// The payload decoded ([`blindvault_wallet::evm::decode_eip1559`]): what the confirmation
    /// screen shows, and what the person approves.
    pub summary: EvmTxSummary,
}

/// Builds the unsigned payload of a send (the native coin, or an ERC-20 token's `transfer`) and
/// decodes it back for the confirmation screen. Takes no key.
pub fn build_send(json: &str) -> Result<BuiltSend, Failure> {
    let r: SendRequest = request("the send", json)?;
    if r.symbol.is_empty() || r.symbol.len() > 16 {
        return Err(Failure::new(Code::BadRequest, "the coin's symbol must be 1 to 16 characters"));
    }
    let to = evm::parse_address(&r.to)?;
    let amount = wei(&r.value, "value")?;
    let (payment, token) = match &r.token {
        None => (EvmPayment::Native { to, amount }, None),
        Some(t) => {
            let n = t.symbol.chars().count();
            if n == 0 || n > evm::erc20::MAX_SYMBOL_CHARS || t.symbol.chars().any(char::is_control) {
                return Err(Failure::new(
                    Code::BadRequest,
                    "the token's symbol must be 1 to 32 characters of text",
                ));
            }
            if t.decimals > 77 {
                return Err(Failure::new(Code::BadRequest, "a token has at most 77 decimals"));
            }
            let contract = evm::parse_address(&t.contract)?;
            (
                EvmPayment::Erc20 { token: contract, to, amount },
                Some(Asset::new(t.symbol.clone(), t.decimals)),
            )
        }
    };
    let send = Eip1559Request {
        chain_id: r.chain_id.u64("chainId")?,
        nonce: r.nonce.u64("nonce")?,
        payment,
        gas_limit: r.gas_limit.u64("gasLimit")?,
        max_fee_per_gas: r.max_fee_per_gas.u128("maxFeePerGas")?,
        max_priority_fee_per_gas: r.max_priority_fee_per_gas.u128("maxPriorityFeePerGas")?,
    };
    let payload = send.unsigned_payload()?;
    let summary = evm::decode_eip1559(
        &payload,
        evm::parse_address(&r.from)?,
        &Asset::new(r.symbol, 18),
        token.as_ref(),
    )?;
    Ok(BuiltSend { payload: hex0x(&payload), summary })
}

/// Signs a payload the person approved: `summary` is the one the confirmation screen showed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReviewedRequest {
    /// Address index, default 0.
    #[serde(default)]
    pub account: u32,
    /// The unsigned payload (`0x` hex), as [`build_send`] gave it.
    pub payload: String,
    /// The approved summary.
    pub summary: EvmTxSummary,
}

/// Signs the payload only if it still decodes to exactly the approved summary, from this
/// account (`EvmSigner::sign_reviewed`; else `review_mismatch`).
pub fn sign_reviewed(prf: &mut [u8], json: &str) -> Result<SignedTx, Failure> {
    sign(
        prf,
        json,
        |r: ReviewedRequest| Ok((r.account, from_hex("payload", &r.payload)?, r.summary)),
        |w, (account, payload, summary)| {
            let signed = w.evm_signer(account)?.sign_reviewed(&payload, &summary)?;
            Ok(SignedTx {
                raw: hex0x(&signed.raw),
                hash: hex0x(signed.hash.as_slice()),
                from: signed.from.to_checksum(None),
            })
        },
    )
}

/// The typed data of a request as JSON text (an object, or a string holding one).
fn typed_text(v: serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// What the EIP-712 screen shows (no key): the domain, the primary type, the message as a tree of
/// typed fields, and the signing hash (`evm::decode_typed_data`). `typed_data` is the
/// `eth_signTypedData_v4` object or its JSON text; anything that is not typed data, or whose
/// message does not match its types, is `transaction`.
pub fn decode_typed_data(typed_data: &str) -> Result<TypedDataView, Failure> {
    let value: serde_json::Value = serde_json::from_str(typed_data)
        .map_err(|e| Failure::new(Code::Transaction, format!("the typed data is not JSON: {e}")))?;
    Ok(evm::decode_typed_data(&typed_text(value))?)
}

/// Signs typed data the person approved: `view` is the decoding the screen showed.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypedReviewedRequest {
    /// Address index, default 0.
    #[serde(default)]
    pub account: u32,
    /// The typed data (object or JSON text), as given to [`decode_typed_data`].
    pub typed_data: serde_json::Value,
    /// The approved view.
    pub view: TypedDataView,
}

/// Signs EIP-712 typed data only if it still decodes to exactly the approved view
/// (`EvmSigner::sign_typed_data_reviewed`; else `review_mismatch`).
pub fn sign_typed_data_reviewed(prf: &mut [u8], json: &str) -> Result<MessageSignature, Failure> {
    sign(
        prf,
        json,
        |r: TypedReviewedRequest| Ok((r.account, typed_text(r.typed_data), r.view)),
        |w, (account, text, view)| {
            let signer = w.evm_signer(account)?;
            let sig = signer.sign_typed_data_reviewed(&text, &view)?;
            Ok(MessageSignature {
                signature: hex0x(&sig),
                address: signer.address().to_checksum(None),
                hash: Some(view.signing_hash.clone()),
            })
        },
    )
}
