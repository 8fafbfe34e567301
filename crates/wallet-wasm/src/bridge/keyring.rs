//! Which wallet a passkey opens (docs/protocol.md §2.1, docs/wallet.md "More than one device").
//!
//! A person's wallet is the wallet entropy of their **origin passkey**; another passkey of theirs
//! opens it through a wallet envelope. Before each passkey ceremony's PRF output is handed to an
//! operation, the page tells the module which passkey answered and what the server's keyring
//! says about it ([`select`]: public data only). [`super::sign`] — the one place every operation
//! takes its PRF output — then derives the wallet from the selection:
//!
//! - the passkey is the origin → its own wallet entropy;
//! - the server holds an envelope for it → the entropy inside, opened with the passkey's key
//!   schedule (a failure is [`Code::Envelope`]: never a fallback to the passkey's own wallet);
//! - neither → [`select`] refuses with [`Code::NoWallet`], and the page does not run the ceremony's
//!   operation.
//!
//! A selection holds no secret and is used by the next operation only (taken when it starts,
//! whatever happens): a later ceremony, perhaps by another passkey, must select again. With no
//! selection an operation opens **no** wallet ([`Code::NoSelection`]): after a refused
//! [`select`] (which clears the slot), or a selection another call already took, the next
//! operation fails instead of using the PRF output's own wallet — which, for a seal, would be
//! permanent (envelopes are create-only). A caller that means the passkey's own wallet says so
//! with [`select_own`] (tests, and callers without a keyring).
//!
//! The page runs [`select`] and the operation back to back in one synchronous stretch of
//! JavaScript and clears the slot ([`forget`]) right after (`web/js/keyring.js`, `withKey`), so
//! two wallet flows of the same page can never cross: no other flow runs in between, and an
//! operation that did not start in that stretch finds no selection.

use std::cell::RefCell;

use blindvault_core::encoding::b64;
use blindvault_core::schedule::KeySchedule;
use blindvault_core::wallet_envelope::{self, WalletEnvelope};
use blindvault_wallet::{PrfOutput, WalletEntropy};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::{Code, Failure, request};

/// The wallet the next operation opens.
enum Selected {
    /// The passkey's own wallet entropy (it is the origin, or the caller said so:
    /// [`select_own`]).
    Origin,
    /// The entropy in this envelope, sealed to the passkey `credential_id` of `user_id`.
    Envelope { user_id: String, credential_id: Vec<u8>, envelope: WalletEnvelope },
}

thread_local! {
    static SELECTED: RefCell<Option<Selected>> = const { RefCell::new(None) };
}

/// `walletSelectKey` request: the passkey that answered the ceremony, and the server's keyring.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelectRequest {
    /// The person's user id (bound into every envelope).
    pub user_id: String,
    /// The passkey that answered (credential id, base64url as the browser gives it).
    pub credential_id: String,
    /// The keyring's origin passkey (`null`: none recorded).
    pub origin: Option<String>,
    /// The keyring's envelope for `credential_id`, if any (base64url).
    #[serde(default)]
    pub envelope: Option<String>,
}

/// What the selection opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Selection {
    /// `origin` or `envelope`.
    pub source: &'static str,
}

fn credential(what: &str, s: &str) -> Result<Vec<u8>, Failure> {
    let raw =
        b64::decode(s).map_err(|_| Failure::new(Code::BadEncoding, format!("{what} is not base64url")))?;
    if raw.is_empty() {
        return Err(Failure::new(Code::BadEncoding, format!("{what} is empty")));
    }
    Ok(raw)
}

/// Selects the wallet the next operation opens (see the module doc). Refuses, and leaves nothing
/// selected, when the passkey can open no wallet: no origin yet, or neither the origin nor an
/// envelope holder.
pub fn select(json: &str) -> Result<Selection, Failure> {
    forget();
    let r: SelectRequest = request("the key selection", json)?;
    let raw = credential("the credential id", &r.credential_id)?;
    let Some(origin) = r.origin else {
        return Err(Failure::new(
            Code::NoWallet,
            "your wallet has no origin passkey yet: open it once with the passkey whose wallet is yours",
        ));
    };
    let selected = if credential("the origin's credential id", &origin)? == raw {
        Selected::Origin
    } else if let Some(text) = r.envelope {
        let bytes = b64::decode(&text).map_err(|_| {
            Failure::new(Code::Envelope, "the wallet envelope of this passkey is not base64url")
        })?;
        let envelope = WalletEnvelope::from_bytes(&bytes)
            .map_err(|e| Failure::new(Code::Envelope, format!("the wallet envelope of this passkey: {e}")))?;
        Selected::Envelope { user_id: r.user_id, credential_id: raw, envelope }
    } else {
        return Err(Failure::new(
            Code::NoWallet,
            "this passkey cannot open your wallet yet: open the wallet on a device whose passkey can, and add this passkey there",
        ));
    };
    let source = match selected {
        Selected::Origin => "origin",
        Selected::Envelope { .. } => "envelope",
    };
    SELECTED.with(|s| *s.borrow_mut() = Some(selected));
    Ok(Selection { source })
}

/// Selects the PRF output's own wallet for the next operation: for a caller that means it (a
/// single-passkey tool, the tests), never inferred from a missing selection.
pub fn select_own() -> Selection {
    SELECTED.with(|s| *s.borrow_mut() = Some(Selected::Origin));
    Selection { source: "own" }
}

/// Clears the selection.
pub fn forget() {
    SELECTED.with(|s| s.borrow_mut().take());
}

/// The selection for the operation starting now (it is cleared: one operation each).
pub(crate) fn take() -> Option<Taken> {
    SELECTED.with(|s| s.borrow_mut().take()).map(Taken)
}

/// A taken selection (opaque outside this module).
pub(crate) struct Taken(Selected);

/// The one place the wallet entropy comes from: runs `op` on the entropy that `prf` opens under
/// `selection` (none: [`Code::NoSelection`], no wallet) — the key schedule's
/// `blindvault/v1/wallet-entropy` (docs/protocol.md §2) as the origin, or the entropy inside the selected envelope (§2.1). The schedule and any
/// opened entropy are zeroized before this returns.
pub(crate) fn open_entropy<T>(
    prf: &PrfOutput,
    selection: Option<Taken>,
    op: impl FnOnce(&WalletEntropy) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let Some(Taken(selected)) = selection else {
        return Err(Failure::new(
            Code::NoSelection,
            "no wallet was selected for this passkey ceremony: select the passkey that answered first",
        ));
    };
    let schedule = KeySchedule::derive(prf);
    match selected {
        Selected::Origin => op(schedule.wallet_entropy()),
        Selected::Envelope { user_id, credential_id, envelope } => {
            let entropy = wallet_envelope::open(&envelope, &schedule, &user_id, &credential_id).map_err(|_| {
                Failure::new(
                    Code::Envelope,
                    "this passkey's wallet envelope does not open: it was not sealed to this passkey, or it was changed",
                )
            })?;
            op(&entropy)
        }
    }
}

/// `walletSealEnvelope` request: the new passkey.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SealRequest {
    /// The person's user id.
    pub user_id: String,
    /// The new passkey (credential id, base64url).
    pub credential_id: String,
}

/// A sealed envelope, for `PUT /api/wallet/keyring/envelopes/{credentialId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sealed {
    /// The new passkey.
    #[serde(rename = "credentialId")]
    pub credential_id: String,
    /// `0x01 ‖ enc ‖ ct`, base64url.
    pub envelope: String,
}

/// Seals the wallet that `current` opens (under the selection, as every operation) to the
/// passkey whose PRF output is `new`. Both PRF outputs are overwritten with zeros at once.
pub fn seal(current: &mut [u8], new: &mut [u8], json: &str) -> Result<Sealed, Failure> {
    let selection = take();
    let (a, b) = (PrfOutput::from_slice(current), PrfOutput::from_slice(new));
    current.zeroize();
    new.zeroize();
    let bad = || Failure::new(Code::PrfLength, "the passkey's PRF output must be 32 bytes");
    let (current, new) = (a.map_err(|_| bad())?, b.map_err(|_| bad())?);
    if current.expose() == new.expose() {
        return Err(Failure::new(Code::BadRequest, "the new passkey is the one that opened the wallet"));
    }
    let r: SealRequest = request("the envelope", json)?;
    let raw = credential("the new credential id", &r.credential_id)?;
    let to = KeySchedule::derive(&new);
    drop(new);
    let sealed = open_entropy(&current, selection, |entropy| {
        wallet_envelope::seal(entropy, &to, &r.user_id, &raw, &mut blindvault_core::rng::os_rng())
            .map_err(|e| Failure::new(Code::Wallet, format!("sealing the envelope: {e}")))
    })?;
    Ok(Sealed { credential_id: r.credential_id, envelope: b64::encode(&sealed.to_bytes()) })
}
