//! The host key file of a consumer host: its Ed25519 secret key, its org-signed certificate and
//! the org public key (the consumer accepts a released secret only from an approver device that
//! key vouched for), as JSON, mode 0600. Like an SSH host key it is a machine credential kept on the host; what it
//! can do is bounded by the certificate (entries, expiry), by revocation on the server, and by
//! the human approval every release needs.

use std::path::Path;

use blindvault_core::identity::SignedHostCertificate;
use blindvault_core::keys::{HostSecretKey, OrgPublicKey};
use blindvault_core::revocation::{Revocations, SignedRevocations};
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
    /// The newest org revocation record the admin had when issuing the file (verified under
    /// `org` when read): the host refuses an older one from its very first delivery.
    pub revocations: Option<blindvault_core::revocation::SignedRevocations>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revocations: Option<blindvault_core::revocation::SignedRevocations>,
}

impl HostKeyFile {
    /// Writes the file (mode 0600, never overwriting).
    pub fn write(&self, path: &Path) -> Result<(), ClientError> {
        let disk = OnDisk {
            version: VERSION,
            host_secret: blindvault_core::encoding::b64::encode(self.secret.expose()),
            certificate: self.certificate.clone(),
            org_public_key: Some(self.org),
            revocations: self.revocations.clone(),
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
        Self::parse(&text, path)
    }

    /// Reads and checks the file's bytes, as [`HostKeyFile::read`] does once it has read them
    /// (`path` only names the file in errors).
    pub fn parse(text: &[u8], path: &Path) -> Result<Self, ClientError> {
        let disk: OnDisk = serde_json::from_slice(text)
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
        if let Some(r) = &disk.revocations {
            r.verify(&org).map_err(|_| {
                ClientError::bad_file(path, "the revocation record is not signed by the org key in the file")
            })?;
        }
        Ok(Self { secret, certificate: disk.certificate, org, revocations: disk.revocations })
    }
}

/// The newest version of each entry this host has received, kept beside the host key file
/// (`HOSTKEY.versions`, JSON `{"ENTRY_ID": version}`, mode 0600). Each request signs the
/// remembered version as its `min_version`, so an older version — still org-signed, say one
/// sealed to an approver removed since — is refused by the approver's device and by this host:
/// the server cannot roll an entry back on a host that has seen a newer one. A host's first
/// request for an entry has no memory to go on (0); `host issue` cannot give it one, because
/// what the admin's machine knows of versions it also learns from the server.
///
/// Beside it, `HOSTKEY.revocations` keeps the newest org-signed revocation record this host has
/// received (base64url, one line): a server that serves an older one — or none — to undo a
/// revocation is refused ([`VersionMemory::accept_revocations`]).
#[derive(Debug, Default)]
pub struct VersionMemory {
    path: Option<std::path::PathBuf>,
    seen: std::collections::BTreeMap<String, u32>,
    changed: bool,
    rpath: Option<std::path::PathBuf>,
    revocations: Option<SignedRevocations>,
    revocations_changed: bool,
    /// The org key the stored record was checked under (set by the first accept/adopt).
    org: Option<OrgPublicKey>,
}

fn beside_key(host_key: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = host_key.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

impl VersionMemory {
    /// The memory kept beside `host_key` (empty if there is none yet). A file that does not
    /// parse is an error, not a silent reset (which would undo the protection).
    pub fn beside(host_key: &Path) -> Result<Self, ClientError> {
        let mut name = host_key.as_os_str().to_owned();
        name.push(".versions");
        let path = std::path::PathBuf::from(name);
        let seen = match std::fs::read(&path) {
            Ok(b) => Self::parse_versions(&b, &path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
            Err(e) => return Err(ClientError::io(&path, e)),
        };
        let rpath = beside_key(host_key, ".revocations");
        let revocations = match std::fs::read_to_string(&rpath) {
            Ok(text) => Some(Self::parse_revocations(&text, &rpath)?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(ClientError::io(&rpath, e)),
        };
        Ok(Self {
            path: Some(path),
            seen,
            changed: false,
            rpath: Some(rpath),
            revocations,
            revocations_changed: false,
            org: None,
        })
    }

    /// Reads `HOSTKEY.versions`' bytes: JSON `{"ENTRY_ID": version}` (`path` only names the file
    /// in errors).
    pub fn parse_versions(
        bytes: &[u8],
        path: &Path,
    ) -> Result<std::collections::BTreeMap<String, u32>, ClientError> {
        serde_json::from_slice(bytes).map_err(|e| {
            ClientError::bad_file(path, format!("{e} (the newest entry versions this host received)"))
        })
    }

    /// Reads `HOSTKEY.revocations`' text: one line of base64url of a signed revocation record
    /// (not verified here; `path` only names the file in errors).
    pub fn parse_revocations(text: &str, path: &Path) -> Result<SignedRevocations, ClientError> {
        blindvault_core::encoding::b64::decode(text.trim())
            .ok()
            .and_then(|b| SignedRevocations::from_bytes(&b).ok())
            .ok_or_else(|| {
                ClientError::bad_file(path, "not a revocation record (the newest this host received)")
            })
    }

    /// The stored record, if it is the org's: one signed by another key (the org key was
    /// replaced, or the file was copied from another host) is treated as absent, so an org key
    /// replacement does not lock the host out.
    fn stored_for(&self, org: &OrgPublicKey) -> Option<&SignedRevocations> {
        self.revocations.as_ref().filter(|r| r.verify(org).is_ok())
    }

    /// Takes the record the host key file carries (from when the admin issued it) as received,
    /// if it replaces what is remembered (append-only, [`Revocations::replaces`]): a host
    /// refuses an older record from its first delivery on. The caller has verified it under
    /// `org` ([`HostKeyFile::read`]).
    pub fn adopt_revocations(&mut self, issued_with: Option<&SignedRevocations>, org: &OrgPublicKey) {
        self.org = Some(*org);
        if let Some(r) = issued_with {
            let take = match self.stored_for(org) {
                None => true,
                Some(old) => r.record.epoch > old.record.epoch && r.record.replaces(&old.record).is_ok(),
            };
            if take {
                self.revocations = Some(r.clone());
                self.revocations_changed = true;
            }
        }
    }

    /// The epoch of the newest revocation record this host has received (0: none).
    pub fn revocation_epoch(&self) -> u64 {
        self.revocations.as_ref().map_or(0, |r| r.record.epoch)
    }

    /// Checks the record the server delivered against `org` (the host key file's) and the
    /// record this host has stored (if it is `org`'s): append-only
    /// ([`Revocations::replaces`]) — an older one, or none after one, is
    /// [`blindvault_core::Error::Rollback`]; one that drops something the stored one revokes,
    /// or another record of the same epoch, is [`blindvault_core::Error::Diverged`]. Returns
    /// what is revoked, and remembers a newer record (written by [`VersionMemory::save`]).
    pub fn accept_revocations(
        &mut self,
        delivered: Option<&SignedRevocations>,
        org: &OrgPublicKey,
    ) -> Result<Revocations, blindvault_core::Error> {
        self.org = Some(*org);
        let stored = self.stored_for(org).cloned();
        let record = SignedRevocations::check_against(delivered, org, stored.as_ref().map(|s| &s.record))?;
        if let Some(d) = delivered
            && stored.as_ref().is_none_or(|s| record.epoch > s.record.epoch)
        {
            self.revocations = Some(d.clone());
            self.revocations_changed = true;
        }
        Ok(record)
    }

    /// Kept in memory only (tests, and hosts that cannot write beside their key).
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// The oldest version of `entry` to accept.
    pub fn min_version(&self, entry: &blindvault_core::ids::EntryId) -> u32 {
        self.seen.get(&entry.to_text()).copied().unwrap_or(0)
    }

    /// Records a version received.
    pub fn record(&mut self, entry: &blindvault_core::ids::EntryId, version: u32) {
        let v = self.seen.entry(entry.to_text()).or_insert(0);
        if version > *v {
            *v = version;
            self.changed = true;
        }
    }

    /// Writes the memory back if it changed (atomically, mode 0600). Under an exclusive lock on
    /// `HOSTKEY.versions.lock` it re-reads the file and keeps, per entry, the newer of the two
    /// versions: two `run`s on one host never lose each other's memory or lower a version.
    pub fn save(&mut self) -> Result<(), ClientError> {
        let revocations_due = self.rpath.is_some() && self.revocations_changed && self.revocations.is_some();
        let versions_due = self.path.is_some() && self.changed;
        if !revocations_due && !versions_due {
            return Ok(());
        }
        let Some(path) = self.path.clone() else { return Ok(()) };
        let path = &path;
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push(".lock");
        let lock_path = std::path::PathBuf::from(lock_name);
        let lock = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .mode(0o600)
                .open(&lock_path)
                .map_err(|e| ClientError::io(&lock_path, e))?
        };
        lock.lock().map_err(|e| ClientError::io(&lock_path, e))?;
        if revocations_due {
            self.save_revocations()?;
        }
        if !versions_due {
            drop(lock);
            return Ok(());
        }
        let on_disk: std::collections::BTreeMap<String, u32> = match std::fs::read(path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|e| ClientError::bad_file(path, e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Default::default(),
            Err(e) => return Err(ClientError::io(path, e)),
        };
        for (entry, v) in on_disk {
            let mine = self.seen.entry(entry).or_insert(0);
            *mine = (*mine).max(v);
        }
        let json =
            serde_json::to_vec_pretty(&self.seen).map_err(|e| ClientError::bad_file(path, e.to_string()))?;
        write_private(path, &json, false)?;
        drop(lock);
        self.changed = false;
        Ok(())
    }

    /// Under the `HOSTKEY.versions.lock` lock: re-reads `HOSTKEY.revocations` and writes ours
    /// only if it replaces what is there (append-only, [`Revocations::replaces`]) or what is
    /// there is not the org's — two `run`s never lower the stored record.
    fn save_revocations(&mut self) -> Result<(), ClientError> {
        let (Some(rpath), Some(r)) = (&self.rpath, &self.revocations) else { return Ok(()) };
        let on_disk = std::fs::read_to_string(rpath)
            .ok()
            .and_then(|t| blindvault_core::encoding::b64::decode(t.trim()).ok())
            .and_then(|b| SignedRevocations::from_bytes(&b).ok());
        let write = match on_disk {
            None => true,
            Some(d) if self.org.is_some_and(|o| d.verify(&o).is_err()) => true,
            Some(d) => r.record.epoch > d.record.epoch && r.record.replaces(&d.record).is_ok(),
        };
        if write {
            let text = format!("{}\n", blindvault_core::encoding::b64::encode(&r.to_bytes()));
            write_private(rpath, text.as_bytes(), false)?;
        }
        self.revocations_changed = false;
        Ok(())
    }
}
