#!/usr/bin/env bash
# Several CPython versions live side by side: --@pyimage_python//:python_version picks the one
# py_binary targets run on (a minor version picks its default release); a version that is not
# registered is refused with the list of those that are.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

run() {  # run FLAG-VALUE EXPECTED
  local out
  out="$(bazel run --disk_cache="$DISK_CACHE" --@pyimage_python//:python_version="$1" //tests/toolchain:print_version 2>"$SCRATCH/err.log")" \
    || { tail -n 20 "$SCRATCH/err.log" >&2; fail "python_version=$1: bazel run failed"; }
  [[ "$out" == "running on CPython $2" ]] || fail "python_version=$1: printed '$out', expected CPython $2"
  echo "ok: python_version='$1' runs CPython $2"
}
run "" 3.14.7
run 3.11 3.11.2
run 3.13.15 3.13.15
run 3.14 3.14.7

if bazel build --disk_cache="$DISK_CACHE" --@pyimage_python//:python_version=3.12 //tests/toolchain:print_version >"$SCRATCH/bad.log" 2>&1; then
  fail "python_version=3.12 was accepted"
fi
expect_in "$SCRATCH/bad.log" "python_version=3.12: this workspace registers CPython 3.11, 3.11.2, 3.13, 3.13.15, 3.14, 3.14.7"
echo "ok: python_version=3.12 is refused"

# The README's command: bazel run @pyimage_python//:python3.X runs that interpreter.
for pair in 3.14:3.14.7 3.13:3.13.15 3.11:3.11.2; do
  minor="${pair%%:*}" full="${pair#*:}"
  out="$(bazel run --disk_cache="$DISK_CACHE" "@pyimage_python//:python$minor" -- -c 'import sys; print(sys.version)' 2>"$SCRATCH/err.log")" \
    || { tail -n 20 "$SCRATCH/err.log" >&2; fail "bazel run @pyimage_python//:python$minor failed"; }
  [[ "$out" == "$full (main, Jan  1 1980, 00:00:00) [GCC"* ]] || fail "@pyimage_python//:python$minor printed '$out'"
  echo "ok: bazel run @pyimage_python//:python$minor -> $out"
done
