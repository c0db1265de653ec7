#!/usr/bin/env bash
# The whole test suite: set-up, `bazel test //...`, then the end-to-end checks that drive Bazel
# from outside (bad input, the version flag, a reproducible interpreter from a second clone).
#
#   tools/test.sh
#
# Bazel's disk cache ($PYIMAGE_DISK_CACHE, default ~/.cache/rules_pyimage/disk) is shared by
# these builds, except where a check is about building twice.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh

DISK_CACHE="${PYIMAGE_DISK_CACHE:-$HOME/.cache/rules_pyimage/disk}"
mkdir -p "$DISK_CACHE"
passed=0 failed=0
summary() { echo "summary: $passed passed, $failed failed"; }
trap summary EXIT

set +e
bazel test --disk_cache="$DISK_CACHE" //... 2>&1 | tee /tmp/pyimage-bazel-test.log
rc=${PIPESTATUS[0]}
set -e
passed=$((passed + $(grep -cE '^//.* (PASSED|\(cached\) PASSED)' /tmp/pyimage-bazel-test.log || true)))
failed=$((failed + $(grep -cE '^//.* (FAILED|TIMEOUT|NO STATUS|FAILED TO BUILD)' /tmp/pyimage-bazel-test.log || true)))
if [[ $rc -ne 0 ]]; then
  [[ $failed -gt 0 ]] || failed=$((failed + 1))
  echo "bazel test //... failed (exit $rc)"
  exit 1
fi

for t in tests/e2e/*_test.sh; do
  echo "=== $t"
  if PYIMAGE_DISK_CACHE="$DISK_CACHE" bash "$t"; then
    passed=$((passed + 1)); echo "PASSED $t"
  else
    failed=$((failed + 1)); echo "FAILED $t"
  fi
done
[[ $failed -eq 0 ]]
