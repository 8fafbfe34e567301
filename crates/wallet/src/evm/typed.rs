//! What the signing screens show for EIP-712 typed data and EIP-191 `personal_sign`, and the
//! recovery of a signer from their signatures.
//!
//! The typed data's message is read by alloy (`TypedData::coerce`: every value checked against
//! its declared type) and laid out as a tree of named, typed fields; the signing hash is
//! alloy's `eip712_signing_hash`.

use alloy_dyn_abi::DynSolValue;
use alloy_primitives::{Address, B256, Signature};

use super::{CHAIN, TypedData};
use crate::display::MessageView;
use crate::error::{Error, Result};

/// The EIP-712 domain, as shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DomainView {
    /// `name`.
    pub name: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `chainId`, decimal.
    pub chain_id: Option<String>,
    /// `verifyingContract`, EIP-55.
    pub verifying_contract: Option<String>,
    /// `salt`, hex.
    pub salt: Option<String>,
}

/// One field of a typed message: a leaf with its value, or a struct / array with children.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldView {
    /// Field name (an array item's is its index).
    pub name: String,
    /// Solidity type, e.g. `address`, `uint256`, `Person`, `Person[]`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The value of a leaf: an address in EIP-55, integers in decimal, bytes in `0x` hex,
    /// `true`/`false`, strings as they are. `None` for a struct or an array.
    pub value: Option<String>,
    /// The fields of a struct, or the items of an array.
    pub children: Vec<FieldView>,
}

/// What the EIP-712 signing screen shows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TypedDataView {
    /// The domain.
    pub domain: DomainView,
    /// The primary type.
    pub primary_type: String,
    /// The message's fields, in declaration order.
    pub message: Vec<FieldView>,
    /// The EIP-712 signing hash (keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message))).
    pub signing_hash: String,
}

fn type_name(v: &DynSolValue) -> String {
    match v {
        DynSolValue::CustomStruct { name, .. } => name.clone(),
        DynSolValue::Array(items) => format!("{}[]", items.first().map(type_name).unwrap_or_default()),
        DynSolValue::FixedArray(items) => {
            format!("{}[{}]", items.first().map(type_name).unwrap_or_default(), items.len())
        }
        other => other.sol_type_name().map(|c| c.into_owned()).unwrap_or_default(),
    }
}

fn field(name: String, v: &DynSolValue) -> FieldView {
    let leaf = |value: String| FieldView {
        name: name.clone(),
        type_name: type_name(v),
        value: Some(value),
        children: vec![],
    };
    let node = |children: Vec<FieldView>| FieldView {
        name: name.clone(),
        type_name: type_name(v),
        value: None,
        children,
    };
    match v {
        DynSolValue::Bool(b) => leaf(b.to_string()),
        DynSolValue::Int(i, _) => leaf(i.to_string()),
        DynSolValue::Uint(u, _) => leaf(u.to_string()),
        DynSolValue::FixedBytes(w, size) => {
            leaf(format!("0x{}", hex::encode(w.get(..*size).unwrap_or_default())))
        }
        DynSolValue::Address(a) => leaf(a.to_checksum(None)),
        DynSolValue::Function(f) => leaf(format!("0x{}", hex::encode(f.as_slice()))),
        DynSolValue::Bytes(b) => leaf(format!("0x{}", hex::encode(b))),
        DynSolValue::String(s) => leaf(s.clone()),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            node(items.iter().enumerate().map(|(i, item)| field(i.to_string(), item)).collect())
        }
        DynSolValue::CustomStruct { prop_names, tuple, .. } => {
            node(prop_names.iter().zip(tuple).map(|(n, item)| field(n.clone(), item)).collect())
        }
    }
}

fn parse(json: &str) -> Result<TypedData> {
    serde_json::from_str(json).map_err(|e| Error::tx(CHAIN, format!("typed data: {e}")))
}

/// Decodes `eth_signTypedData_v4` JSON for display. Refuses JSON that is not typed data, a
/// message that does not match its types, and a primary type that is missing.
pub fn decode_typed_data(json: &str) -> Result<TypedDataView> {
    let typed = parse(json)?;
    view(&typed)
}

pub(crate) fn view(typed: &TypedData) -> Result<TypedDataView> {
    let value = typed.coerce().map_err(|e| Error::tx(CHAIN, format!("typed data: {e}")))?;
    let hash = typed.eip712_signing_hash().map_err(|e| Error::tx(CHAIN, format!("typed data: {e}")))?;
    let message = match field(typed.primary_type.clone(), &value) {
        FieldView { children, value: None, .. } => children,
        leaf => vec![leaf],
    };
    let d = &typed.domain;
    Ok(TypedDataView {
        domain: DomainView {
            name: d.name.as_ref().map(|s| s.to_string()),
            version: d.version.as_ref().map(|s| s.to_string()),
            chain_id: d.chain_id.map(|c| c.to_string()),
            verifying_contract: d.verifying_contract.map(|a| a.to_checksum(None)),
            salt: d.salt.map(|s| format!("0x{}", hex::encode(s))),
        },
        primary_type: typed.primary_type.clone(),
        message,
        signing_hash: format!("0x{}", hex::encode(hash)),
    })
}

/// What the `personal_sign` screen shows: the text, or hex when the bytes are not text.
pub fn personal_message_view(message: &[u8]) -> MessageView {
    MessageView::of(message)
}

/// The address whose EIP-191 `personal_sign` signature `signature` is over `message`.
pub fn recover_personal_signer(message: &[u8], signature: &[u8; 65]) -> Result<Address> {
    let sig = Signature::from_raw(signature).map_err(|e| Error::tx(CHAIN, e))?;
    sig.recover_address_from_msg(message).map_err(|e| Error::tx(CHAIN, e))
}

/// The address whose EIP-712 signature `signature` is over the typed data `json`.
pub fn recover_typed_data_signer(json: &str, signature: &[u8; 65]) -> Result<Address> {
    let hash: B256 = parse(json)?.eip712_signing_hash().map_err(|e| Error::tx(CHAIN, e))?;
    let sig = Signature::from_raw(signature).map_err(|e| Error::tx(CHAIN, e))?;
    sig.recover_address_from_prehash(&hash).map_err(|e| Error::tx(CHAIN, e))
}
