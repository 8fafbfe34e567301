#!/usr/bin/env bash
# blindvault's one run command: builds the web app and the server, and starts it on the embedded
# SQLite default,
# printing its URL and, on first start, the one-time setup code that claims the first admin.
#   ./scripts/run.sh [serve options…]      e.g. ./scripts/run.sh --listen 127.0.0.1:9000
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs" >&2; exit 1; }
# The web app's WebAssembly bundle (embedded in the binary); installs wasm-bindgen-cli once.
./scripts/build-web.sh
# Both steps are quick when nothing changed: build-web.sh leaves web/pkg alone (so the server's
# embedded copy of web/ is not rebuilt), and cargo has nothing to do.
cargo build --release --locked -p blindvault-cli
exec "$(realpath -m "${CARGO_TARGET_DIR:-target}")/release/blindvault" serve "$@"
