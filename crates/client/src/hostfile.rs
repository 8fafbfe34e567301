//! The host key file of a consumer host: its Ed25519 secret key, its org-signed certificate and
//! the org public key (the consumer accepts a released secret only from an approver device that
//! key vouched for), as JSON, mode 0600. Like an SSH host key it is a machine credential kept on the host; what it
//! can do is bounded by the certificate (entries, expiry), by revocation on the server, and by
//! the human approval every release needs.

use std::path::Path;

use blindvault_core::identity::SignedHostCertificate;
use blindvault_core::keys::{HostSecretKey, OrgPublicKey};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{ClientError, write_private};

/// A host's identity.
pub struct HostKeyFile {
    /// The host's signing key.
    pub secret: HostSecretKey,
    /// Its certificate.
    pub certificate: SignedHostCertificate,
    /// The org key that signed the certificate, pinned when the admin issued the file: responses
    /// are accepted only from approver devices whose enrolment this key signed.
    pub org: OrgPublicKey,
}

/// The file format this version writes and reads. Version 1 had no org key.
const VERSION: u32 = 2;

impl std::fmt::Debug for HostKeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostKeyFile")
            .field("secret", &self.secret)
            .field("host", &self.certificate.cert.host_name)
            .field("org", &self.org.fingerprint().to_string())
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    host_secret: String,
    certificate: SignedHostCertificate,
    #[serde(default)]
    org_public_key: Option<OrgPublicKey>,
}

impl HostKeyFile {
    /// Writes the file (mode 0600, never overwriting).
    pub fn write(&self, path: &Path) -> Result<(), ClientError> {
        let disk = OnDisk {
            version: VERSION,
            host_secret: blindvault_core::encoding::b64::encode(self.secret.expose()),
            certificate: self.certificate.clone(),
            org_public_key: Some(self.org),
        };
        let json = Zeroizing::new(
            serde_json::to_vec_pretty(&disk).map_err(|e| ClientError::bad_file(path, e.to_string()))?,
        );
        let _wipe = Zeroizing::new(disk.host_secret);
        write_private(path, &json, true)
    }

    /// Reads and checks the file: the secret key must match the certificate's host key, and the
    /// certificate must carry the file's org key's signature.
    pub fn read(path: &Path) -> Result<Self, ClientError> {
        // Refused when group or others can read it (`chmod 600`).
        let text = crate::read_private(path)?;
        let disk: OnDisk = serde_json::from_slice(&text)
            .map_err(|e| ClientError::bad_file(path, format!("not a blindvault host key file ({e})")))?;
        let secret_text = Zeroizing::new(disk.host_secret);
        if disk.version == 1 {
            return Err(ClientError::bad_file(
                path,
                "this host key file (version 1) does not carry the org key, which this version of \
                 blindvault needs to check who released a secret; issue a new one with \
                 `blindvault host issue` and revoke this host",
            ));
        }
        if disk.version != VERSION {
            return Err(ClientError::bad_file(
                path,
                format!("unknown host key file version {}", disk.version),
            ));
        }
        let org =
            disk.org_public_key.ok_or_else(|| ClientError::bad_file(path, "org_public_key is missing"))?;
        let raw = Zeroizing::new(
            blindvault_core::encoding::b64::decode(&secret_text)
                .map_err(|_| ClientError::bad_file(path, "host_secret is not base64url"))?,
        );
        let secret = HostSecretKey::from_slice(&raw)
            .map_err(|_| ClientError::bad_file(path, "host_secret has the wrong length"))?;
        if secret.public_key() != disk.certificate.cert.host_key {
            return Err(ClientError::bad_file(path, "the host key does not match its certificate"));
        }
        // The signature alone (an expired certificate still reads; the server refuses it with
        // its own message).
        disk.certificate.verify(&org, disk.certificate.cert.not_before).map_err(|_| {
            ClientError::bad_file(path, "the certificate is not signed by the org key in the file")
        })?;
        Ok(Self { secret, certificate: disk.certificate, org })
    }
}
