#!/usr/bin/env bash
# blindvault's one run command: builds and starts the server on the embedded SQLite default,
# printing its URL and, on first start, the one-time setup code that claims the first admin.
#   ./scripts/run.sh [serve options…]      e.g. ./scripts/run.sh --listen 127.0.0.1:9000
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs" >&2; exit 1; }
cargo build --release --locked -p blindvault-cli
exec ./target/release/blindvault serve "$@"
