//! Edits of real ceremony responses, for the server's strict-WebAuthn tests: what a hostile
//! client (or a page framed by another site) could post. An edited assertion is signed again
//! with the device's own credential key, so webauthn-rs sees a valid signature and only the
//! server's own checks stand in the way.

use std::collections::BTreeMap;

use anyhow::{Context, anyhow};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use passkey_crypto::SecretKeyT as _;
use serde_cbor_2::Value as Cbor;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::Device;

fn bytes(v: &Value) -> anyhow::Result<Vec<u8>> {
    let s = v.as_str().context("not a base64url string")?;
    Ok(B64.decode(s.trim_end_matches('='))?)
}

/// Edits the JSON of `clientDataJSON` bytes (as a browser serialized it).
pub fn client_data(cd: &mut Vec<u8>, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(cd) {
        edit(&mut m);
        *cd = serde_json::to_vec(&Value::Object(m)).unwrap_or_default();
    }
}

impl Device {
    /// Edits an assertion this device made — its `clientDataJSON` and `authenticatorData`
    /// bytes — and signs `authenticatorData ‖ SHA-256(clientDataJSON)` again with the
    /// credential's private key, as an authenticator would have.
    pub fn resign_assertion(
        &self,
        credential: &mut Value,
        edit: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>),
    ) -> anyhow::Result<()> {
        let raw_id = bytes(&credential["rawId"])?;
        let mut cd = bytes(&credential["response"]["clientDataJSON"])?;
        let mut ad = bytes(&credential["response"]["authenticatorData"])?;
        edit(&mut cd, &mut ad);
        let passkey = self.snapshot().0.get(&raw_id).cloned().context("no such credential on this device")?;
        let mut key = passkey_crypto::AvailableSecretKey::from_cose_key(&passkey.key)
            .map_err(|e| anyhow!("credential key: {e:?}"))?;
        let mut target = ad.clone();
        target.extend_from_slice(&Sha256::digest(&cd));
        let signature = key.sign(&target);
        let response = &mut credential["response"];
        response["clientDataJSON"] = Value::String(B64.encode(&cd));
        response["authenticatorData"] = Value::String(B64.encode(&ad));
        response["signature"] = Value::String(B64.encode(&signature));
        Ok(())
    }
}

/// Edits a registration response: its `clientDataJSON` bytes and the attestation object's map
/// (`fmt`, `attStmt`, `authData`). `none` attestation carries no signature, so nothing needs
/// signing again.
pub fn registration(
    credential: &mut Value,
    edit: impl FnOnce(&mut Vec<u8>, &mut BTreeMap<Cbor, Cbor>),
) -> anyhow::Result<()> {
    let mut cd = bytes(&credential["response"]["clientDataJSON"])?;
    let att = bytes(&credential["response"]["attestationObject"])?;
    let Cbor::Map(mut map) = serde_cbor_2::from_slice(&att)? else {
        anyhow::bail!("the attestation object is not a map")
    };
    edit(&mut cd, &mut map);
    let response = &mut credential["response"];
    response["clientDataJSON"] = Value::String(B64.encode(&cd));
    response["attestationObject"] = Value::String(B64.encode(serde_cbor_2::to_vec(&Cbor::Map(map))?));
    Ok(())
}

/// The attestation object's `authData` bytes (for [`registration`]'s `edit`).
pub fn auth_data(map: &mut BTreeMap<Cbor, Cbor>) -> Option<&mut Vec<u8>> {
    match map.get_mut(&Cbor::Text("authData".into())) {
        Some(Cbor::Bytes(b)) => Some(b),
        _ => None,
    }
}

/// Replaces the credential id inside registration authenticator data (attested credential
/// data: AAGUID, 2-byte length, id) with `id`.
pub fn replace_credential_id(auth_data: &mut Vec<u8>, id: &[u8]) -> anyhow::Result<()> {
    let at = 37 + 16;
    let len = usize::from(u16::from_be_bytes(
        auth_data.get(at..at + 2).context("no attested credential data")?.try_into()?,
    ));
    let rest = auth_data.get(at + 2 + len..).context("short attested credential data")?.to_vec();
    auth_data.truncate(at);
    auth_data.extend_from_slice(&u16::try_from(id.len())?.to_be_bytes());
    auth_data.extend_from_slice(id);
    auth_data.extend_from_slice(&rest);
    Ok(())
}
