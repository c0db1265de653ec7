#!/usr/bin/env bash
# The Debian base layer is reproducible: assembled again from a second checkout at another path,
# with another output base, TZ, umask and locale, its tar has the same sha256. The layer action
# is forced to run (not taken from the cache); the interpreter it runs on may come from the cache.
source "$(dirname "$0")/lib.sh"
T=//third_party/debian:runtime_rootfs

(cd "$ROOT" && bazel build --disk_cache="$DISK_CACHE" "$T") >"$SCRATCH/a.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/a.log" >&2; fail "build A failed"; }
A="$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null)/third_party/debian/runtime_rootfs.tar"

B_WS="$SCRATCH/elsewhere/checkout"
clone_to "$B_WS"
(cd "$B_WS" && umask 077 && export TZ=America/St_Johns LANG=de_DE.UTF-8 LC_ALL=C.UTF-8 &&
  bz b build --disk_cache="$DISK_CACHE" --modify_execution_info=DebianRootfs=+no-remote-cache "$T") >"$SCRATCH/b.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/b.log" >&2; fail "build B failed"; }
expect_in "$SCRATCH/b.log" "From Assembling the Debian base layer"
B="$(cd "$B_WS" && bz b info bazel-bin 2>/dev/null)/third_party/debian/runtime_rootfs.tar"

a="$(sha256sum <"$A" | cut -d' ' -f1)" b="$(sha256sum <"$B" | cut -d' ' -f1)"
[[ "$a" == "$b" ]] || fail "the base layer differs: $a at $ROOT, $b at $B_WS"
echo "reproducible: Debian base layer $(stat -c %s "$A") bytes, sha256 $a at both paths"
