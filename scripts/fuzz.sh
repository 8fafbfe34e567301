#!/usr/bin/env bash
# The fuzz targets (fuzz/, cargo-fuzz and libFuzzer): builds every target on the stable
# toolchain, without a sanitizer, then runs each for SECONDS (default 60), two at a time, and
# fails if any target finds a crash (a panic, an overflow, a failed round-trip assertion) or
# times out. Prints each target's executions. docs/fuzzing.md says what each target covers.
#   ./scripts/fuzz.sh [SECONDS]
# FUZZ_JOBS (default 2): targets run at once. FUZZ_TARGETS: a space-separated subset.
# The build and the working corpora live in ${CARGO_TARGET_DIR:-target}/fuzz; the seeds in
# fuzz/corpus are read, never written.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SECONDS_EACH=${1:-60}
JOBS=${FUZZ_JOBS:-2}
CARGO_FUZZ_VERSION=0.13.2
TARGET_DIR=$(realpath -m "${CARGO_TARGET_DIR:-target}")/fuzz
RUN_DIR="$TARGET_DIR/run"

if ! cargo fuzz --version 2>/dev/null | grep -qF "$CARGO_FUZZ_VERSION"; then
  echo "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

cd fuzz
# The lock file is committed: refuse to build with one that would change.
cargo metadata --locked --format-version 1 >/dev/null
# `-s none`: no sanitizer, so no -Z flag and no nightly (safe Rust needs none to catch a panic
# or an overflow: release with debug assertions and overflow checks is cargo-fuzz's default).
started=$(date +%s)
cargo fuzz build -s none --target-dir "$TARGET_DIR"
echo "built in $(( $(date +%s) - started )) s"
bin_dir="$TARGET_DIR/x86_64-unknown-linux-gnu/release"
targets=${FUZZ_TARGETS:-$(cargo fuzz list)}

rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
run_one() {
  local t=$1
  mkdir -p "$RUN_DIR/corpus/$t" "$RUN_DIR/artifacts/$t"
  # The working corpus first (new inputs go there), then the committed seeds.
  local seeds=()
  [ -d "$ROOT/fuzz/corpus/$t" ] && seeds=("$ROOT/fuzz/corpus/$t")
  set +e
  "$bin_dir/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$RUN_DIR/artifacts/$t/" "$RUN_DIR/corpus/$t" "${seeds[@]}" >"$RUN_DIR/$t.log" 2>&1
  echo $? >"$RUN_DIR/$t.rc"
  set -e
}

started=$(date +%s)
for t in $targets; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  echo "fuzzing $t for ${SECONDS_EACH}s"
  run_one "$t" &
done
wait

failed=0
printf '\n%-20s %14s %10s  %s\n' target executions "exec/s" result
for t in $targets; do
  rc=$(cat "$RUN_DIR/$t.rc" 2>/dev/null || echo missing)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$RUN_DIR/$t.log" | tail -1)
  rate=$(( ${execs:-0} / (SECONDS_EACH > 0 ? SECONDS_EACH : 1) ))
  if [ "$rc" = 0 ]; then result=ok; else result="FAILED (exit $rc)"; failed=1; fi
  printf '%-20s %14s %10s  %s\n' "$t" "${execs:-?}" "$rate" "$result"
done
echo "ran $(echo "$targets" | wc -w) targets in $(( $(date +%s) - started )) s, $JOBS at a time"
if [ "$failed" != 0 ]; then
  for t in $targets; do
    if [ "$(cat "$RUN_DIR/$t.rc" 2>/dev/null)" != 0 ]; then
      echo; echo "== $t: $RUN_DIR/$t.log (last lines)"; tail -40 "$RUN_DIR/$t.log"
      ls "$RUN_DIR/artifacts/$t/" 2>/dev/null | sed "s|^|crash input: $RUN_DIR/artifacts/$t/|"
    fi
  done
  echo "a fuzz target failed: reproduce with $bin_dir/TARGET ARTIFACT, fix the decoder, add a regression test" >&2
  exit 1
fi
