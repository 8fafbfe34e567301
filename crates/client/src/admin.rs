//! The admin's local operations: the org key directory, passphrases, host certificates.

use std::path::{Path, PathBuf};

use blindvault_core::identity::HostCertificate;
use blindvault_core::ids::{CertId, EntryId};
use blindvault_core::keys::{HostSecretKey, OrgPublicKey, OrgSecretKey};

use crate::hostfile::HostKeyFile;
use crate::orgfile;
#[cfg(feature = "org-key")]
use crate::orgfile::Passphrase;
use crate::{ClientError, os_rng};

/// File names inside the org directory.
pub const ORG_KEY_FILE: &str = "org.key";
/// The public half, beside it.
pub const ORG_PUB_FILE: &str = "org.pub";

/// The default directory for the org key: `$BLINDVAULT_HOME`, else `$XDG_CONFIG_HOME/blindvault`,
/// else `~/.config/blindvault`.
pub fn default_home() -> PathBuf {
    if let Some(h) = std::env::var_os("BLINDVAULT_HOME") {
        return PathBuf::from(h);
    }
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME") {
        return PathBuf::from(x).join("blindvault");
    }
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".config/blindvault")
}

/// The shortest passphrase accepted for a new org key.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// Reads a passphrase: from `file` if given (first line, without its newline), else from the
/// controlling terminal, also when stdin is a pipe (asking twice when `confirm`). Never from argv; a non-interactive run without a file
/// is an error that says so. `confirm` means a new key is being made: its passphrase must have
/// at least [`MIN_PASSPHRASE_CHARS`] characters, whichever way it came (an existing key opens
/// with whatever it was made with).
#[cfg(feature = "org-key")]
pub fn read_passphrase(file: Option<&Path>, prompt: &str, confirm: bool) -> Result<Passphrase, ClientError> {
    let too_short = |p: &str| confirm && p.chars().count() < MIN_PASSPHRASE_CHARS;
    let short_msg = || format!("the passphrase must be at least {MIN_PASSPHRASE_CHARS} characters");
    if let Some(f) = file {
        let text = zeroize::Zeroizing::new(std::fs::read_to_string(f).map_err(|e| ClientError::io(f, e))?);
        let line = text.lines().next().unwrap_or("");
        if line.is_empty() {
            return Err(ClientError::bad_file(f, "the passphrase file is empty"));
        }
        if too_short(line) {
            return Err(ClientError::bad_file(f, short_msg()));
        }
        return Ok(Passphrase::new(line.to_string()));
    }
    // Asked on the controlling terminal (/dev/tty, which is where the prompt reads from), not on
    // stdin: `printf %s VALUE | blindvault secret put …` pipes the secret into stdin and still
    // has a person at the keyboard for the passphrase.
    if !has_terminal() {
        return Err(ClientError::Input(
            "no terminal to ask for the passphrase: pass --passphrase-file FILE".into(),
        ));
    }
    let first = zeroize::Zeroizing::new(
        rpassword::prompt_password(prompt)
            .map_err(|e| ClientError::Local(format!("reading the passphrase: {e}")))?,
    );
    if too_short(&first) {
        return Err(ClientError::Input(short_msg()));
    }
    if confirm {
        let again = zeroize::Zeroizing::new(
            rpassword::prompt_password("Repeat the passphrase: ")
                .map_err(|e| ClientError::Local(format!("reading the passphrase: {e}")))?,
        );
        if *first != *again {
            return Err(ClientError::Input("the passphrases do not match".into()));
        }
    }
    Ok(Passphrase::new(first.to_string()))
}

/// Whether this process has a controlling terminal to ask on.
#[cfg(feature = "org-key")]
fn has_terminal() -> bool {
    std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").is_ok()
}

/// Creates a new org identity in `dir` (`org.key`, encrypted; `org.pub`). Refuses to replace an
/// existing one.
#[cfg(feature = "org-key")]
pub fn org_init(dir: &Path, pass: &Passphrase, work_factor: Option<u8>) -> Result<OrgPublicKey, ClientError> {
    let key = dir.join(ORG_KEY_FILE);
    if key.exists() {
        return Err(ClientError::Exists(key.display().to_string()));
    }
    let org = OrgSecretKey::generate(&mut os_rng());
    orgfile::write(&key, &org, pass, work_factor)?;
    let public = org.public_key();
    orgfile::write_public(&dir.join(ORG_PUB_FILE), &public)?;
    Ok(public)
}

/// The org public key from `dir`.
pub fn org_public(dir: &Path) -> Result<OrgPublicKey, ClientError> {
    orgfile::read_public(&dir.join(ORG_PUB_FILE)).map_err(|e| no_org_key(dir, ORG_PUB_FILE, e))
}

/// A missing org key file says where it looked and what to do.
fn no_org_key(dir: &Path, file: &str, e: ClientError) -> ClientError {
    match e {
        ClientError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            ClientError::NoOrgKey { dir: dir.display().to_string(), file: file.to_owned() }
        }
        other => other,
    }
}

/// Opens the org key in `dir`.
#[cfg(feature = "org-key")]
pub fn org_secret(dir: &Path, pass: &Passphrase) -> Result<OrgSecretKey, ClientError> {
    let org = orgfile::read(&dir.join(ORG_KEY_FILE), pass).map_err(|e| no_org_key(dir, ORG_KEY_FILE, e))?;
    if let Ok(public) = org_public(dir)
        && public != org.public_key()
    {
        return Err(ClientError::bad_file(&dir.join(ORG_PUB_FILE), "does not match org.key"));
    }
    Ok(org)
}

/// Parses a duration like `90s`, `15m`, `12h`, `30d` into seconds.
pub fn parse_duration(s: &str) -> Result<u64, ClientError> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| ClientError::Input(format!("{s:?} is not a duration (try 90s, 15m, 12h, 30d)")))?;
    let mult = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(ClientError::Input(format!("{s:?}: unknown unit {unit:?} (use s, m, h or d)"))),
    };
    n.checked_mul(mult).filter(|v| *v > 0).ok_or_else(|| ClientError::Input(format!("{s:?} is out of range")))
}

/// The shortest validity of a host certificate: a host must be able to ask, wait for a person
/// and run within it.
pub const MIN_HOST_VALIDITY_SECS: u64 = 300;

/// Checks a host certificate's validity (`--expires`).
pub fn check_host_validity(secs: u64) -> Result<(), ClientError> {
    if secs < MIN_HOST_VALIDITY_SECS {
        return Err(ClientError::Input(format!(
            "--expires {secs}s is too short: a host certificate must be valid for at least 5m ({MIN_HOST_VALIDITY_SECS}s)"
        )));
    }
    Ok(())
}

/// Who issues a host certificate, and whether they may approve its requests alone.
#[derive(Clone, Debug)]
pub struct Issuer {
    /// The issuer's user id on the server (the org key's holder, signed in).
    pub user_id: String,
    /// `host issue --allow-self-approval`.
    pub self_approval: bool,
}

/// What a host certificate allows: its name, the entries it may ask for, and for how long.
#[derive(Clone, Copy, Debug)]
pub struct HostSpec<'a> {
    /// The host's name (shown on approvers' devices).
    pub name: &'a str,
    /// The entries it may ask for.
    pub entries: &'a [EntryId],
    /// Its life from now, in seconds.
    pub valid_secs: u64,
}

/// Issues a host: a fresh host key and an org-signed certificate (format 2, naming `issuer`),
/// written to `out` (0600).
pub fn host_issue(
    org: &OrgSecretKey,
    spec: &HostSpec<'_>,
    now: u64,
    issuer: &Issuer,
    out: &Path,
    revocations: Option<blindvault_core::revocation::SignedRevocations>,
) -> Result<HostKeyFile, ClientError> {
    let HostSpec { name: host_name, entries, valid_secs } = *spec;
    check_host_validity(valid_secs)?;
    let secret = HostSecretKey::generate(&mut os_rng());
    let certificate = HostCertificate {
        cert_id: CertId::generate(&mut os_rng()),
        host_name: host_name.to_string(),
        host_key: secret.public_key(),
        allowed_entries: entries.to_vec(),
        not_before: now.saturating_sub(60),
        not_after: now.saturating_add(valid_secs),
        issuer: Some(issuer.user_id.clone()),
        self_approval: issuer.self_approval,
    }
    .sign(org)?;
    let file = HostKeyFile { secret, certificate, org: org.public_key(), revocations };
    file.write(out)?;
    Ok(file)
}
