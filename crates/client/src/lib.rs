//! # blindvault-client
//!
//! The client side of blindvault for the organisation's admin and its consumer hosts: the org key
//! file (age, passphrase-encrypted), host key files, the consumer's lease (a child process that
//! gets the secret in its environment, forwarded signals and a deadline), templates, and the
//! broker's HTTP API. All cryptography is in `blindvault-core`; this crate does the I/O around it.

pub mod admin;
pub mod api;
pub mod broker;
pub mod error;
pub mod harden;
pub mod hostfile;
pub mod lease;
pub mod orgfile;
pub mod template;

/// The wallet's contract types (endpoints, tokens, addresses, gateway calls).
pub use blindvault_api::wallet;
pub use error::ClientError;

/// The operating system's CSPRNG, as the core's injected RNG (the workspace's one helper).
pub use blindvault_core::rng::os_rng;

/// Now, in Unix seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `secs` (Unix time) as an RFC 3339 date in UTC, e.g. `2026-01-31T09:05:00Z`.
pub fn rfc3339_utc(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm, for the proleptic
    // Gregorian calendar; exact for every u64 day count that fits).
    let z = i128::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i128::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Reads a file that holds a credential (a host key, a session token), refusing one that its
/// group or others may read or write: such a file has probably been exposed already, and using
/// it silently would hide that. The mode is checked on the opened file, not by name.
pub fn read_private(path: &std::path::Path) -> Result<zeroize::Zeroizing<Vec<u8>>, ClientError> {
    use std::io::Read;
    use std::os::unix::fs::PermissionsExt;
    let mut f = std::fs::File::open(path).map_err(|e| ClientError::io(path, e))?;
    let mode = f.metadata().map_err(|e| ClientError::io(path, e))?.permissions().mode();
    if mode & 0o077 != 0 {
        let p = path.display();
        return Err(ClientError::bad_file(
            path,
            format!(
                "the file is open to other users (mode {:04o}); it holds a credential: run `chmod 600 {p}` \
                 (and if others could read it, replace the credential)",
                mode & 0o7777
            ),
        ));
    }
    let mut buf = zeroize::Zeroizing::new(Vec::new());
    f.read_to_end(&mut buf).map_err(|e| ClientError::io(path, e))?;
    Ok(buf)
}

/// Writes `bytes` to `path` atomically with mode 0600 (a temporary file in the same directory,
/// then a rename). With `create_new`, refuses to replace an existing file.
pub(crate) fn write_private(
    path: &std::path::Path,
    bytes: &[u8],
    create_new: bool,
) -> Result<(), ClientError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if create_new && path.exists() {
        return Err(ClientError::Exists(path.display().to_string()));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    // A directory made here is the owner's alone (one that exists is left as it is).
    std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
        .create(dir)
        .map_err(|e| ClientError::io(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("blindvault"),
        std::process::id()
    ));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| ClientError::io(&tmp, e))?;
    let res = f.write_all(bytes).and_then(|_| f.sync_all());
    drop(f);
    if let Err(e) = res {
        let _ = std::fs::remove_file(&tmp);
        return Err(ClientError::io(&tmp, e));
    }
    if create_new {
        // A hard link fails if `path` exists — atomically, unlike a check before a rename, so a
        // file created meanwhile is never replaced. Then the temporary name goes.
        let linked = std::fs::hard_link(&tmp, path);
        let _ = std::fs::remove_file(&tmp);
        return match linked {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(ClientError::Exists(path.display().to_string()))
            }
            Err(e) => Err(ClientError::io(path, e)),
        };
    }
    std::fs::rename(&tmp, path).map_err(|e| ClientError::io(path, e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_utc(1_767_225_599), "2025-12-31T23:59:59Z");
        assert_eq!(rfc3339_utc(4_102_444_800), "2100-01-01T00:00:00Z");
    }

    #[test]
    fn private_files_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("key");
        std::fs::write(&p, "x").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = read_private(&p).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && e.contains("0640"), "{e}");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_private(&p).unwrap().as_slice(), b"x");
    }
}
