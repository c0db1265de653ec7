#!/usr/bin/env bash
# Cost of compiling CPython through the rules, against the same configure and make by hand.
#
#   bench/toolchain_compile.sh [VERSION]     (default 3.13.15; about 2 x 2 minutes here)
#
# Bazel: a fresh output base and no cache, so the CPythonBuild action really runs (it also trims,
# strips, checks and tars). By hand: untar, ./configure with the same flags, make -jN, make
# install. Prints both times and their ratio, from one run each.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${1:-3.13.15}"
T="cpython_${VERSION//./_}"
W="$(mktemp -d /tmp/pyimage-bench.XXXXXX)"
trap 'bazel --output_base="$W/ob" shutdown >/dev/null 2>&1 || true; chmod -R u+w "$W"; rm -rf "$W"' EXIT

cd "$ROOT"
bazel --output_base="$W/ob" info >/dev/null 2>&1   # start the server outside the timing
bazel --output_base="$W/ob" fetch "@pyimage_python//:$T" >/dev/null 2>&1
t0=$(date +%s.%N)
bazel --output_base="$W/ob" build --disk_cache= "@pyimage_python//:$T" >"$W/bazel.log" 2>&1
t1=$(date +%s.%N)
TARBALL="$(ls "$(bazel --output_base="$W/ob" info output_base 2>/dev/null)/external/pyimage_python_${T}_source/file/"Python-*)"
cp "$TARBALL" "$W/"

mkdir -p "$W/hand/src" "$W/hand/tmp"
cd "$W/hand/src"
t2=$(date +%s.%N)
tar -xf "$W/$(basename "$TARBALL")" --strip-components=1
./configure --prefix=/opt/pyimage/python --without-ensurepip py_cv_module__tkinter=n/a >/dev/null 2>&1
make -j"$(nproc)" >/dev/null 2>&1
TMPDIR="$W/hand/tmp" make install DESTDIR="$W/hand/dest" >/dev/null 2>&1
t3=$(date +%s.%N)

python3 - "$t0" "$t1" "$t2" "$t3" "$VERSION" <<'PY'
import sys
t0, t1, t2, t3 = map(float, sys.argv[1:5])
bazel, hand = t1 - t0, t3 - t2
print("CPython %s on %s cores" % (sys.argv[5], __import__("os").cpu_count()))
print("  through Bazel (cold, no cache): %6.1f s" % bazel)
print("  configure + make by hand:       %6.1f s" % hand)
print("  ratio Bazel / by hand:          %6.2f" % (bazel / hand))
PY
