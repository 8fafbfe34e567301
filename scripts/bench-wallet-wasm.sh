#!/usr/bin/env bash
# The wallet benchmark (crates/wallet/benches/addresses.rs) natively and compiled to WASM
# (wasm32-wasip1, run by Node's node:wasi), with the WASM/native ratio of the figure
# "PRF output -> first address of all five chains". Targets: native <= 1.2x the BIP-39 stretch,
# WASM <= 3x native.
#   ./scripts/bench-wallet-wasm.sh [ITERATIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
ITERS=${1:-300}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}

rustup target add wasm32-wasip1 >/dev/null
# libsecp256k1's C code (via rust-bitcoin) needs clang to target wasm.
command -v clang >/dev/null || (apt-get update -qq && apt-get install -y -qq clang)
# For wasm32-wasip1, clang would look for WASI libc headers in /usr/include; secp256k1-sys ships
# its own minimal wasm sysroot, which it uses when compiling for the unknown OS.
# USE_FORCE_WIDEMUL_INT64: clang gives wasm32 an emulated __int128 (a call to __multi3 per
# multiplication), which libsecp256k1 would pick; its 32x32->64 field code maps onto wasm's
# native i64.mul and halves the derivation time. The web build should set the same flag
# (CFLAGS_wasm32_unknown_unknown="-DUSE_FORCE_WIDEMUL_INT64=1", see docs/wallet.md).
export CFLAGS_wasm32_wasip1="--target=wasm32-unknown-unknown -DUSE_FORCE_WIDEMUL_INT64=1"
command -v node >/dev/null || { echo "node (>= 20) is required" >&2; exit 1; }

build() { # $1 = target triple or "" for the host; prints the bench executable's path
  local args=(bench --no-run -p blindvault-wallet --bench addresses --message-format=json)
  [ -n "$1" ] && args+=(--target "$1")
  cargo "${args[@]}" 2>/dev/null | node -e '
    let exe = "";
    require("readline").createInterface({ input: process.stdin }).on("line", (l) => {
      try { const m = JSON.parse(l); if (m.reason === "compiler-artifact" && m.target.name === "addresses" && m.executable) exe = m.executable; } catch {}
    }).on("close", () => { if (!exe) process.exit(1); console.log(exe); });'
}

echo "== building (release; the first WASM build takes several minutes on 2 cores)"
NATIVE=$(build "")
WASM=$(build wasm32-wasip1)

echo "== native"
"$NATIVE" "$ITERS" | tee /tmp/bench-wallet-native.txt
echo "== wasm (node:wasi, $(node --version))"
RUNNER=$(mktemp --suffix=.mjs)
cat >"$RUNNER" <<'JS'
import { readFile } from "node:fs/promises";
import { WASI } from "node:wasi";
const [file, iters] = process.argv.slice(2);
const wasi = new WASI({ version: "preview1", args: ["addresses", iters], env: {}, preopens: {} });
const module = await WebAssembly.compile(await readFile(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
wasi.start(instance);
JS
node --no-warnings "$RUNNER" "$WASM" "$ITERS" | tee /tmp/bench-wallet-wasm.txt
rm -f "$RUNNER"

native=$(sed -n 's/^RESULT native figure_us=\([0-9.]*\).*/\1/p' /tmp/bench-wallet-native.txt)
wasm=$(sed -n 's/^RESULT wasm figure_us=\([0-9.]*\).*/\1/p' /tmp/bench-wallet-wasm.txt)
node -e "const n=$native, w=$wasm; console.log('== WASM/native, figure (PRF -> 5 first addresses): ' + w.toFixed(1) + ' us / ' + n.toFixed(1) + ' us = ' + (w/n).toFixed(2) + 'x (target <= 3x)')"
