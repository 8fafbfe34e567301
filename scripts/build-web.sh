#!/usr/bin/env bash
# Builds the web app's WebAssembly bundles, which the server embeds at build time:
#   crates/wasm        → web/pkg         the core (approver pages: verify, open, approve)
#   crates/wallet-wasm → web/wallet-pkg  the wallet (addresses, signing), its own bundle so that
#                                        the approver pages load no wallet code
# Installs what it needs: the wasm32 target, clang (libsecp256k1's C code in the wallet) and the
# wasm-bindgen CLI of exactly the version both crates pin.
#   ./scripts/build-web.sh           the production bundles → web/pkg, web/wallet-pkg (no
#                                    benchmark fixture)
#   ./scripts/build-web.sh --bench   the benchmark bundle (crates/wasm's `bench` feature:
#                                    `ApproveBench`) → $CARGO_TARGET_DIR/web-bench/pkg, outside
#                                    web/, so the server never embeds it (scripts/bench-web.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")
case "${1:-}" in
  "") FEATURES=(); OUT=web/pkg; STAMP="$TARGET_DIR/web-pkg.stamp"; WALLET=1 ;;
  --bench) FEATURES=(--features bench); OUT="$TARGET_DIR/web-bench/pkg"; STAMP="$TARGET_DIR/web-bench-pkg.stamp"; WALLET=0 ;;
  *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
esac
WB_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' crates/wasm/Cargo.toml)
[ -n "$WB_VERSION" ] || { echo "cannot read the pinned wasm-bindgen version from crates/wasm/Cargo.toml" >&2; exit 1; }
WB_WALLET=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' crates/wallet-wasm/Cargo.toml)
[ "$WB_WALLET" = "$WB_VERSION" ] || { echo "crates/wallet-wasm pins wasm-bindgen $WB_WALLET, crates/wasm $WB_VERSION: pin the same" >&2; exit 1; }

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WB_VERSION"; then
  echo "installing wasm-bindgen-cli $WB_VERSION (once; a few minutes)"
  cargo install wasm-bindgen-cli --version "=$WB_VERSION"
fi

# bundle CRATE LIB OUT STAMP [cargo args…]: builds CRATE for wasm32 (release) and writes its
# wasm-bindgen package to OUT. Each crate is built on its own (features are not unified across
# the two bundles).
bundle() {
  local crate=$1 lib=$2 out=$3 stamp=$4
  shift 4
  cargo build -p "$crate" --target wasm32-unknown-unknown --release --locked "$@"
  local wasm="$TARGET_DIR/wasm32-unknown-unknown/release/$lib.wasm"
  # OUT is rewritten only when its input changed: the server's build script re-embeds web/
  # whenever a file in it is newer, so a needless rewrite costs a release rebuild of the server.
  # The stamp (the module's and this script's hash, and the wasm-bindgen version) lives outside
  # web/ for the same reason.
  local want
  want=$( { sha256sum "$wasm" scripts/build-web.sh | cut -d' ' -f1; echo "$WB_VERSION"; } | sha256sum | cut -d' ' -f1)
  if [ -f "$out/${lib}_bg.wasm" ] && [ -f "$out/$lib.js" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "$out: up to date"
    return 0
  fi
  local tmp
  tmp=$(mktemp -d "$TARGET_DIR/web-pkg.XXXXXX")
  wasm-bindgen --target web --no-typescript --out-dir "$tmp" "$wasm"
  # Replace only what differs (unchanged files keep their times) and drop what is gone.
  mkdir -p "$out"
  for f in "$tmp"/*; do
    cmp -s "$f" "$out/$(basename "$f")" || cp "$f" "$out/"
  done
  for f in "$out"/*; do
    [ -e "$tmp/$(basename "$f")" ] || rm -rf "$f"
  done
  rm -rf "$tmp"
  echo "$want" > "$stamp"
  echo "$out: $(du -sh "$out" | cut -f1) ($(stat -c %s "$out/${lib}_bg.wasm") bytes of WebAssembly)"
}

bundle blindvault-wasm blindvault_wasm "$OUT" "$STAMP" "${FEATURES[@]}"

if [ "$WALLET" = 1 ]; then
  # libsecp256k1's C code (via rust-bitcoin) needs clang to target wasm. USE_FORCE_WIDEMUL_INT64:
  # clang gives wasm32 an emulated __int128, which libsecp256k1 would pick; its 32x32->64 field
  # code maps onto wasm's native i64.mul and halves the derivation time (docs/wallet.md).
  command -v clang >/dev/null || (apt-get update -qq && apt-get install -y -qq clang)
  CFLAGS_wasm32_unknown_unknown="-DUSE_FORCE_WIDEMUL_INT64=1" \
    bundle blindvault-wallet-wasm blindvault_wallet_wasm web/wallet-pkg "$TARGET_DIR/web-wallet-pkg.stamp"
fi
