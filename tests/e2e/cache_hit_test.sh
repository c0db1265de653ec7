#!/usr/bin/env bash
# With --disk_cache, a fresh output base (what `bazel clean --expunge` leaves) gets the toolchain
# as a cache hit: Bazel's execution log shows the CPython compile answered by the cache, none run.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
T="@pyimage_python//:python3.14.7"  # the cpython_exec: the compile in the exec configuration

bazel build --disk_cache="$DISK_CACHE" --output_groups=build_copy,runtime_tar "$T" >"$SCRATCH/warm.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/warm.log" >&2; fail "warming the cache failed"; }
start=$(date +%s)
bz fresh build --disk_cache="$DISK_CACHE" --output_groups=build_copy,runtime_tar \
  --execution_log_json_file="$SCRATCH/exec.json" "$T" >"$SCRATCH/fresh.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/fresh.log" >&2; fail "the build in a fresh output base failed"; }
secs=$(( $(date +%s) - start ))
[[ "$(spawn_status "$SCRATCH/exec.json" CPythonBuild)" == cached ]] \
  || fail "CPythonBuild ran (or is missing) instead of coming from the cache"
echo "ok: the CPythonBuild spawn was a cache hit"
echo "ok: toolchain from the disk cache into a fresh output base in ${secs}s (including Bazel's start)"
