//! Process hardening for the commands that hold a secret or a key (`run`, `inject`, `serve`):
//! no core dump, and no reading of this process's memory by another process of the same user.

use crate::ClientError;

/// Turns core dumps off for this process and makes it non-dumpable.
///
/// - `prctl(PR_SET_DUMPABLE, 0)`: the kernel writes no core file for it (or, where
///   `fs.suid_dumpable` is 2, one only root can read), and processes of the same user can no
///   longer attach with ptrace or read `/proc/PID/mem` or `/proc/PID/environ` — the command
///   `run` starts included. The flag is reset when a program is executed, so the command itself
///   is unaffected.
/// - The soft `RLIMIT_CORE` set to 0: no core file either where a core pattern ignores the
///   flag. The command inherits this soft limit (its environment holds the secret); it may raise
///   it up to the hard limit, which is left as it was.
pub fn no_core_dumps() -> Result<(), ClientError> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) =
        getrlimit(Resource::RLIMIT_CORE).map_err(|e| local("read the core file size limit", e))?;
    setrlimit(Resource::RLIMIT_CORE, 0, hard).map_err(|e| local("turn core dumps off", e))?;
    // Linux's flag; elsewhere (macOS) the core limit alone.
    #[cfg(target_os = "linux")]
    nix::sys::prctl::set_dumpable(false).map_err(|e| local("make the process non-dumpable", e))?;
    Ok(())
}

/// How many bytes of stack below the caller's frame [`scrub_stack`] overwrites: 512 KiB, well
/// beyond the deepest the fetch of a secret goes (the dump test of `run` finds nothing left).
pub const SCRUB_BYTES: usize = 512 * 1024;

/// Overwrites the [`SCRUB_BYTES`] of this thread's stack below the caller's frame with zeros.
///
/// Types that zeroize on drop wipe the place where they end; the copies a move leaves behind
/// (a key moved into a struct, a DEK returned by value through the decoders) and the working
/// state of the cryptographic crates stay in the stack frames of calls that have returned,
/// until something else happens to be written there. Called by `run` and `inject` once the
/// secrets are fetched, from the frame that called the fetch: the frames the fetch used lie
/// exactly in the area overwritten (the async runtime ran the fetch on this thread).
#[inline(never)]
pub fn scrub_stack() {
    blindvault_core::secret::scrub_stack::<{ SCRUB_BYTES / 8 }>();
}

fn local(what: &str, e: nix::Error) -> ClientError {
    ClientError::Local(format!("cannot {what}: {e}"))
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    #[test]
    fn core_dumps_are_off_and_the_process_is_not_dumpable() {
        super::no_core_dumps().unwrap_or_else(|e| panic!("{e}"));
        let (soft, _) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_CORE)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(soft, 0);
        #[cfg(target_os = "linux")]
        assert!(!nix::sys::prctl::get_dumpable().unwrap_or(true));
    }
}
