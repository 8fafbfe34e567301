//! A software authenticator's credentials as JSON, so that a test fixture (a database made by an
//! earlier release) can keep the passkeys its approvers signed in with: private keys, PRF
//! (hmac-secret) secrets and counters. Test material only — never a format for real keys.

use anyhow::Context as _;
use passkey_crypto::coset::{CborSerializable as _, CoseKey};
use passkey_types::{Bytes, CredentialExtensions, Passkey, StoredHmacSecret};
use serde_json::{Value, json};

use crate::SoftStore;
use crate::broker::{b64, b64_decode};

/// Every credential of `store`.
pub fn store_to_json(store: &SoftStore) -> anyhow::Result<Value> {
    let mut out = Vec::new();
    for p in store.0.values() {
        let key = p.key.clone().to_vec().map_err(|e| anyhow::anyhow!("COSE key: {e:?}"))?;
        let hmac = p.extensions.hmac_secret.as_ref();
        out.push(json!({
            "key": b64(&key),
            "credential_id": b64(&p.credential_id),
            "rp_id": p.rp_id,
            "user_handle": p.user_handle.as_ref().map(|h| b64(h)),
            "username": p.username,
            "user_display_name": p.user_display_name,
            "counter": p.counter,
            "hmac_with_uv": hmac.map(|h| b64(&h.cred_with_uv)),
            "hmac_without_uv": hmac.and_then(|h| h.cred_without_uv.as_ref().map(|c| b64(c))),
        }));
    }
    Ok(Value::Array(out))
}

/// The credentials [`store_to_json`] wrote.
pub fn store_from_json(v: &Value) -> anyhow::Result<SoftStore> {
    let mut store = SoftStore::default();
    for p in v.as_array().context("a list of credentials")? {
        let text = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_owned);
        let bytes =
            |k: &str| -> anyhow::Result<Option<Vec<u8>>> { text(k).map(|s| b64_decode(&s)).transpose() };
        let key = CoseKey::from_slice(&bytes("key")?.context("key")?)
            .map_err(|e| anyhow::anyhow!("COSE key: {e:?}"))?;
        let credential_id = bytes("credential_id")?.context("credential_id")?;
        let hmac_secret = bytes("hmac_with_uv")?
            .map(|cred_with_uv| -> anyhow::Result<_> {
                Ok(StoredHmacSecret { cred_with_uv, cred_without_uv: bytes("hmac_without_uv")? })
            })
            .transpose()?;
        let passkey = Passkey {
            key,
            credential_id: Bytes::from(credential_id.clone()),
            rp_id: text("rp_id").context("rp_id")?,
            user_handle: bytes("user_handle")?.map(Bytes::from),
            username: text("username"),
            user_display_name: text("user_display_name"),
            counter: p.get("counter").and_then(Value::as_u64).map(u32::try_from).transpose()?,
            extensions: CredentialExtensions { hmac_secret },
        };
        store.0.insert(credential_id, passkey);
    }
    Ok(store)
}
