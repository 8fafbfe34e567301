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
pub mod hostfile;
pub mod lease;
pub mod orgfile;
pub mod template;

pub use error::ClientError;

/// The operating system's CSPRNG, as the core's injected RNG.
pub fn os_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// Now, in Unix seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
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
    std::fs::create_dir_all(dir).map_err(|e| ClientError::io(dir, e))?;
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
