#!/usr/bin/env bash
# Benchmark: approve (verify org → host → request, open the envelope, reseal to the ephemeral
# key) in the browser's WebAssembly vs the same operation natively, as a ratio. Target ≤ 3×.
# Both time the same fixture (crates/wasm/src/fixture.rs); native runs before and after the
# browser and the faster native figure is the floor. The browser runs the benchmark build
# (`scripts/build-web.sh --bench`: crates/wasm's `bench` feature, outside web/), never the
# production bundle, which carries no fixture.
#   ./scripts/bench-web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build-web.sh --bench >/dev/null
command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)
# From the lock, unchanged (not `npm ci`: see scripts/test.sh on litesvm's platform packages).
(cd e2e && npm install --no-save --no-audit --no-fund --loglevel=error)
cargo bench -p blindvault-wasm --bench approve --locked >/dev/null 2>&1 || true   # build
native1=$(cargo bench -q -p blindvault-wasm --bench approve --locked 2>/dev/null | sed -n 's/^native_approve_us=//p')
wasm=$(node e2e/bench-approve.mjs | sed -n 's/^wasm_approve_us=//p')
native2=$(cargo bench -q -p blindvault-wasm --bench approve --locked 2>/dev/null | sed -n 's/^native_approve_us=//p')
python3 - "$native1" "$native2" "$wasm" <<'PY'
import sys
n1, n2, w = (float(x) for x in sys.argv[1:4])
native = min(n1, n2)
ratio = w / native
print(f"approve (verify + open + reseal), per approval:")
print(f"  native           {native:9.1f} µs   (runs: {n1:.1f}, {n2:.1f})")
print(f"  WASM in Chromium {w:9.1f} µs")
print(f"  ratio            {ratio:9.2f}×    target ≤ 3× : {'met' if ratio <= 3 else 'NOT met'}")
PY
