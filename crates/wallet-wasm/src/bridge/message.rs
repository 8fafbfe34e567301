//! Message signing other than EVM's: what a message screen shows (the wallet crate's
//! [`MessageView`]: the text as it is, or the bytes in hex), Solana's off-chain message and
//! TRON's TIP-191 message. Each signature is its own passkey ceremony, through [`sign`].

use blindvault_wallet::display::MessageView;
use serde::{Deserialize, Serialize};

use super::{Code, Failure, from_hex, hex0x, request, sign};

/// A message: exactly one of `message` (text, its UTF-8 bytes) and `messageHex` (bytes, hex).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MessageRequest {
    /// Address index, default 0 (ignored by [`view`]).
    #[serde(default)]
    pub account: u32,
    /// The message as text.
    #[serde(default)]
    pub message: Option<String>,
    /// The message as bytes (`0x` hex or bare hex).
    #[serde(default)]
    pub message_hex: Option<String>,
    /// The view the person approved ([`view`]'s answer): when given, the message is signed only
    /// if its bytes still show exactly so (else `review_mismatch`).
    #[serde(default)]
    pub view: Option<MessageView>,
}

impl MessageRequest {
    /// The account and the message's bytes, checked against the approved view when there is one.
    pub(crate) fn bytes(self) -> Result<(u32, Vec<u8>), Failure> {
        let bytes = match (self.message, self.message_hex) {
            (Some(text), None) => text.into_bytes(),
            (None, Some(h)) => from_hex("messageHex", &h)?,
            _ => return Err(Failure::new(Code::BadRequest, "give exactly one of message and messageHex")),
        };
        if let Some(approved) = self.view
            && MessageView::of(&bytes) != approved
        {
            return Err(Failure::new(Code::ReviewMismatch, "the message is not the one shown"));
        }
        Ok((self.account, bytes))
    }
}

/// What a message screen shows of `json`'s message (no key): `{text, hex, length}` — `text`
/// only when the bytes are readable UTF-8 (no control characters but newlines and tabs).
pub fn view(json: &str) -> Result<MessageView, Failure> {
    let (_, bytes) = request::<MessageRequest>("the message", json)?.bytes()?;
    Ok(MessageView::of(&bytes))
}

/// A Solana off-chain message signature.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SolanaMessageSignature {
    /// The ed25519 signature, base58 (as `solana sign-offchain-message` prints it).
    pub signature: String,
    /// The signer's address (base58 public key).
    pub address: String,
    /// The exact bytes signed: the serialized off-chain message (`\xffsolana offchain`, version
    /// 0, format byte, length u16 little-endian, the text), `0x` hex.
    pub signed_message: String,
}

/// Signs a Solana off-chain message (version 0) of `message`: text only (the format carries
/// ASCII or UTF-8), 1 to 65 515 bytes (`solana-offchain-message` picks the format: restricted
/// ASCII or UTF-8 up to 1 212 bytes, extended UTF-8 above).
pub fn solana_sign_offchain(prf: &mut [u8], json: &str) -> Result<SolanaMessageSignature, Failure> {
    sign(
        prf,
        json,
        |r: MessageRequest| {
            if r.message_hex.is_some() {
                return Err(Failure::new(
                    Code::BadRequest,
                    "a Solana off-chain message is text: give message",
                ));
            }
            let (account, bytes) = r.bytes()?;
            if bytes.is_empty() {
                return Err(Failure::new(Code::Transaction, "the message is empty"));
            }
            Ok((account, bytes))
        },
        |w, (account, bytes)| {
            let signer = w.solana_signer(account)?;
            let (signature, signed) = signer.sign_offchain_message(&bytes)?;
            Ok(SolanaMessageSignature {
                signature: signature.to_string(),
                address: signer.address().to_string(),
                signed_message: hex0x(&signed),
            })
        },
    )
}

/// A TRON message signature.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct TronMessageSignature {
    /// 65 bytes r ‖ s ‖ v (v = 27/28), `0x` hex: what TronWeb's `signMessageV2` returns.
    pub signature: String,
    /// The signer's address (`T…`).
    pub address: String,
}

/// Signs a TRON TIP-191 message: keccak256("\x19TRON Signed Message:\n" ‖ length ‖ message).
pub fn tron_sign_message(prf: &mut [u8], json: &str) -> Result<TronMessageSignature, Failure> {
    sign(
        prf,
        json,
        |r: MessageRequest| r.bytes(),
        |w, (account, bytes)| {
            let signer = w.tron_signer(account)?;
            let sig = signer.sign_message(&bytes)?;
            Ok(TronMessageSignature { signature: hex0x(&sig), address: signer.address() })
        },
    )
}
