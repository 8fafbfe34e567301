//! The operating system's CSPRNG as the `CryptoRng` the core's functions take (feature
//! `os-rng`): the one helper of the crates that do I/O (client, server, test kit, WebAssembly
//! bridge). The core itself never draws randomness of its own: its functions take an RNG.

/// The operating system's CSPRNG (`getrandom`; in the browser, `crypto.getRandomValues`). A
/// failure of the OS generator panics inside `UnwrapErr`, as `getrandom` cannot fall back.
pub fn os_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}
