#!/usr/bin/env bash
# `bazel run //app:image.verify`, the release check: it rebuilds the image in a scratch output base
# and compares digests. Here the scratch build may take CPython's compile from the disk cache (the
# documented shortcut) but must run every other action; the workspace's bazel-bin is left alone.
# A stamped build, which carries its build time, must fail the check and say why.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
DC="--disk_cache=$DISK_CACHE"
RERUN='--modify_execution_info=^(?!CPythonBuild$).*=+no-remote-cache'
bin_before="$(readlink bazel-bin || true)"
scratch_before="$(ls -d /tmp/pyimage-verify.* 2>/dev/null | sort || true)"

bazel run "$DC" //app:image.verify -- "$DC" "$RERUN" --execution_log_json_file="$SCRATCH/v.exec.json" \
  >"$SCRATCH/verify.log" 2>"$SCRATCH/verify.err" || { tail -n 30 "$SCRATCH/verify.err" >&2; fail "image.verify failed on an unstamped build"; }
DIGEST="$(cat "$(bazel info bazel-bin 2>/dev/null)/app/image.digest")"
expect_in "$SCRATCH/verify.log" "has the digest of this build, $DIGEST"
for mnemonic in DebianRootfs BuildWheel RepairWheel UnpackWheel ImageVenv ImageApp ImageLibCheck LayerGzip ImageAssemble; do
  [[ "$(spawn_status "$SCRATCH/v.exec.json" "$mnemonic")" == ran ]] || fail "the scratch build did not run $mnemonic"
done
[[ "$(readlink bazel-bin || true)" == "$bin_before" ]] || fail "image.verify repointed bazel-bin to $(readlink bazel-bin)"
[[ "$(ls -d /tmp/pyimage-verify.* 2>/dev/null | sort || true)" == "$scratch_before" ]] \
  || fail "image.verify left its scratch output base behind"
echo "ok: $(tail -n1 "$SCRATCH/verify.log")"

# Stamped: the config carries the build time, so the scratch (unstamped) rebuild differs.
if bazel run "$DC" --config=release //app:image.verify -- "$DC" "$RERUN" >"$SCRATCH/stamped.log" 2>"$SCRATCH/stamped.err"; then
  fail "image.verify passed a stamped build"
fi
expect_in "$SCRATCH/stamped.err" "ERROR: NOT reproducible: //app:image rebuilt from scratch has $DIGEST"
expect_in "$SCRATCH/stamped.err" "the image config differs in: created, config.Labels"
expect_in "$SCRATCH/stamped.err" "this build is stamped"
grep -q "layer .* differs" "$SCRATCH/stamped.err" && fail "a stamped build changed a layer: $(grep 'layer .* differs' "$SCRATCH/stamped.err")"
echo "ok: a stamped build fails the check: $(grep -m1 'config differs' "$SCRATCH/stamped.err" | sed 's/^ *//')"
bazel build "$DC" //app:image >/dev/null 2>&1  # leave bazel-bin unstamped
