#!/usr/bin/env bash
# The Debian base layer, a wheel built from an sdist and a pex are reproducible: built again from
# a second checkout at another path, with another output base, TZ, umask and locale, each file has
# the same sha256. Their actions are forced to run there (not taken from the cache); the
# interpreter they run on may come from the cache (tests/e2e/reproducible_toolchain_test.sh
# rebuilds that).
source "$(dirname "$0")/lib.sh"
TARGETS=(//third_party/debian:runtime_rootfs @pypi//markupsafe:whl //app:app_pex)
FORCE="--modify_execution_info=DebianRootfs=+no-remote-cache,BuildWheel=+no-remote-cache,PexBuild=+no-remote-cache"

outputs() {  # outputs BAZEL-BIN: the files to compare, relative to bazel-bin
  (cd "$1" && ls third_party/debian/runtime_rootfs.tar external/pypi/markupsafe/whl.wheel/*.whl app/app_pex.pex)
}

(cd "$ROOT" && bazel build --disk_cache="$DISK_CACHE" "${TARGETS[@]}") >"$SCRATCH/a.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/a.log" >&2; fail "build A failed"; }
A="$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null)"

B_WS="$SCRATCH/elsewhere/checkout"
clone_to "$B_WS"
(cd "$B_WS" && umask 077 && export TZ=America/St_Johns LANG=de_DE.UTF-8 LC_ALL=C.UTF-8 &&
  bz b build --disk_cache="$DISK_CACHE" "$FORCE" --execution_log_json_file="$SCRATCH/b.exec.json" "${TARGETS[@]}") >"$SCRATCH/b.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/b.log" >&2; fail "build B failed"; }
for mnemonic in DebianRootfs BuildWheel PexBuild; do
  [[ "$(spawn_status "$SCRATCH/b.exec.json" "$mnemonic")" == ran ]] || fail "build B did not run $mnemonic"
done
B="$(cd "$B_WS" && bz b info bazel-bin 2>/dev/null)"

for f in $(outputs "$A"); do
  a="$(sha256sum <"$A/$f" | cut -d' ' -f1)"
  [[ -f "$B/$f" ]] || fail "build B has no $f"
  b="$(sha256sum <"$B/$f" | cut -d' ' -f1)"
  if [[ "$a" != "$b" ]]; then
    mkdir -p /tmp/pyimage-repro-diff && cp "$A/$f" /tmp/pyimage-repro-diff/a-"$(basename "$f")" && cp "$B/$f" /tmp/pyimage-repro-diff/b-"$(basename "$f")"
    fail "$f differs: $a at $ROOT, $b at $B_WS (both copied to /tmp/pyimage-repro-diff)"
  fi
  echo "reproducible: $f ($(stat -c %s "$A/$f") bytes) sha256 $a at both paths"
done
