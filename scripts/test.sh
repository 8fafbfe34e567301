#!/usr/bin/env bash
# blindvault's one test command: installs what the tests need, then runs every check.
#   ./scripts/test.sh
# Safe to run repeatedly; works on a fresh machine (as root, or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf '\n== %s\n' "$*"; }

# A one-shot run (CI) gains nothing from incremental caches, which are the larger half of a debug
# target directory; keep them for a developer's repeated runs.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi
# Building needs a few GiB of free disk; say so plainly instead of failing deep inside a linker.
avail_kib=$(df -Pk . | awk 'NR==2 {print $4}')
if [ -n "$avail_kib" ] && [ "$avail_kib" -lt 6291456 ]; then
  echo "warning: only $((avail_kib / 1024)) MiB free on $(pwd); the build and tests need about 6 GiB" >&2
fi

# ---- toolchain pieces -------------------------------------------------------------------------
say "toolchain"
rustup component add rustfmt clippy >/dev/null 2>&1 || true
rustup target add wasm32-unknown-unknown wasm32-wasip1 >/dev/null
if ! command -v node >/dev/null; then
  echo "node not found: installing Debian's nodejs"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs >/dev/null
fi

# ---- browser tests' pieces: Debian's Chromium and the JS test driver --------------------------
say "chromium and playwright-core (web app tests)"
if ! command -v chromium >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
chromium --version
# The desktop notification service the push test clicks a notification on runs on a private
# session bus.
if ! command -v dbus-daemon >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dbus-daemon >/dev/null
fi
# Also the chain engines the wallet bundle's transactions are executed in (e2e/tests/chains):
# LiteSVM (npm litesvm, with its prebuilt linux-x64 binary package) and @ton/sandbox; and anvil
# (npm @foundry-rs/anvil-linux-amd64), the local EVM node e2e/tests/wallet.test.mjs starts; and the
# independent checks of a broadcast TRON transaction (npm protobufjs, @noble/curves, @noble/hashes:
# e2e/tests/wallet-send-tron.test.mjs). Installed
# from the lock without changing it; not `npm ci`, which refuses a lock that lacks litesvm's
# binary packages for other platforms (darwin, arm64, musl), which the registry here does not
# serve (404), so no lock made here can list them.
(cd e2e && npm install --no-save --no-audit --no-fund --loglevel=error)

# ---- the web app's WebAssembly bundle (the server embeds it at build time) --------------------
say "web app bundles (crates/wasm → web/pkg, crates/wallet-wasm → web/wallet-pkg)"
./scripts/build-web.sh

# ---- PostgreSQL: a throwaway cluster this script starts itself --------------------------------
# shellcheck source=scripts/lib/postgres.sh
source "$ROOT/scripts/lib/postgres.sh"
say "postgresql"
pg_start_test_cluster
trap pg_stop_test_cluster EXIT
export BLINDVAULT_TEST_DATABASE_URL="$PG_URL"
echo "test cluster at $PG_URL"

# ---- static checks ----------------------------------------------------------------------------
say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

# ---- the core must build for the browser ------------------------------------------------------
say "wasm32 build of blindvault-core"
cargo build -p blindvault-core --target wasm32-unknown-unknown --locked

say "blindvault-core's tests on WebAssembly (wasm32-wasip1 in Node): same bytes as native"
CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-warnings $ROOT/scripts/wasi-run.mjs" \
  cargo test -p blindvault-core --target wasm32-wasip1 --locked

# blindvault-wallet for wasm32-unknown-unknown: built above, in release, as the wallet bundle
# (scripts/build-web.sh, which also installs the clang its C code needs).
say "blindvault-wallet's tests on WebAssembly (wasm32-wasip1 in Node): same addresses and signatures"
CARGO_TARGET_WASM32_WASIP1_RUNNER="node --no-warnings $ROOT/scripts/wasi-run.mjs" \
  cargo test -p blindvault-wallet --target wasm32-wasip1 --locked --test wallet

# ---- tests ------------------------------------------------------------------------------------
say "cargo test (SQLite and PostgreSQL)"
cargo test --workspace --locked

# ---- fuzzing: every decoder that reads untrusted bytes, each target 60 s, two at a time --------
# cargo-fuzz on the stable toolchain without a sanitizer (docs/fuzzing.md); libFuzzer is C++.
# On a 2-core machine: about 5 min to build the 19 targets from nothing, then 19 x 60 s two at a
# time. BLINDVAULT_FUZZ=0 leaves it out of a developer's repeated runs (never out of CI's);
# FUZZ_SECONDS changes the 60.
if [ "${BLINDVAULT_FUZZ:-1}" != "0" ]; then
  say "fuzz smoke (scripts/fuzz.sh: each target ${FUZZ_SECONDS:-60} s, two at a time)"
  command -v c++ >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null)
  ./scripts/fuzz.sh "${FUZZ_SECONDS:-60}"
else
  say "fuzz smoke left out (BLINDVAULT_FUZZ=0); ./scripts/fuzz.sh 60 runs it alone"
fi

# ---- the consumer build: `run` and `inject` only, without the server's or the wallet's crates --
say "consumer build of blindvault (--no-default-features --features consumer)"
consumer=(-p blindvault-cli --no-default-features --features consumer --locked)
# What a consumer host must not carry: the server (axum, sqlx and its PostgreSQL and SQLite
# drivers, webauthn-rs), the chain libraries (alloy, Solana, TON, rust-bitcoin, BIP-39) and the
# org key file's encryption (age: only the admin's machine has an org key).
forbidden='^(axum|sqlx|tokio-postgres|postgres|webauthn|alloy|solana|ton|tonlib|bitcoin|secp256k1|bip39|age|blindvault-server|blindvault-wallet)[- ]'
cargo tree -e normal --prefix none "${consumer[@]}" > "${TMPDIR:-/tmp}/blindvault-consumer-tree.txt"
if grep -E "$forbidden" "${TMPDIR:-/tmp}/blindvault-consumer-tree.txt" | sort -u | grep .; then
  echo "the consumer build links the crates above" >&2
  exit 1
fi
echo "$(awk '{print $1" "$2}' "${TMPDIR:-/tmp}/blindvault-consumer-tree.txt" | sort -u | wc -l) crates, none of the server's, the wallet's or the org key file's"
# Its CLI tests: the subcommands it has (and has not) and their bad-input messages.
cargo test "${consumer[@]}" --test cli

# ---- the web app in headless Chromium against a real server and the real CLI ------------------
say "web app end to end (Chromium, virtual authenticator with PRF); screenshots in e2e/artifacts"
cargo build -p blindvault-cli --locked
rm -rf e2e/artifacts
(cd e2e && BLINDVAULT_BIN="$(cd "$ROOT" && realpath -m "${CARGO_TARGET_DIR:-target}")/debug/blindvault" npm test)
echo "screenshots: $(ls e2e/artifacts | wc -l) files in e2e/artifacts"
