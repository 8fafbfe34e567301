#!/usr/bin/env bash
# Builds the web app's WebAssembly bundle (crates/wasm → web/pkg), which the server embeds at
# build time. Installs what it needs: the wasm32 target and the wasm-bindgen CLI of exactly the
# version crates/wasm pins.
#   ./scripts/build-web.sh           the production bundle → web/pkg (no benchmark fixture)
#   ./scripts/build-web.sh --bench   the benchmark bundle (crates/wasm's `bench` feature:
#                                    `ApproveBench`) → $CARGO_TARGET_DIR/web-bench/pkg, outside
#                                    web/, so the server never embeds it (scripts/bench-web.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")
case "${1:-}" in
  "") FEATURES=(); OUT=web/pkg; STAMP="$TARGET_DIR/web-pkg.stamp" ;;
  --bench) FEATURES=(--features bench); OUT="$TARGET_DIR/web-bench/pkg"; STAMP="$TARGET_DIR/web-bench-pkg.stamp" ;;
  *) echo "usage: $0 [--bench]" >&2; exit 2 ;;
esac
WB_VERSION=$(sed -n 's/^wasm-bindgen = "=\(.*\)"$/\1/p' crates/wasm/Cargo.toml)
[ -n "$WB_VERSION" ] || { echo "cannot read the pinned wasm-bindgen version from crates/wasm/Cargo.toml" >&2; exit 1; }

rustup target add wasm32-unknown-unknown >/dev/null 2>&1 || true
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WB_VERSION"; then
  echo "installing wasm-bindgen-cli $WB_VERSION (once; a few minutes)"
  cargo install wasm-bindgen-cli --version "=$WB_VERSION"
fi

cargo build -p blindvault-wasm --target wasm32-unknown-unknown --release --locked "${FEATURES[@]}"
WASM="$TARGET_DIR/wasm32-unknown-unknown/release/blindvault_wasm.wasm"

# web/pkg is rewritten only when its input changed: the server's build script re-embeds web/
# whenever a file in it is newer, so a needless rewrite costs a release rebuild of the server.
# The stamp (the module's and this script's hash, and the wasm-bindgen version) lives outside
# web/ for the same reason.
want=$( { sha256sum "$WASM" scripts/build-web.sh | cut -d' ' -f1; echo "$WB_VERSION"; } | sha256sum | cut -d' ' -f1)
if [ -f "$OUT/blindvault_wasm_bg.wasm" ] && [ -f "$OUT/blindvault_wasm.js" ] \
   && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  echo "$OUT: up to date"
  exit 0
fi
tmp=$(mktemp -d "$TARGET_DIR/web-pkg.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
wasm-bindgen --target web --no-typescript --out-dir "$tmp" "$WASM"
# Replace only what differs (unchanged files keep their times) and drop what is gone.
mkdir -p "$OUT"
for f in "$tmp"/*; do
  cmp -s "$f" "$OUT/$(basename "$f")" || cp "$f" "$OUT/"
done
for f in "$OUT"/*; do
  [ -e "$tmp/$(basename "$f")" ] || rm -rf "$f"
done
echo "$want" > "$STAMP"
echo "$OUT: $(du -sh "$OUT" | cut -f1) ($(stat -c %s "$OUT/blindvault_wasm_bg.wasm") bytes of WebAssembly)"
