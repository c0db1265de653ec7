#!/usr/bin/env bash
# Same commit, same image, whatever the host has installed; and a team's gRPC cache shared by
# hosts that differ. //app:image is built three times:
#   A. this host, with Bazel 7.7.1 and bzlmod (tools/bazel7.sh): its Debian sid root filesystem has
#      gcc 16 and the -dev packages of a newer glibc, whatever this Debian 12 host has besides;
#   B. a minimal Debian 12 root filesystem (mmdebstrap, minbase) holding Bazel 4.2.3, its JRE and
#      the fetch clients (python3-pip, curl) and NO compiler, binutils or -dev package (they are
#      purged after Bazel's install pulls them in), entered with a mount and PID namespace and
#      pivot_root, from a clone at another path, cold: no disk cache, and a remote cache that is
#      empty (BuildGrid over gRPC on 127.0.0.1, locked in tests/e2e/buildgrid/), which B fills;
#   C. a fresh clone on this host, Bazel 4.2.3, against that gRPC cache only: every spawn,
#      CPython's compile included, must come from the cache (Bazel's execution log is the proof).
#   D. clone C pushes the image lazily (--//rules:push_from_cache=grpc://...): its blobs stream
#      from BuildGrid's ByteStream to a registry on 127.0.0.1, which then holds the built digest.
# All must give the digests committed in app/image.digests; the wheel built from markupsafe's
# sdist and every file of the compiled CPython (build copy and runtime tar) must be the same
# bytes on A and B. It prints how long each build took.
#
#   tests/e2e/minimal_host_test.sh
#
# A uses the shared disk cache (tools/test.sh runs this script right after Bazel 7's
# `bazel test //...`, so A compiles nothing). C's Bazel writes what it takes from the gRPC cache
# into an empty disk cache of its own, which is then added to the shared one: Bazel 4's
# `bazel test //...`, run after this script, takes the default CPython from there instead of
# compiling it a third time. The minimal root filesystem is kept in
# ~/.cache/rules_pyimage/minimal-host (PYIMAGE_MINIMAL_HOST to move it) and made again when this
# script's package list changes. Build B compiles CPython once (a few minutes); it is the suite's
# proof that the compile does not depend on the host.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/remote_cache_lib.sh"
[[ "$(id -u)" -eq 0 ]] || fail "this test enters a chroot: run it as root"

PACKAGES="bazel-bootstrap,bazel-skylib,python3,python3-pip,curl,ca-certificates,xz-utils"
# What Debian's bazel-bootstrap pulls in for C++ builds, purged again (dpkg --force-depends):
# every *-dev package and the compiler, binutils and make.
PURGE_RE='(-dev|^gcc(-[0-9]+)?|^g\+\+(-[0-9]+)?|^cpp(-[0-9]+)?|^binutils.*|^libbinutils|^make|^build-essential|^libc-dev-bin|^dpkg-dev|^libgcc-[0-9]+-dev|^libstdc\+\+-[0-9]+-dev)$'
KEY="$(printf '%s\n%s\n%s\n' "$PACKAGES" "$PURGE_RE" "v1" | sha256sum | cut -c1-16)"
STORE="${PYIMAGE_MINIMAL_HOST:-$HOME/.cache/rules_pyimage/minimal-host}"
R="$STORE/rootfs-$KEY"

# make_rootfs: the minimal host's root filesystem at R, made once (tools/test.sh calls
# `minimal_host_test.sh --prepare` in the background while Bazel compiles: it mostly downloads).
make_rootfs() {
  [[ -f "$R/.complete" ]] && return 0
  command -v mmdebstrap >/dev/null || fail "mmdebstrap is missing (tools/setup.sh installs it)"
  echo "making the minimal Debian 12 host in $R (once)"
  rm -rf "$STORE"/rootfs-*
  mkdir -p "$STORE"
  # This machine's mirrors and the CAs it trusts (HTTPS may pass a proxy with its own CA): what
  # any host of the team has configured. Nothing else of this host goes in.
  CA_HOOKS=()
  if [[ -d /usr/local/share/ca-certificates ]]; then
    CA_HOOKS=(--setup-hook='mkdir -p "$1/usr/local/share/ca-certificates"'
      --setup-hook='copy-in /usr/local/share/ca-certificates/. /usr/local/share/ca-certificates/')
  fi
  mmdebstrap --variant=minbase --include="$PACKAGES" --aptopt='APT::Install-Recommends "false"' \
    "${CA_HOOKS[@]}" \
    bookworm "$R.tmp" /etc/apt/sources.list.d/debian.sources >"$SCRATCH/mmdebstrap.log" 2>&1 \
    || { tail -n 30 "$SCRATCH/mmdebstrap.log" >&2; rm -rf "$R.tmp"; fail "mmdebstrap failed"; }
  mapfile -t purge < <(chroot "$R.tmp" dpkg-query -W -f='${Package}\n' | grep -E "$PURGE_RE")
  chroot "$R.tmp" dpkg --purge --force-depends "${purge[@]}" >"$SCRATCH/purge.log" 2>&1 \
    || { tail -n 20 "$SCRATCH/purge.log" >&2; fail "purging the compiler from the minimal host failed"; }
  touch "$R.tmp/.complete"
  mv "$R.tmp" "$R"
}
if [[ "${1:-}" == --prepare ]]; then
  make_rootfs
  exit 0
fi

image_digests() {  # image_digests BAZEL-BIN: the manifest and layer digests, like app/image.digests
  python3 "$ROOT/rules/private/tools/image_digests.py" list --layout "$1/app/image" \
    --digests /dev/null | grep -v '^#'
}
# repo_dir BIN NAME: the directory of the repository NAME's outputs under BIN (external/NAME on
# Bazel 4, external/_main~pyimage~NAME on Bazel 7's bzlmod).
repo_dir() {
  local d
  for d in "$1/external/$2" "$1"/external/*[~+]"$2"; do
    [[ -d "$d" ]] && { echo "$d"; return 0; }
  done
  fail "no outputs of the repository $2 under $1/external"
}
cpython_sums() {  # cpython_sums BAZEL-BIN: sha256 of every file of the compiled CPython 3.14.7
  # (built in the exec configuration: bazel-out/<cpu>-opt-exec-<hash>/bin, beside BAZEL-BIN's, in
  # the repository pyimage_python; the paths printed are relative to it, so Bazel 4's and 7's
  # compare). Left out: Bazel's runfiles and the .repo_mapping file Bazel 7 writes beside an
  # executable, which are Bazel's, not the compile's. Links are followed (find -L): a tree
  # artifact's relative link (lib/pkgconfig/python3.pc -> python-3.13.pc) is a link where Bazel
  # ran the compile, and a copy of its target where Bazel 7 took the tree from a disk cache; the
  # content is what is compared.
  local dir
  dir="$(ls -d "$1"/../../*-exec-*/bin/external/*pyimage_python/cpython_3_14_7 2>/dev/null |
    head -n 1 || true)"
  [[ -n "$dir" ]] || fail "no compiled CPython 3.14.7 in an exec configuration beside $1"
  (cd "$dir/.." &&
    find -L cpython_3_14_7 \( -name '*.runfiles*' -o -name '*.repo_mapping' \) -prune -o -type f -print0 |
    sort -z | xargs -0 sha256sum && sha256sum cpython_3_14_7.runtime.tar)
}
whl_sum() {  # whl_sum BAZEL-BIN: sha256 and name of the markupsafe wheel built from its sdist
  (cd "$(repo_dir "$1" pypi)/markupsafe" && sha256sum whl.wheel/*.whl)
}
TARGETS=(//app:image @pypi//markupsafe:whl @pyimage_python//:python3.14.7)
# shellcheck disable=SC2054  # one flag whose value has a comma
OUTPUTS=(--output_groups=+build_copy,+runtime_tar)

# --- A: this host, Bazel 7 ------------------------------------------------------------------------
B7=("$ROOT/tools/bazel7.sh")
t0=$SECONDS
(cd "$ROOT" && "${B7[@]}" build --disk_cache="$DISK_CACHE" "${OUTPUTS[@]}" "${TARGETS[@]}") >"$SCRATCH/a.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/a.log" >&2; fail "build A (this host, Bazel 7) failed"; }
ta=$((SECONDS - t0))
A_BIN="$(cd "$ROOT" && "${B7[@]}" info bazel-bin 2>"$SCRATCH/a-info.log")" \
  || { cat "$SCRATCH/a-info.log" >&2; fail "Bazel 7: bazel info bazel-bin failed"; }
image_digests "$A_BIN" >"$SCRATCH/a.digests"
cpython_sums "$A_BIN" >"$SCRATCH/a.cpython"
a_whl="$(whl_sum "$A_BIN")"

# --- B: the minimal host --------------------------------------------------------------------------
make_rootfs
for tool in gcc cc g++ cpp ld as make; do
  chroot "$R" /bin/sh -c "command -v $tool" >/dev/null 2>&1 && fail "the minimal host has $tool"
done
[[ ! -e "$R/usr/include/openssl" && ! -e "$R/usr/include/stdio.h" ]] || fail "the minimal host has C headers"
devs="$(chroot "$R" dpkg-query -W -f='${Package} ${Status}\n' | grep -E -- '-dev .*installed$' || true)"
[[ -z "$devs" ]] || fail "the minimal host has -dev packages: $devs"

PORT="$(free_port)"
start_buildgrid "$SCRATCH/buildgrid" "$PORT"
trap 'stop_buildgrid; cleanup' EXIT
GRPC=(--remote_cache="grpc://127.0.0.1:$PORT" --remote_instance_name=pyimage)

B_WS="/home/someone/another/path/ws"
rm -rf "$R/home/someone" "$R/root/.cache"
clone_to "$R$B_WS"
cat >"$SCRATCH/b.sh" <<EOF
set -euo pipefail
export HOME=/root LANG=C.UTF-8 TZ=Asia/Kathmandu PIP_CERT=/etc/ssl/certs/ca-certificates.crt
cd "$B_WS"
python3 tools/mirror_cpython.py --versions 3.14.7 --repository-cache /root/.cache/repo >/dev/null
umask 077
start=\$(date +%s)
bazel --output_base=/root/.cache/ob build --repository_cache=/root/.cache/repo --disk_cache= \
  --sandbox_default_allow_network=false --incompatible_strict_action_env \
  ${GRPC[*]} --execution_log_json_file=/root/b.exec.json \
  ${OUTPUTS[*]} ${TARGETS[*]}
echo "seconds: \$((\$(date +%s) - start))"
EOF
cp "$SCRATCH/b.sh" "$R/root/b.sh"
t0=$SECONDS
# A mount and PID namespace whose root is the minimal filesystem (pivot_root, not a plain chroot:
# the kernel lets a chrooted process make no user namespace, and the builder needs one).
unshare --mount --pid --fork --propagation private /bin/sh -c '
  set -e
  R="$1"
  mount --bind "$R" "$R"
  mount --rbind /dev "$R/dev"; mount -t proc proc "$R/proc"; mount --rbind /sys "$R/sys"
  mount -t tmpfs tmpfs "$R/tmp"; mount -t tmpfs tmpfs "$R/run"
  if [ -e /etc/resolv.conf ]; then mount --bind /etc/resolv.conf "$R/etc/resolv.conf"; fi
  mkdir -p "$R/.oldroot"
  cd "$R"
  pivot_root . .oldroot
  exec /usr/sbin/chroot . /bin/sh -c "umount -l /.oldroot && rmdir /.oldroot && exec /bin/bash /root/b.sh"' sh "$R" >"$SCRATCH/b.log" 2>&1 \
  || { tail -n 40 "$SCRATCH/b.log" >&2; fail "build B (the minimal host) failed"; }
tb=$((SECONDS - t0))
grep -q "Compiling CPython 3.14.7" "$SCRATCH/b.log" || fail "build B did not compile CPython (a cache answered?)"
[[ "$(spawn_status "$R/root/b.exec.json" CPythonBuild)" == ran ]] || fail "build B did not run CPython's compile itself"
if grep -q "WARNING: .*Remote Cache" "$SCRATCH/b.log"; then
  grep -A3 "WARNING: .*Remote Cache" "$SCRATCH/b.log" | head >&2; fail "build B could not use the gRPC cache"
fi

# --- C: this host again, from the cache B filled ---------------------------------------------------
# Its disk cache starts empty, so every hit the execution log shows came over gRPC.
c_got="$(from_cache c "${GRPC[@]}" --disk_cache="$SCRATCH/c-disk")"
c_kept="$(keep_in_disk_cache "$SCRATCH/c-disk")"
B_BIN="$R/root/.cache/ob/execroot/rules_pyimage/bazel-out/k8-fastbuild/bin"
image_digests "$B_BIN" >"$SCRATCH/b.digests"
cpython_sums "$B_BIN" >"$SCRATCH/b.cpython"
b_whl="$(whl_sum "$B_BIN")"

# --- D: a lazy push from the gRPC cache -------------------------------------------------------------
# Clone C's output base again, with the push reading the blobs from BuildGrid (FindMissingBlobs,
# then ByteStream Read, streamed to a registry on 127.0.0.1): the image pulled back must have the
# built digest. Bazel 4's `bazel run` needs the runfiles (the manifest) downloaded.
start_registry "$SCRATCH/registry"
RPORT="$REGISTRY_PORT"
trap 'kill $REGISTRY_PID 2>/dev/null || true; stop_buildgrid; cleanup' EXIT
(cd "$SCRATCH/c/checkout" && bz c run --disk_cache= "${GRPC[@]}" --remote_download_toplevel \
  --//rules:push_from_cache="grpc://127.0.0.1:$PORT/pyimage" //app:image.push -- \
  --repository "127.0.0.1:$RPORT/lazy/image:v1" --dest-tls-verify=false) >"$SCRATCH/d-push.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/d-push.log" >&2; fail "the lazy push from the gRPC cache failed"; }
d_streamed="$(grep -o '"streamed_bytes": [0-9]*' "$SCRATCH/d-push.log" | grep -o '[0-9]*$')"
[[ "${d_streamed:-0}" -gt 1000000 ]] || fail "the lazy push streamed ${d_streamed:-no} bytes from the gRPC cache"
skopeo inspect --tls-verify=false "docker://127.0.0.1:$RPORT/lazy/image:v1" --format '{{.Digest}}' >"$SCRATCH/d.digest" 2>"$SCRATCH/d-inspect.log" \
  || { cat "$SCRATCH/d-inspect.log" >&2; fail "the registry has no lazy/image:v1 after the lazy push"; }

# --- compare ----------------------------------------------------------------------------------------
grep -v '^#' "$ROOT/app/image.digests" | grep . >"$SCRATCH/golden.digests"
diff "$SCRATCH/a.digests" "$SCRATCH/golden.digests" >&2 || fail "this host's //app:image differs from app/image.digests (above)"
diff "$SCRATCH/b.digests" "$SCRATCH/golden.digests" >&2 || fail "the minimal host's //app:image differs from app/image.digests (above)"
want="$(grep '^manifest ' "$SCRATCH/golden.digests" | cut -d' ' -f2)"
[[ "$(cat "$SCRATCH/c.digest")" == "$want" ]] || fail "clone C, from the gRPC cache, built $(cat "$SCRATCH/c.digest"), not $want"
n="$(wc -l <"$SCRATCH/a.cpython")"
diff "$SCRATCH/a.cpython" "$SCRATCH/b.cpython" >"$SCRATCH/cpython.diff" \
  || { head -n 20 "$SCRATCH/cpython.diff" >&2; fail "CPython 3.14.7 differs between the hosts: $(grep -c '^<' "$SCRATCH/cpython.diff") of $n files"; }
[[ "$a_whl" == "$b_whl" ]] || fail "the markupsafe wheel differs: $a_whl vs $b_whl"

R7="$("${B7[@]}" --rootfs)"
a_gcc="$(chroot "$R7" gcc -dumpfullversion 2>/dev/null || echo 'not installed')"
a_libc="$(dpkg-query --admindir="$R7/var/lib/dpkg" -W -f='${Version}' libc6-dev 2>/dev/null || echo 'not installed')"
echo "ok: //app:image $(head -n1 "$SCRATCH/a.digests" | cut -d' ' -f2) on both hosts, equal to app/image.digests"
echo "  this host, Bazel 7.7.1 in Debian sid (gcc $a_gcc, libc6-dev $a_libc): ${ta} s, shared disk cache"
echo "  minimal Debian 12 (no compiler, no binutils, no -dev package), clone at $B_WS, empty gRPC cache: ${tb} s in all, $(grep -o 'seconds: [0-9]*' "$SCRATCH/b.log" | cut -d' ' -f2) s of it the cold bazel build (CPython compiled in the builder)"
echo "  CPython 3.14.7: $n files identical; markupsafe wheel ${a_whl%% *} on both"
echo "ok: clone C on this host (Bazel 4.2.3) took every spawn from the gRPC cache that the minimal host filled ($c_got), and built $want"
echo "  and added $c_kept action results it took to the shared disk cache"
[[ "$(cat "$SCRATCH/d.digest")" == "$want" ]] || fail "the lazy push from the gRPC cache left $(cat "$SCRATCH/d.digest") in the registry, not $want"
echo "ok: a lazy push from the gRPC cache (BuildGrid's ByteStream) streamed $d_streamed bytes to a registry, which holds $want"
