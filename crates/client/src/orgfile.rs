//! The org key file: the org identity seed, encrypted at rest with a passphrase using age
//! (scrypt recipient). Only the admin's machine has it; the server never sees it.
//!
//! Plaintext inside the age file: `"blindvault/v1/org-key\0" ‖ seed[32]`.
//!
//! The encrypted key file needs feature `org-key` (age and its dependencies: a consumer host
//! has no org key); the public key file does not.

#[cfg(feature = "org-key")]
use std::io::{Read, Write};
use std::path::Path;

#[cfg(feature = "org-key")]
use age::secrecy::SecretString;
use blindvault_core::keys::OrgPublicKey;
#[cfg(feature = "org-key")]
use blindvault_core::keys::OrgSecretKey;
#[cfg(feature = "org-key")]
use zeroize::Zeroizing;

use crate::{ClientError, write_private};

#[cfg(feature = "org-key")]
const MAGIC: &[u8] = b"blindvault/v1/org-key\0";

/// A passphrase. Never printed.
#[cfg(feature = "org-key")]
pub struct Passphrase(SecretString);

#[cfg(feature = "org-key")]
impl Passphrase {
    /// Takes a passphrase (read from a file, a prompt or the environment — never argv).
    pub fn new(s: String) -> Self {
        Self(SecretString::from(s))
    }
}

#[cfg(feature = "org-key")]
impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase([REDACTED])")
    }
}

/// Encrypts `org` to `path` (mode 0600, never overwriting). `work_factor` is scrypt's log2(N)
/// (age picks ~1 s of work when `None`; tests pass a small value).
#[cfg(feature = "org-key")]
pub fn write(
    path: &Path,
    org: &OrgSecretKey,
    pass: &Passphrase,
    work_factor: Option<u8>,
) -> Result<(), ClientError> {
    let mut recipient = age::scrypt::Recipient::new(pass.0.clone());
    if let Some(n) = work_factor {
        recipient.set_work_factor(n);
    }
    let enc = age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
        .map_err(|e| ClientError::Local(format!("age: {e}")))?;
    let mut out = Vec::new();
    let mut w = enc.wrap_output(&mut out).map_err(|e| ClientError::io(path, e))?;
    let mut pt = Zeroizing::new(Vec::with_capacity(MAGIC.len() + 32));
    pt.extend_from_slice(MAGIC);
    pt.extend_from_slice(org.expose());
    w.write_all(&pt).map_err(|e| ClientError::io(path, e))?;
    w.finish().map_err(|e| ClientError::io(path, e))?;
    write_private(path, &out, true)
}

/// Decrypts the org key file.
#[cfg(feature = "org-key")]
pub fn read(path: &Path, pass: &Passphrase) -> Result<OrgSecretKey, ClientError> {
    let data = std::fs::read(path).map_err(|e| ClientError::io(path, e))?;
    let dec = age::Decryptor::new_buffered(data.as_slice())
        .map_err(|_| ClientError::bad_file(path, "not an age-encrypted org key file"))?;
    if !dec.is_scrypt() {
        return Err(ClientError::bad_file(path, "not a passphrase-encrypted org key file"));
    }
    let mut identity = age::scrypt::Identity::new(pass.0.clone());
    identity.set_max_work_factor(24);
    let mut r = dec
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|_| ClientError::OrgKeyLocked)?;
    let mut pt = Zeroizing::new(Vec::new());
    r.read_to_end(&mut pt).map_err(|_| ClientError::OrgKeyLocked)?;
    let seed =
        pt.strip_prefix(MAGIC).ok_or_else(|| ClientError::bad_file(path, "not a blindvault org key"))?;
    OrgSecretKey::from_slice(seed).map_err(|_| ClientError::bad_file(path, "not a blindvault org key"))
}

/// The org public key file written beside the key (`org.pub`): base64url of its canonical bytes.
pub fn write_public(path: &Path, org: &OrgPublicKey) -> Result<(), ClientError> {
    let text = format!("{}\n", blindvault_core::encoding::b64::encode(&org.to_bytes()));
    write_private(path, text.as_bytes(), false)
}

/// Reads a public key file written by [`write_public`].
pub fn read_public(path: &Path) -> Result<OrgPublicKey, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|e| ClientError::io(path, e))?;
    let bytes = blindvault_core::encoding::b64::decode(text.trim())
        .map_err(|_| ClientError::bad_file(path, "not a blindvault org public key"))?;
    OrgPublicKey::from_bytes(&bytes)
        .map_err(|_| ClientError::bad_file(path, "not a blindvault org public key"))
}
