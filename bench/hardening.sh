#!/usr/bin/env bash
# What the hardening flags cost in interpreter speed: CPython compiled twice in the hermetic
# builder, by hand, with the toolchain's configure flags, once with rules/private/common.bzl's
# HARDENING_* flags (what //app:image runs) and once without; both run a pyperformance subset.
#
#   bench/hardening.sh [VERSION] [--rigorous] [--rounds=N]   (default 3.13.15, 2 rounds; about
#       2 x 3 minutes to compile and 2 x N x 5 minutes of pyperformance --fast here; run it on an
#       otherwise idle machine: a busy one moves single benchmarks by 20% and more)
#
# Both builds differ only in CFLAGS/CPPFLAGS/LDFLAGS; neither is the Bazel-built interpreter
# itself (that one has no ensurepip, which pyperformance's virtual environments need), but the
# hardened one is compiled with the same flags. pyperformance and its benchmarks come from PyPI
# through this machine's pip configuration. Prints each benchmark's mean and the geometric mean of
# hardened / plain (above 1.00: the hardening makes it slower).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="3.13.15" SPEED="--fast" ROUNDS=2
for a in "$@"; do
  case "$a" in
    --rigorous) SPEED="--rigorous" ;;
    --rounds=*) ROUNDS="${a#--rounds=}" ;;
    3.*) VERSION="$a" ;;
    *) echo "usage: bench/hardening.sh [VERSION] [--rigorous] [--rounds=N]" >&2; exit 2 ;;
  esac
done
# CPU-bound benchmarks that need nothing beyond the standard library.
BENCHMARKS="chaos,deltablue,fannkuch,float,go,hexiom,json_dumps,json_loads,nbody,nqueens,pickle_pure_python,pyflate,raytrace,regex_v8,richards,spectral_norm,unpack_sequence"
W="$(mktemp -d /tmp/pyimage-bench-hardening.XXXXXX)"
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT

flags() {  # flags NAME: the value of HARDENING_NAME in common.bzl, space-separated
  python3 - "$ROOT/rules/private/common.bzl" "$1" <<'PY'
import ast, re, sys
text = open(sys.argv[1]).read()
print(" ".join(ast.literal_eval(re.search(r"^HARDENING_%s = (\[.*\])$" % sys.argv[2], text, re.M).group(1))))
PY
}
CFLAGS_H="$(flags CFLAGS)" CPPFLAGS_H="$(flags CPPFLAGS)" LDFLAGS_H="$(flags LDFLAGS)"

# The builder and the source tarball, as the toolchain has them.
T="cpython_${VERSION//./_}"
(cd "$ROOT" && bazel build "@pyimage_python//:builder" >/dev/null 2>&1) \
  || { echo "bazel build @pyimage_python//:builder failed" >&2; exit 1; }
BIN="$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null)"
OB="$(cd "$ROOT" && bazel info output_base 2>/dev/null)"
(cd "$ROOT" && bazel fetch "@pyimage_python_${T}_source//file" >/dev/null 2>&1) || true
TARBALL="$(ls "$OB/external/pyimage_python_${T}_source/file/"Python-* 2>/dev/null | head -1)"
[[ -f "$TARBALL" ]] || { echo "no source tarball of CPython $VERSION (is it in the toolchain's python_versions?)" >&2; exit 1; }
cp "$BIN/external/pyimage_python/builder.tar" "$W/builder.tar"
cp "$TARBALL" "$W/src.tar"

compile() {  # compile NAME CFLAGS CPPFLAGS LDFLAGS: CPython into $W/NAME, in the builder
  local name="$1" t0
  cat > "$W/compile.sh" <<'SH'
set -e
# The builder's root is read-only: build in its /tmp, install into its results' directory.
B=/tmp/b
mkdir -p "$B/src" && cd "$B/src" && tar -xf /b/src.tar --strip-components=1
./configure --prefix="/opt/bench/$1" --disable-test-modules py_cv_module__tkinter=n/a \
  CFLAGS="$2" CPPFLAGS="$3" LDFLAGS="$4" >"$B/configure.log" 2>&1 || { tail -20 "$B/configure.log"; exit 1; }
make -j"$(nproc)" >"$B/make.log" 2>&1 || { tail -20 "$B/make.log"; exit 1; }
make install DESTDIR=/pyimage-out >"$B/install.log" 2>&1 || { tail -20 "$B/install.log"; exit 1; }
SH
  t0=$(date +%s)
  (cd "$W" && bash "$ROOT/rules/private/tools/in_builder.sh" --rootfs builder.tar --copy src.tar=/b/src.tar \
     --copy compile.sh=/b/compile.sh --out "/pyimage-out/opt/bench/$name=$name" -- \
     bash /b/compile.sh "$name" "$2" "$3" "$4")
  echo "compiled $name in $(( $(date +%s) - t0 )) s" >&2
}
compile hardened "$CFLAGS_H" "$CPPFLAGS_H" "$LDFLAGS_H"
compile plain "" "" ""
# The two differ as intended: the hardening check passes the one and fails the other.
python3 "$ROOT/rules/private/tools/hardening.py" --quiet --core "bin/python3.*" "$W/hardened/bin" \
  || { echo "the hardened build fails the hardening check" >&2; exit 1; }
if python3 "$ROOT/rules/private/tools/hardening.py" --quiet --core "bin/python3.*" "$W/plain/bin" >/dev/null 2>&1; then
  echo "the plain build passes the hardening check: the flags made no difference" >&2; exit 1
fi

# pyperformance in a virtual environment of the host's python3; it makes one per interpreter.
python3 -m venv "$W/pyperformance"
"$W/pyperformance/bin/pip" install -q pyperformance >/dev/null
# Rounds alternate between the two (hardened, plain, hardened, ...), each appending its values,
# so that a slow minute of the machine weighs on both alike.
for round in $(seq "$ROUNDS"); do
  for name in hardened plain; do
    echo "pyperformance $SPEED on $name, round $round of $ROUNDS ..." >&2
    (cd "$W" && "$W/pyperformance/bin/pyperformance" run $SPEED --python "$W/$name/bin/python3" \
       -b "$BENCHMARKS" --append "$W/$name.json" >>"$W/$name.log" 2>&1) \
      || { tail -n 30 "$W/$name.log" >&2; exit 1; }
  done
done
KEEP="$(mktemp -d /tmp/pyimage-bench-hardening-results.XXXXXX)"
cp "$W/hardened.json" "$W/plain.json" "$KEEP/"
echo "pyperf results kept in $KEEP (compare again: bench/pyperf_ratio.py $KEEP/hardened.json $KEEP/plain.json)" >&2
"$W/pyperformance/bin/python" "$ROOT/bench/pyperf_ratio.py" "$W/hardened.json" "$W/plain.json" \
  --title "CPython $VERSION: hardened / plain (pyperformance $SPEED, $ROUNDS alternating rounds, ${BENCHMARKS//,/ })"
