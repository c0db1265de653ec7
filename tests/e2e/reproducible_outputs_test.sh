#!/usr/bin/env bash
# The image is reproducible, and its actions are ready for remote execution: a second checkout at
# another path, with another output base, TZ, umask and user locale, builds //app:image (and the
# base layer, a wheel built from an sdist, the pex) again with every action except CPython's
# compile forced to run (not taken from any cache), each in Bazel's sandbox with no network and
# the strict action environment; every output and the manifest digest are the same as checkout
# A's. (tests/e2e/minimal_host_test.sh rebuilds the interpreter itself, on another host.)
source "$(dirname "$0")/lib.sh"
TARGETS=(//app:image //app:image.tar //third_party/debian:runtime_rootfs @pypi//markupsafe:whl //app:app_pex)
# Every mnemonic but CPythonBuild skips the caches; actions that skip the sandbox locally for speed
# (the image's) are put back in it, so the no-network rule applies to them too.
ISOLATED=(--sandbox_default_allow_network=false --incompatible_strict_action_env
  "--modify_execution_info=^(?!CPythonBuild\$).*=+no-remote-cache,.*=-no-sandbox")

outputs() {  # outputs BAZEL-BIN: the files to compare, relative to bazel-bin
  (cd "$1" && ls app/image.digest app/image.tar third_party/debian/runtime_rootfs.tar \
    external/pypi/markupsafe/whl.wheel/*.whl app/app_pex.pex)
}

(cd "$ROOT" && bazel build --disk_cache="$DISK_CACHE" "${TARGETS[@]}") >"$SCRATCH/a.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/a.log" >&2; fail "build A failed"; }
A="$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null)"

B_WS="$SCRATCH/elsewhere/checkout"
clone_to "$B_WS"

# First, that the sandbox really has no network under these flags: a genrule that connects to a
# port listening on the host's 127.0.0.1 fails with them and works without.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
print(s.getsockname()[1], flush=True); time.sleep(900)' >"$SCRATCH/port" &
LISTENER=$!
trap 'kill $LISTENER 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do [[ -s "$SCRATCH/port" ]] && break; sleep 0.1; done
probe() {  # probe MARK FLAGS...: build a genrule that connects to the listener (MARK makes it new)
  local mark="$1"; shift
  mkdir -p "$B_WS/netprobe"
  cat >"$B_WS/netprobe/BUILD.bazel" <<BUILD
genrule(
    name = "connect",
    outs = ["connected.txt"],
    cmd = "/usr/bin/python3 -c 'import socket; socket.create_connection((\\"127.0.0.1\\", $(cat "$SCRATCH/port")), 5)' && echo $mark >\$@",
)
BUILD
  (cd "$B_WS" && bz b build --disk_cache= "$@" //netprobe:connect)
}
probe allowed --sandbox_default_allow_network=true >"$SCRATCH/net-on.log" 2>&1 \
  || { tail -n 20 "$SCRATCH/net-on.log" >&2; fail "the probe could not connect even with the network allowed"; }
if probe denied "${ISOLATED[@]}" >"$SCRATCH/net-off.log" 2>&1; then
  fail "a build action reached 127.0.0.1 of the host with --sandbox_default_allow_network=false"
fi
grep -qE "Connection refused|Network is unreachable|Cannot assign" "$SCRATCH/net-off.log" \
  || { tail -n 20 "$SCRATCH/net-off.log" >&2; fail "the probe failed for another reason"; }
rm -rf "$B_WS/netprobe"
echo "ok: with --sandbox_default_allow_network=false an action cannot connect to the host (without it, it can)"

(cd "$B_WS" && umask 077 && export TZ=America/St_Johns LANG=de_DE.UTF-8 LC_ALL=C.UTF-8 &&
  bz b build --disk_cache="$DISK_CACHE" "${ISOLATED[@]}" --execution_log_json_file="$SCRATCH/b.exec.json" "${TARGETS[@]}") >"$SCRATCH/b.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/b.log" >&2; fail "build B failed (with no network in the sandbox and the strict action env)"; }
for mnemonic in DebianRootfs BuildWheel RepairWheel UnpackWheel PexBuild ImageVenv ImageApp ImageLibCheck LayerGzip ImageAssemble; do
  [[ "$(spawn_status "$SCRATCH/b.exec.json" "$mnemonic")" == ran ]] || fail "build B did not run $mnemonic"
done
echo "ok: build B ran every action but CPython's compile, sandboxed with no network"
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
echo "ok: manifest digest $(cat "$A/app/image.digest") from both checkouts"
