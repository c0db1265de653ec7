#!/usr/bin/env bash
# With --disk_cache, a fresh output base (what `bazel clean --expunge` leaves) gets the toolchain
# as a cache hit: Bazel's execution log shows the CPython compile answered by the cache, none run.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
T="@pyimage_python//:cpython_3_13_15"

bazel build --disk_cache="$DISK_CACHE" --output_groups=build_copy,runtime_tar "$T" >"$SCRATCH/warm.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/warm.log" >&2; fail "warming the cache failed"; }
start=$(date +%s)
bz fresh build --disk_cache="$DISK_CACHE" --output_groups=build_copy,runtime_tar \
  --execution_log_json_file="$SCRATCH/exec.json" "$T" >"$SCRATCH/fresh.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/fresh.log" >&2; fail "the build in a fresh output base failed"; }
secs=$(( $(date +%s) - start ))
python3 - "$SCRATCH/exec.json" <<'PY'
import json, sys
text = open(sys.argv[1]).read()
spawns = json.loads("[" + text.replace("}{", "},{").replace("}\n{", "},\n{") + "]")
builds = [s for s in spawns if s.get("mnemonic") == "CPythonBuild"]
if not builds:
    sys.exit("FAIL: no CPythonBuild spawn in the execution log")
missed = [s for s in builds if not s.get("remoteCacheHit")]
if missed:
    sys.exit("FAIL: CPythonBuild ran instead of coming from the cache")
print("ok: %d CPythonBuild spawn(s), all cache hits" % len(builds))
PY
echo "ok: toolchain from the disk cache into a fresh output base in ${secs}s (including Bazel's start)"
