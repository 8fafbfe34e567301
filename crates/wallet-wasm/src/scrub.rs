//! The stack scrub: overwrite, with zeros, the part of the stack the call just used.
//!
//! In WebAssembly, Rust (and the C of libsecp256k1) keep every local whose address is taken —
//! arrays, keys, hash states — on a *shadow stack* inside the module's linear memory
//! (`memory.buffer`, which JavaScript can read), not on the engine's own stack. Popping a frame
//! only moves the stack pointer; the bytes stay until something else is written there. Types
//! that zeroize on drop wipe their final location, but the copies the compiler makes when a
//! value is moved, and the intermediate states of HMAC, PBKDF2, SHA-512 and the signature
//! algorithms, are not theirs to wipe.
//!
//! So every exported function, once the work (and every value of it) is gone, calls [`stack`]
//! from its own frame: a function whose frame is an array of [`SCRUB_BYTES`] that it
//! overwrites with volatile writes (`zeroize`), which the optimiser may not remove. That frame
//! lies exactly where the frames of the finished call lay, so the bytes they left are
//! overwritten, as long as the call went no deeper than [`SCRUB_BYTES`] below the exported
//! function (the Node test `e2e/tests/chains/memory.test.mjs` checks no secret survives
//! anywhere in memory after each operation, and that the stack below the scrubbed area was
//! never written).
//!
//! Limits (docs/wallet.md): this covers linear memory only. The engine's registers and its own
//! machine stack (where WebAssembly locals that never have their address taken live), its JIT
//! spills, and copies the JavaScript side makes (the PRF output before it is handed over; it is
//! zeroed in place by the bridge) are out of reach of any WebAssembly code.

/// How many bytes below the caller's frame are overwritten: 256 KiB, about twenty times the
/// deepest wallet operation measured (13 KiB, an EVM transaction; docs/wallet.md), a quarter of
/// the 1 MiB stack Rust gives a wasm32 module. The memory test checks that no operation writes
/// below it.
pub const SCRUB_BYTES: usize = 256 * 1024;

/// Overwrites the [`SCRUB_BYTES`] of stack below the caller's frame with zeros.
#[inline(never)]
pub fn stack() {
    blindvault_core::secret::scrub_stack::<{ SCRUB_BYTES / 8 }>();
}
