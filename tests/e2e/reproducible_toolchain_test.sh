#!/usr/bin/env bash
# The interpreter is reproducible: compiled again from a second checkout at another path, with
# another output base, no cache, another TZ, umask and locale, every file of the build copy and
# the runtime tar have the same sha256 as this checkout's build.
# The compile runs in the sandbox with no network and the strict action environment.
#
#   tests/e2e/reproducible_toolchain_test.sh [VERSION]      (default: the default version)
#
# It compiles CPython once more (about 2 minutes here) and prints the comparison.
source "$(dirname "$0")/lib.sh"
VERSION="${1:-3.13.15}"
T="cpython_${VERSION//./_}"
TARGETS=("@pyimage_python//:$T" "@pyimage_python//:$T.runtime_tar")

# Build A: this checkout (from the shared disk cache when the test suite already built it).
(cd "$ROOT" && bazel build --disk_cache="$DISK_CACHE" --output_groups=build_copy,runtime_tar "${TARGETS[@]}") >"$SCRATCH/a.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/a.log" >&2; fail "build A failed"; }
A="$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null)/external/pyimage_python"

# Build B: another path, output base, time zone, umask and locale; compiled from scratch.
B_WS="$SCRATCH/some/other/place/rules_pyimage"
clone_to "$B_WS"
(cd "$B_WS" && umask 077 && export TZ=Pacific/Kiritimati LANG=C.UTF-8 LC_ALL=C.UTF-8 &&
  bz b build --disk_cache= --sandbox_default_allow_network=false --incompatible_strict_action_env --output_groups=build_copy,runtime_tar "${TARGETS[@]}") >"$SCRATCH/b.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/b.log" >&2; fail "build B failed"; }
grep -q "Compiling CPython $VERSION" "$SCRATCH/b.log" || fail "build B did not compile CPython (a cache answered?)"
B="$(cd "$B_WS" && bz b info bazel-bin 2>/dev/null)/external/pyimage_python"

listing() {  # sha256 and path of every file below $1/$T, then the runtime tar (not Bazel's own
             # runfiles manifests, which `bazel run` leaves beside the interpreter)
  (cd "$1" && find "$T" -name '*.runfiles*' -prune -o -type f -print0 | sort -z | xargs -0 sha256sum &&
    sha256sum "$T.runtime.tar")
}
listing "$A" >"$SCRATCH/a.sums"
listing "$B" >"$SCRATCH/b.sums"
n="$(wc -l <"$SCRATCH/a.sums")"
if ! diff "$SCRATCH/a.sums" "$SCRATCH/b.sums" >"$SCRATCH/diff"; then
  head -n 40 "$SCRATCH/diff" >&2
  fail "CPython $VERSION differs between $ROOT and $B_WS: $(grep -c '^<' "$SCRATCH/diff") of $n files"
fi
echo "reproducible: CPython $VERSION, $n files (build copy + runtime tar) identical at two paths;"
echo "  runtime tar sha256 $(tail -n1 "$SCRATCH/a.sums" | cut -d' ' -f1)"
