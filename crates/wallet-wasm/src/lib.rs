//! # blindvault-wallet-wasm
//!
//! The wallet ([`blindvault_wallet`]) for the browser, as its own WebAssembly bundle
//! (`web/wallet-pkg/`, built by `scripts/build-web.sh`), so that the approver pages, which load
//! `web/pkg/`, carry no wallet code. This crate has no logic of its own: every function converts
//! JavaScript values to the wallet crate's types, calls it, and converts back.
//!
//! ## The API (JavaScript)
//!
//! Every signing function takes the passkey's PRF output again: **each signature is its own
//! passkey ceremony, and nothing secret stays in WebAssembly between calls** (no session object,
//! no cached seed). `prf` is a `Uint8Array` of 32 bytes; the function overwrites it with zeros
//! (wasm-bindgen copies the zeroed bytes back into the caller's array), whether it succeeds or
//! not. `request` is a plain object (or its JSON text); whole numbers may be JSON numbers or
//! decimal strings (`"0x…"` hex too) — pass amounts as strings, since a JavaScript number loses
//! precision above 2^53. Every request takes `account` (the address index, default 0) and
//! refuses unknown fields. Answers are plain objects.
//!
//! | function | request | answer |
//! |---|---|---|
//! | `walletAddresses(prf, account)` | — | `[{chain, path, address}]` for evm, bitcoin, solana, tron, ton |
//! | `evmSignTransaction(prf, req)` | `{chainId, nonce, to, value, gasLimit, maxFeePerGas, maxPriorityFeePerGas, data?}` (EIP-1559) | `{raw, hash, from}` (`raw` for `eth_sendRawTransaction`) |
//! | `evmSignPersonalMessage(prf, req)` | `{message}` (text) or `{messageHex}` (EIP-191), `view?` (the `messageView` approved: then signed only if the bytes still show so) | `{signature, address}` (65 bytes, v = 27/28) |
//! | `evmSignTypedData(prf, req)` | `{typedData}` (the `eth_signTypedData_v4` object or its JSON) | `{signature, address, hash}` |
//! | `solanaSignTransfer(prf, req)` | `{to, lamports, recentBlockhash}` | `{transaction, signature, from, decoded}` (`transaction`: base64 wire bytes; `decoded`: as `solanaDecodeTransaction` gives) |
//! | `solanaSignSplTransfer(prf, req)` | `{mint, to, amount, decimals, createRecipientAccount?, recentBlockhash}` (`to`: the recipient's wallet) | as above + `{sourceTokenAccount, destinationTokenAccount}` |
//! | `solanaDecodeTransaction(transaction)` | base64 wire bytes (no key) | `{fee_payer, recent_blockhash, signatures_required, fee_lamports, actions}` |
//! | `tonSignTransfer(prf, req)` | `{to, amountNano, comment?, seqno, validUntil}` (wallet v4R2) | `{boc, hash, signedHash, from}` (`boc`: base64, for `sendBoc`) |
//! | `bitcoinReviewPsbt(prf, req)` | `{network, psbt}` (base64) | the review: inputs, outputs, change, fee, … |
//! | `bitcoinSignPsbt(prf, req)` | `{network, psbt, review}` (the review approved) | `{psbt, transaction, txid, signedInputs}` |
//! | `evmBuildSend(req)` | `{from, chainId, nonce, to, value, gasLimit, maxFeePerGas, maxPriorityFeePerGas, symbol, token?}` (no key; `token`: `{contract, symbol, decimals}` as read from the contract, `value` then in its base units) | `{payload, summary}`: the unsigned EIP-1559 payload (an ERC-20 `transfer` for a token) and its decoding (`EvmTxSummary`) for the confirmation screen |
//! | `erc20Encode(req)` | `{call: "balanceOf", owner}`, `{call: "symbol"}`, `{call: "decimals"}` or `{call: "transfer", to, amount}` (no key) | the `eth_call` data, `0x` hex |
//! | `erc20Decode(call, result)` | `balanceOf`, `symbol` or `decimals`, and the `eth_call` result | the balance (decimal string), the decimals (number) or the symbol, decoded strictly |
//! | `evmSignReviewed(prf, req)` | `{account?, payload, summary}` (the summary approved) | `{raw, hash, from}`, only if the payload still decodes to that summary |
//! | `messageView(req)` | `{message}` or `{messageHex}` (no key) | `{text, hex, length}`: what a message screen shows (`text` only when readable) |
//! | `evmDecodeTypedData(typedData)` | the `eth_signTypedData_v4` object or its JSON (no key) | `{domain, primary_type, message, signing_hash}` (`TypedDataView`) |
//! | `evmSignTypedDataReviewed(prf, req)` | `{account?, typedData, view}` (the view approved) | `{signature, address, hash}`, only if the typed data still decodes to that view |
//! | `solanaSignOffchainMessage(prf, req)` | `{account?, message, view?}` (text) | `{signature, address, signedMessage}` (base58; the exact bytes signed, hex) |
//! | `tronSignMessage(prf, req)` | `{account?, message}` or `{account?, messageHex}` (TIP-191), `view?` | `{signature, address}` (65 bytes, v = 27/28) |
//! | `solanaBuildSend(req)` | `{from, to, amount, recentBlockhash, mint?, decimals?, symbol?, createRecipientAccount?}` (no key) | `{transaction, summary}`: the unsigned transaction (base64) and its decoding (`SolanaSendSummary`) |
//! | `solanaSignReviewed(prf, req)` | `{account?, transaction, summary}` (the summary approved) | as `solanaSignTransfer`, only if the bytes still decode to that summary |
//! | `solanaTokenAccount(req)` | `{owner, mint}` | the owner's associated token account (base58) |
//! | `tonBuildSend(req)` | `{from, to, amountNano, comment?, seqno, validUntil, now}` (no key) | `{body, feeBody, summary}`: the unsigned v4R2 body (base64 BOC), the body for `estimateFee`, and its decoding (`TonTransferSummary`) |
//! | `tonSignReviewed(prf, req)` | `{account?, body, summary, now}` (the summary approved; `now`: the page's clock) | as `tonSignTransfer`, only if the body still decodes to that summary and `valid_until` is in (now, now + 600] |
//! | `tronBuildSend(req)` | `{from, to, amount, token?: {contract, symbol, decimals}, feeLimitSun?, block}` (`block`: `/wallet/getnowblock`'s answer; no key) | `{rawData, parameter?, summary}`: the unsigned `raw_data` (hex), the TRC-20 call's arguments for the energy estimate, and its decoding (`TronTxSummary`) |
//! | `tronSignReviewed(prf, req)` | `{account?, rawData, summary}` (the summary approved) | `{txid, signature, transaction}` (`transaction`: the body of `/wallet/broadcasttransaction`), only if the bytes still decode to that summary |
//! | `bitcoinAccountAddresses(prf, req)` | `{network, receive, change}` (1–20 each) | `{receive: [address], change: [address]}` of the BIP-84 account 0 (public) |
//! | `bitcoinPlanSend(prf, req)` | `{network, recipient, amountSat? \| all, feeRate, changeIndex, coins: [{address, utxos}], prevTxs: [hex]}` | `{psbt, review, confirmation}`: coin selection, change and fee by the wallet crate; sign with `bitcoinSignPsbt(prf, {network, psbt, review})` |
//! | `bitcoinHistory(req)` | `{network, addresses, bodies}`: the account's receive and change addresses and Esplora's `GET /address/:a/txs` reply of each (no key) | the history entries, newest first (`history::Entry`, docs/wallet.md "History") |
//! | `solanaHistory(req)` | `{owner, signatures, transactions, mints}`: `getSignaturesForAddress`'s result, `getTransaction`'s per signature (no key) | the history entries |
//! | `evmHistoryQuery(req)` | `{owner, contracts, fromBlock, toBlock}` (no key) | the two `eth_getLogs` filters (Transfer from and to the owner) |
//! | `evmHistory(req)` | `{owner, logs, sent, tokens, native}` (logs, this browser's broadcasts with transaction and receipt; no key) | the history entries |
//! | `tonHistory(reply)` | toncenter's `getTransactions` reply (no key) | the history entries |
//! | `tronHistory(req)` | `{owner, transactions, trc20, tokens}`: TronGrid's `/v1/accounts/:a/transactions` and `…/trc20` replies, and the tokens whose symbol and decimals the page trusts (no key) | the history entries |
//! | `splMintDecimals(result)` | `getAccountInfo`'s result for a mint (base64 encoding; no key) | the mint's decimals |
//! | `splBalance(req)` | `{owner, mint, result}`: `getTokenAccountsByOwner`'s result (base64; no key) | the owner's balance of the mint, base units |
//! | `trc20Encode(req)` | `{call: "symbol" \| "decimals"}` or `{call: "balanceOf", owner}` (no key) | `{functionSelector, parameter}` for `/wallet/triggerconstantcontract` |
//! | `trc20Decode(call, result)` | the call and `constant_result[0]` (hex) | as `erc20Decode` |
//! | `parseUnits(text, decimals)` | what a person typed (`"0.25"`) | base units, decimal string |
//! | `formatUnits(raw, decimals)` | `raw`: base units as decimal digits or `0x` hex (a JSON-RPC quantity); `decimals` 0–77 | the exact decimal string (`"1.5"`), trailing zeros dropped, no symbol |
//! | `qrCode(text)` | public text (an address), 1–256 bytes | `{size, path}`: modules a side, SVG path of the dark modules |
//! | `walletRecoveryPhrase(prf)` | — | `{words}`: the 24 BIP-39 words of the wallet entropy (the settings page shows them after a passkey ceremony of its own) |
//! | `walletErrorCodes()` | — | every error code, in order |
//! | `walletSelectKey(req)` | `{userId, credentialId, origin, envelope?}`: the passkey that answered the ceremony and the server's keyring (public) | `{source}` (`origin` or `envelope`); throws `no_wallet` when the passkey can open none. The next operation (one only) opens that wallet ([`bridge::keyring`]) |
//! | `walletSelectOwnKey()` | — | `{source: "own"}`: the next operation opens the PRF output's own wallet (for a caller that means it: tests, a single-passkey tool). Without any selection an operation throws `no_selection` |
//! | `walletForgetKey()` | — | clears a selection |
//! | `walletSealEnvelope(prf, newPrf, req)` | `{userId, credentialId}` (the new passkey) | `{credentialId, envelope}`: the wallet `prf` opens (under the selection) sealed to the new passkey (docs/protocol.md §2.1); zeroes both |
//!
//! A failure throws an `Error` whose `code` is one of [`bridge::Code`]'s stable strings
//! (`prf_length`, `bad_request`, `bad_address`, `bad_amount`, `bad_encoding`, `bad_path`,
//! `transaction`, `review_mismatch`, `wallet`, `no_wallet`, `envelope`, `no_selection`) and whose `message`
//! says what is wrong. No error
//! carries secret material.
//!
//! What crosses the boundary: into WebAssembly, the PRF output (zeroed in place at once) and the
//! request (public: recipients, amounts, fees, blockhash, seqno, a PSBT); out of it, public keys'
//! addresses, signed transactions and signatures. One secret leaves, on purpose and only from
//! `walletRecoveryPhrase`: the 24 words, for the person to write down (a passkey ceremony of its
//! own, the page shows them until hidden or locked). There is no export of a key, the seed or
//! the entropy.
//!
//! ## Nothing stays
//!
//! After every call no copy of the PRF output, the key schedule's keys, the wallet entropy, the
//! mnemonic, the seed or any derived private key remains in the module's linear memory:
//! - the secret types of the wallet crate and the core zeroize on drop;
//! - every heap block is overwritten with zeros when it is freed (the global allocator is
//!   `zeroizing_alloc::ZeroAlloc` around the target's allocator), which also catches copies
//!   left by a growing `String` or `Vec` in a library;
//! - the stack the call used is overwritten after it ([`scrub`]).
//!
//! `e2e/tests/chains/memory.test.mjs` loads the built bundle in Node, derives every one of
//! those secrets independently (Node's own HKDF, PBKDF2, HMAC-SHA512 and secp256k1), runs each
//! operation and scans all of `memory.buffer` for each secret and its first 16 bytes.
//!
//! The conversions live in [`bridge`] as plain Rust, tested natively (`tests/bridge.rs`).

pub mod bridge;
pub mod scrub;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::bridge::{Code, Failure};

/// Every heap block is zeroed when freed (see "Nothing stays" above).
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
#[global_allocator]
static ALLOCATOR: zeroizing_alloc::ZeroAlloc<std::alloc::System> =
    zeroizing_alloc::ZeroAlloc(std::alloc::System);

/// A failure as JavaScript sees it: an `Error` with `message` and `code`.
fn js(e: Failure) -> JsValue {
    let err = js_sys::Error::new(e.message());
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&err, &JsValue::from_str("code"), &JsValue::from_str(e.code().as_str()));
    err.into()
}

/// The request as JSON text: a string is taken as JSON text, anything else is stringified.
fn json_of(request: &JsValue) -> Result<String, Failure> {
    if let Some(s) = request.as_string() {
        return Ok(s);
    }
    js_sys::JSON::stringify(request)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| Failure::new(Code::BadRequest, "the request must be an object"))
}

/// Runs one operation, then scrubs the stack it used. Only `run`'s frame and those below it
/// ever hold a secret; this frame holds the (public) answer.
fn call<T: Serialize>(op: impl FnOnce() -> Result<T, Failure>) -> Result<JsValue, JsValue> {
    let out = run(op);
    scrub::stack();
    out
}

/// [`call`] for a signing operation: the request as JSON text, and the PRF output zeroed even
/// when the request is not even an object.
fn signing<T: Serialize>(
    prf: &mut [u8],
    request: &JsValue,
    op: fn(&mut [u8], &str) -> Result<T, Failure>,
) -> Result<JsValue, JsValue> {
    call(|| match json_of(request) {
        Ok(json) => op(prf, &json),
        Err(e) => {
            zeroize::Zeroize::zeroize(prf);
            Err(e)
        }
    })
}

#[inline(never)]
fn run<T: Serialize>(op: impl FnOnce() -> Result<T, Failure>) -> Result<JsValue, JsValue> {
    let text = op().and_then(|v| bridge::answer(&v)).map_err(js)?;
    js_sys::JSON::parse(&text)
}

/// A JavaScript number as an address index (a whole number below 2^31).
fn index(account: f64) -> Result<u32, Failure> {
    if account.fract() == 0.0 && (0.0..2_147_483_648.0).contains(&account) {
        // In range and whole: the conversion is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(account as u32)
    } else {
        Err(Failure::new(Code::BadPath, "the account index must be a whole number from 0 to 2^31 - 1"))
    }
}

/// Every error code, in declaration order (the web app's list is checked against it).
#[wasm_bindgen(js_name = walletErrorCodes)]
pub fn wallet_error_codes() -> Vec<String> {
    Code::ALL.iter().map(|c| c.as_str().to_owned()).collect()
}

/// Selects the wallet the next operation opens: `{userId, credentialId, origin, envelope?}`
/// (public: the passkey that answered and the server's keyring). Throws `no_wallet` when that
/// passkey can open none.
#[wasm_bindgen(js_name = walletSelectKey)]
pub fn wallet_select_key(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::keyring::select(&j)))
}

/// Selects the PRF output's own wallet for the next operation (a caller that means it; no
/// selection at all is `no_selection`).
#[wasm_bindgen(js_name = walletSelectOwnKey)]
pub fn wallet_select_own_key() -> Result<JsValue, JsValue> {
    call(|| Ok(bridge::keyring::select_own()))
}

/// Clears a key selection.
#[wasm_bindgen(js_name = walletForgetKey)]
pub fn wallet_forget_key() {
    bridge::keyring::forget();
}

/// Seals the wallet that `prf` opens to the new passkey of `new_prf`: `{userId, credentialId}`
/// → `{credentialId, envelope}`. Zeroes both PRF outputs.
#[wasm_bindgen(js_name = walletSealEnvelope)]
pub fn wallet_seal_envelope(
    prf: &mut [u8],
    new_prf: &mut [u8],
    request: JsValue,
) -> Result<JsValue, JsValue> {
    call(|| match json_of(&request) {
        Ok(json) => bridge::keyring::seal(prf, new_prf, &json),
        Err(e) => {
            zeroize::Zeroize::zeroize(prf);
            zeroize::Zeroize::zeroize(new_prf);
            Err(e)
        }
    })
}

/// Builds a native-coin EIP-1559 send and decodes it for the confirmation screen. Takes no key.
#[wasm_bindgen(js_name = evmBuildSend)]
pub fn evm_build_send(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::evm::build_send(&j)))
}

/// The `eth_call` data of an ERC-20 read (`balanceOf`, `symbol`, `decimals`) or of a
/// `transfer` (for a gas estimate), `0x` hex. Takes no key.
#[wasm_bindgen(js_name = erc20Encode)]
pub fn erc20_encode(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::erc20::encode(&j)))
}

/// A token contract's reply to `call` (`balanceOf`, `symbol`, `decimals`), decoded strictly.
#[wasm_bindgen(js_name = erc20Decode)]
pub fn erc20_decode(call_name: &str, result: &str) -> Result<JsValue, JsValue> {
    call(|| bridge::erc20::decode(call_name, result))
}

/// What a message screen shows (`{message}` or `{messageHex}`): `{text, hex, length}`. No key.
#[wasm_bindgen(js_name = messageView)]
pub fn message_view(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::message::view(&j)))
}

/// EIP-712 typed data decoded for the signing screen. No key.
#[wasm_bindgen(js_name = evmDecodeTypedData)]
pub fn evm_decode_typed_data(typed_data: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&typed_data).and_then(|j| bridge::evm::decode_typed_data(&j)))
}

/// Signs EIP-712 typed data only if it decodes to the approved view. Zeroes `prf`.
#[wasm_bindgen(js_name = evmSignTypedDataReviewed)]
pub fn evm_sign_typed_data_reviewed(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::evm::sign_typed_data_reviewed)
}

/// Signs a Solana off-chain message. Zeroes `prf`.
#[wasm_bindgen(js_name = solanaSignOffchainMessage)]
pub fn solana_sign_offchain_message(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::message::solana_sign_offchain)
}

/// Signs a TRON TIP-191 message. Zeroes `prf`.
#[wasm_bindgen(js_name = tronSignMessage)]
pub fn tron_sign_message(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::message::tron_sign_message)
}

/// Signs an EIP-1559 payload only if it decodes to the approved summary. Zeroes `prf`.
#[wasm_bindgen(js_name = evmSignReviewed)]
pub fn evm_sign_reviewed(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::evm::sign_reviewed)
}

/// What a person typed as base units of `decimals` decimals (a decimal string).
#[wasm_bindgen(js_name = parseUnits)]
pub fn parse_units(text: &str, decimals: u32) -> Result<String, JsValue> {
    bridge::show::parse_units(text, decimals).map_err(js)
}

/// `raw` base units as an exact decimal number with `decimals` decimals (no symbol).
#[wasm_bindgen(js_name = formatUnits)]
pub fn format_units(raw: &str, decimals: u32) -> Result<String, JsValue> {
    bridge::show::format_units(raw, decimals).map_err(js)
}

/// The QR code of `text` (public: an address): `{size, path}`.
#[wasm_bindgen(js_name = qrCode)]
pub fn qr_code(text: &str) -> Result<JsValue, JsValue> {
    call(|| bridge::show::qr(text))
}

/// The addresses of account `account` on the five chains: `[{chain, path, address}]`.
/// Zeroes `prf`.
#[wasm_bindgen(js_name = walletAddresses)]
pub fn wallet_addresses(prf: &mut [u8], account: f64) -> Result<JsValue, JsValue> {
    call(|| match index(account) {
        Ok(i) => bridge::addresses(prf, i),
        Err(e) => {
            zeroize::Zeroize::zeroize(prf);
            Err(e)
        }
    })
}

/// The recovery phrase (`{words}`: the wallet entropy's 24 BIP-39 words), for the settings
/// page to show after a passkey ceremony of its own. Zeroes `prf`.
#[wasm_bindgen(js_name = walletRecoveryPhrase)]
pub fn wallet_recovery_phrase(prf: &mut [u8]) -> Result<JsValue, JsValue> {
    call(|| bridge::recovery::phrase(prf))
}

/// Signs an EIP-1559 transaction. Zeroes `prf`.
#[wasm_bindgen(js_name = evmSignTransaction)]
pub fn evm_sign_transaction(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::evm::sign_transaction)
}

/// Signs an EIP-191 personal message. Zeroes `prf`.
#[wasm_bindgen(js_name = evmSignPersonalMessage)]
pub fn evm_sign_personal_message(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::evm::sign_personal)
}

/// Signs EIP-712 typed data. Zeroes `prf`.
#[wasm_bindgen(js_name = evmSignTypedData)]
pub fn evm_sign_typed_data(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::evm::sign_typed_data)
}

/// Signs a SOL transfer. Zeroes `prf`.
#[wasm_bindgen(js_name = solanaSignTransfer)]
pub fn solana_sign_transfer(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::solana::sign_transfer)
}

/// Signs an SPL token transfer. Zeroes `prf`.
#[wasm_bindgen(js_name = solanaSignSplTransfer)]
pub fn solana_sign_spl_transfer(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::solana::sign_spl_transfer)
}

/// What a Solana transaction (base64 wire bytes) does, decoded from its bytes. Takes no key.
#[wasm_bindgen(js_name = solanaDecodeTransaction)]
pub fn solana_decode_transaction(transaction: &str) -> Result<JsValue, JsValue> {
    call(|| bridge::solana::decode(transaction))
}

/// Signs a TON v4R2 transfer. Zeroes `prf`.
#[wasm_bindgen(js_name = tonSignTransfer)]
pub fn ton_sign_transfer(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::ton::sign_transfer)
}

/// Reviews a PSBT. Zeroes `prf`.
#[wasm_bindgen(js_name = bitcoinReviewPsbt)]
pub fn bitcoin_review_psbt(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::bitcoin::review)
}

/// Signs a PSBT that still has the approved review. Zeroes `prf`.
#[wasm_bindgen(js_name = bitcoinSignPsbt)]
pub fn bitcoin_sign_psbt(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::bitcoin::sign_psbt)
}

/// Builds a SOL or SPL send, unsigned, and decodes it for the confirmation screen. Takes no key.
#[wasm_bindgen(js_name = solanaBuildSend)]
pub fn solana_build_send(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::solana_send::build_send(&j)))
}

/// Signs a Solana send only if it still decodes to the approved summary. Zeroes `prf`.
#[wasm_bindgen(js_name = solanaSignReviewed)]
pub fn solana_sign_reviewed(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::solana_send::sign_reviewed)
}

/// `{owner, mint}` → the owner's associated token account for the mint (base58). Takes no key.
#[wasm_bindgen(js_name = solanaTokenAccount)]
pub fn solana_token_account(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::solana_send::token_account(&j)))
}

/// Builds a TON v4R2 transfer, unsigned, and decodes it for the confirmation screen. Takes no key.
#[wasm_bindgen(js_name = tonBuildSend)]
pub fn ton_build_send(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::ton_send::build_send(&j)))
}

/// Signs a TON transfer only if its body still decodes to the approved summary. Zeroes `prf`.
#[wasm_bindgen(js_name = tonSignReviewed)]
pub fn ton_sign_reviewed(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::ton_send::sign_reviewed)
}

/// Builds a TRX or TRC-20 send (the `raw_data` protobuf), unsigned, and decodes it for the
/// confirmation screen. Takes no key.
#[wasm_bindgen(js_name = tronBuildSend)]
pub fn tron_build_send(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::tron_send::build_send(&j)))
}

/// Signs a TRON `raw_data` only if it still decodes to the approved summary. Zeroes `prf`.
#[wasm_bindgen(js_name = tronSignReviewed)]
pub fn tron_sign_reviewed(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::tron_send::sign_reviewed)
}

/// The BIP-84 account's first receive and change addresses (public). Zeroes `prf`.
#[wasm_bindgen(js_name = bitcoinAccountAddresses)]
pub fn bitcoin_account_addresses(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::bitcoin_send::account_addresses)
}

/// Plans a payment over the coins the page fetched: `{psbt, review, confirmation}`. Zeroes `prf`.
#[wasm_bindgen(js_name = bitcoinPlanSend)]
pub fn bitcoin_plan_send(prf: &mut [u8], request: JsValue) -> Result<JsValue, JsValue> {
    signing(prf, &request, bridge::bitcoin_send::plan)
}

/// Bitcoin history: `{network, addresses, bodies}` (Esplora's `/address/:a/txs` of each
/// address) → entries, newest first. Takes no key.
#[wasm_bindgen(js_name = bitcoinHistory)]
pub fn bitcoin_history(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::history::bitcoin(&j)))
}

/// TON history: toncenter's `getTransactions` reply → entries, newest first. Takes no key.
#[wasm_bindgen(js_name = tonHistory)]
pub fn ton_history(reply: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&reply).and_then(|j| bridge::history::ton(&j)))
}

/// TRON history: `{owner, transactions, trc20, tokens}` (TronGrid's replies, the trusted
/// tokens) → entries, newest first. Takes no key.
#[wasm_bindgen(js_name = tronHistory)]
pub fn tron_history(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::history::tron(&j)))
}

/// An SPL mint's decimals from `getAccountInfo`'s result (base64 encoding). Takes no key.
#[wasm_bindgen(js_name = splMintDecimals)]
pub fn spl_mint_decimals(result: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&result).and_then(|j| bridge::tokens::spl_mint_decimals(&j)))
}

/// `{owner, mint, result}` (`getTokenAccountsByOwner`'s result, base64) → the balance in base
/// units, a decimal string. Takes no key.
#[wasm_bindgen(js_name = splBalance)]
pub fn spl_balance(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::tokens::spl_balance(&j)))
}

/// `{call, owner?}` → `{functionSelector, parameter}` for `/wallet/triggerconstantcontract`.
/// Takes no key.
#[wasm_bindgen(js_name = trc20Encode)]
pub fn trc20_encode(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::tokens::trc20_encode(&j)))
}

/// A TRC-20 contract's `constant_result[0]` (hex) for `call`, decoded strictly. Takes no key.
#[wasm_bindgen(js_name = trc20Decode)]
pub fn trc20_decode(call_name: &str, result: &str) -> Result<JsValue, JsValue> {
    call(|| bridge::tokens::trc20_decode(call_name, result))
}

/// Solana history: `{owner, signatures, transactions, mints}` (`getSignaturesForAddress` and
/// `getTransaction` results, the known mints) → entries, newest first. Takes no key.
#[wasm_bindgen(js_name = solanaHistory)]
pub fn solana_history(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::history::solana(&j)))
}

/// The `eth_getLogs` filters of the EVM history: `{owner, contracts, fromBlock, toBlock}` →
/// `[from the owner, to the owner]`. Takes no key.
#[wasm_bindgen(js_name = evmHistoryQuery)]
pub fn evm_history_query(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::history::evm_query(&j)))
}

/// EVM history: `{owner, logs, sent, tokens, native}` → entries, newest first. Takes no key.
#[wasm_bindgen(js_name = evmHistory)]
pub fn evm_history(request: JsValue) -> Result<JsValue, JsValue> {
    call(|| json_of(&request).and_then(|j| bridge::history::evm(&j)))
}
