#!/usr/bin/env bash
# Builds the web app's WebAssembly bundle (crates/wasm → web/pkg), which the server embeds at
# build time. Installs what it needs: the wasm32 target and the wasm-bindgen CLI of exactly the
# version crates/wasm pins.
#   ./scripts/build-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")
WB_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' crates/wasm/Cargo.toml)
[ -n "$WB_VERSION" ] || { echo "cannot read the pinned wasm-bindgen version from crates/wasm/Cargo.toml" >&2; exit 1; }

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WB_VERSION"; then
  echo "installing wasm-bindgen-cli $WB_VERSION (once; a few minutes)"
  cargo install wasm-bindgen-cli --version "=$WB_VERSION"
fi

cargo build -p blindvault-wasm --target wasm32-unknown-unknown --release --locked
rm -rf web/pkg
wasm-bindgen --target web --no-typescript --out-dir web/pkg \
  "$TARGET_DIR/wasm32-unknown-unknown/release/blindvault_wasm.wasm"
echo "web/pkg: $(du -sh web/pkg | cut -f1) ($(stat -c %s web/pkg/blindvault_wasm_bg.wasm) bytes of WebAssembly)"
