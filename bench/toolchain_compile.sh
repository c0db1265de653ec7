#!/usr/bin/env bash
# Cost of compiling CPython in the hermetic builder, against the host compile it replaced and
# against the same configure and make by hand.
#
#   bench/toolchain_compile.sh [VERSION]     (default 3.13.15; about 4 x 2 minutes here)
#
# 1. builder: this checkout, a fresh output base and no cache: first the builder alone
#    (BuilderRootfs unpacks its .deb files: once per builder lock, then it comes from the cache),
#    then CPythonBuild (unpack the builder tar, enter it, configure, make, install, trim, strip,
#    check the hardening, tar), timed apart;
# 2. host: the same in a worktree of commit 17ecc65, the last one that compiled with the host's
#    gcc and -dev packages (it needs them installed: build-essential and the -dev list of the
#    README of that commit);
# 3. by hand: untar, ./configure with the same flags, make -jN, make install, with the host's gcc;
# 4. the builder tree from a warm disk cache into a fresh output base (what every machine but the
#    first pays).
# Prints the times and the ratios, from one run each.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${1:-3.13.15}"
HOST_COMMIT=17ecc65
T="cpython_${VERSION//./_}"
W="$(mktemp -d /tmp/pyimage-bench.XXXXXX)"
cleanup() {
  for ob in "$W"/ob-*; do [[ -d "$ob" ]] && bazel --output_base="$ob" shutdown >/dev/null 2>&1 || true; done
  (cd "$ROOT" && git worktree remove --force "$W/host" >/dev/null 2>&1) || true
  chmod -R u+w "$W"; rm -rf "$W"
}
trap cleanup EXIT
now() { date +%s.%N; }

timed_build() {  # timed_build DIR OUTPUT_BASE ARGS...: prints seconds
  local dir="$1" ob="$2"; shift 2
  (cd "$dir" && bazel --output_base="$ob" info >/dev/null 2>&1 &&   # the server starts outside the timing
    bazel --output_base="$ob" fetch "@pyimage_python//:$T" >/dev/null 2>&1)
  local t0; t0=$(now)
  (cd "$dir" && bazel --output_base="$ob" build "$@") >"$ob.log" 2>&1 || { tail -n 30 "$ob.log" >&2; exit 1; }
  python3 -c "print(round($(now) - $t0, 1))"
}

# 1. in the builder: the builder tree once, then the compile
unpack=$(timed_build "$ROOT" "$W/ob-builder" --disk_cache="$W/disk" "@pyimage_python//:builder")
builder=$(timed_build "$ROOT" "$W/ob-builder" --disk_cache="$W/disk" "@pyimage_python//:$T")
grep -q "Compiling CPython $VERSION" "$W/ob-builder.log" || { echo "the compile did not run" >&2; exit 1; }

# 4. the builder tree from the disk cache just filled, into a fresh output base
warm=$(timed_build "$ROOT" "$W/ob-warm" --disk_cache="$W/disk" "@pyimage_python//:builder")
size=$(du -m "$(cd "$ROOT" && bazel --output_base="$W/ob-warm" info bazel-bin 2>/dev/null)/external/pyimage_python/builder.tar" | cut -f1)

# 2. on the host, as commit 17ecc65 did
git -C "$ROOT" worktree add --detach "$W/host" "$HOST_COMMIT" >/dev/null 2>&1
host=$(timed_build "$W/host" "$W/ob-host" --disk_cache= "@pyimage_python//:$T")

# 3. by hand
TARBALL="$(ls "$(cd "$ROOT" && bazel --output_base="$W/ob-builder" info output_base 2>/dev/null)/external/pyimage_python_${T}_source/file/"Python-*)"
mkdir -p "$W/hand/src" "$W/hand/tmp"
cd "$W/hand/src"
t0=$(now)
tar -xf "$TARBALL" --strip-components=1
./configure --prefix=/opt/pyimage/python --without-ensurepip py_cv_module__tkinter=n/a >/dev/null 2>&1
make -j"$(nproc)" >/dev/null 2>&1
TMPDIR="$W/hand/tmp" make install DESTDIR="$W/hand/dest" >/dev/null 2>&1
hand=$(python3 -c "print(round($(now) - $t0, 1))")

python3 - "$VERSION" "$builder" "$host" "$hand" "$warm" "$size" "$unpack" <<'PY'
import os, sys
version, builder, host, hand, warm, size, unpack = sys.argv[1], *map(float, sys.argv[2:])
print("CPython %s on %d cores, one run each" % (version, os.cpu_count()))
print("  compile in the hermetic builder (cold):           %6.1f s" % builder)
print("  compile on the host, as at commit 17ecc65:        %6.1f s" % host)
print("  configure + make by hand:                         %6.1f s" % hand)
print("  ratio builder / host compile:                     %6.2f   (goal <= 1.10)" % (builder / host))
print("  ratio builder / by hand:                          %6.2f" % (builder / hand))
print("  builder tree (%d MB), unpacked once per lock:     %6.1f s" % (size, unpack))
print("  builder tree from a warm disk cache:              %6.1f s" % warm)
print("  ratio (unpack + compile) / host compile:          %6.2f" % ((unpack + builder) / host))
PY
