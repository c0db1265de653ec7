#!/usr/bin/env bash
# The whole test suite: set-up, the lint gate (tools/lint.sh, seconds; a finding stops the run
# before any build), `bazel test //...` on Bazel 7.7.1 (bzlmod, tools/bazel7.sh) and on
# Bazel 4.2.3 (WORKSPACE), with two end-to-end checks between them that fill the disk cache for
# the second (see below), then the other end-to-end checks that drive Bazel from outside (bad
# input, the version flag, a reproducible interpreter from a second clone, a consumer workspace).
#
#   tools/test.sh
#
# Bazel's disk cache ($PYIMAGE_DISK_CACHE, default ~/.cache/rules_pyimage/disk) is shared by
# these builds, except where a check is about building twice.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
tools/setup.sh
echo "=== set-up took $SECONDS s"

DISK_CACHE="${PYIMAGE_DISK_CACHE:-$HOME/.cache/rules_pyimage/disk}"
mkdir -p "$DISK_CACHE"
passed=0 failed=0
summary() { echo "summary: $passed passed, $failed failed ($((SECONDS - start)) s in all)"; }
trap summary EXIT

echo "=== tools/lint.sh"
if tools/lint.sh; then
  passed=$((passed + 1))
else
  failed=$((failed + 1))
  echo "the lint gate failed (above): fix the findings (tools/lint.sh --fix formats Starlark) and run again"
  exit 1
fi

# bazel_test LABEL BAZEL [FLAG...]: `bazel test //...` with that Bazel, counted into the summary.
bazel_test() {
  local what="$1" bazel="$2" log rc t0=$SECONDS
  shift 2
  log="$(mktemp /tmp/pyimage-bazel-test.XXXXXX)"
  echo "=== bazel test //... on $what"
  set +e
  "$bazel" test --disk_cache="$DISK_CACHE" "$@" //... 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  passed=$((passed + $(grep -cE '^//.* (PASSED|\(cached\) PASSED)' "$log" || true)))
  failed=$((failed + $(grep -cE '^//.* (FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)' "$log" || true)))
  rm -f "$log"
  echo "=== bazel test //... on $what took $((SECONDS - t0)) s"
  if [[ $rc -ne 0 ]]; then
    [[ $failed -gt 0 ]] || failed=$((failed + 1))
    echo "bazel test //... on $what failed (exit $rc)"
    exit 1
  fi
}
# run_e2e SCRIPT: one end-to-end check, counted into the summary.
run_e2e() {
  local t0=$SECONDS
  echo "=== $1"
  if PYIMAGE_DISK_CACHE="$DISK_CACHE" bash "$1"; then
    passed=$((passed + 1)); echo "PASSED $1 ($((SECONDS - t0)) s)"
  else
    failed=$((failed + 1)); echo "FAILED $1 ($((SECONDS - t0)) s)"
  fi
}

# The order saves two cold compiles (about 8 minutes of a cold run): Bazel 4's and Bazel 7's cache
# keys differ (their external repositories' paths do), and two end-to-end checks compile CPython
# cold by design. So Bazel 7 compiles the default CPython (PGO and LTO) first;
# tests/e2e/minimal_host_test.sh then compares that build (A, from the disk cache) with the minimal
# host's (B, Bazel 4), and tests/e2e/remote_cache_http_test.sh compiles 3.13.15. The last clone of
# each takes everything from the remote cache the check filled, writes it into an empty disk cache,
# and adds that to the shared one: Bazel 4's `bazel test //...` finds both compiles there.
#
# The minimal host's root filesystem is mostly downloading: make it while Bazel compiles (once; if
# this fails, the test makes it again and says why).
prepare_log="$(mktemp /tmp/pyimage-minimal-host.XXXXXX)"
bash tests/e2e/minimal_host_test.sh --prepare >"$prepare_log" 2>&1 &
prepare_pid=$!
# Bazel 7 leaves out the targets tagged other_python: they only compile the other CPython releases
# (a cold compile each, no cache key shared with Bazel 4's), with rules that Bazel 4 runs too;
# tests/e2e/consumer_test.sh compiles and runs a non-default release on Bazel 7. It also leaves
# out the tests tagged requires-network: they test the lock and report tools against the mirrors
# (the same Python on either Bazel; Bazel 4 runs them), and consumer_test runs a consumer's lock
# tests on Bazel 7.
bazel_test "Bazel 7.7.1 (bzlmod)" tools/bazel7.sh --build_tag_filters=-other_python \
  --test_tag_filters=-other_python,-requires-network
wait "$prepare_pid" || { echo "preparing the minimal host failed:"; tail -n 20 "$prepare_log"; }
rm -f "$prepare_log"
FIRST=(tests/e2e/minimal_host_test.sh tests/e2e/remote_cache_http_test.sh)
for t in "${FIRST[@]}"; do run_e2e "$t"; done
bazel_test "Bazel 4.2.3 (WORKSPACE)" bazel
# The consumer check is mostly two cold compiles of its own CPython (no cache key shared with
# anything else); the other checks mostly wait on Bazel's start-up and analysis, podman and their
# servers. So it runs beside them, in its own workspace, output bases and podman storage, and its
# output is printed when it ends.
BESIDE=tests/e2e/consumer_test.sh
beside_log="$(mktemp /tmp/pyimage-consumer.XXXXXX)"
run_e2e "$BESIDE" >"$beside_log" 2>&1 &
beside_pid=$!
for t in tests/e2e/*_test.sh; do
  [[ " ${FIRST[*]} $BESIDE " == *" $t "* ]] || run_e2e "$t"
done
echo "=== waiting for $BESIDE (run beside the checks above); its output:"
wait "$beside_pid" || true
cat "$beside_log"
# run_e2e counted it in a background shell: count it here, from the line it printed last.
if grep -q "^PASSED $BESIDE " "$beside_log"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
rm -f "$beside_log"
[[ $failed -eq 0 ]]
