#!/usr/bin/env bash
# How fast the toolchain's interpreter is: pyperformance's CPU benchmarks on
#   - our 3.11.2 with PGO and LTO (//bench:cpython_3_11_2_pgo_lto: `optimizations`, `lto`) against
#     Debian's own /usr/bin/python3.11 (3.11.2 too, built by Debian with PGO and LTO) and against
#     our 3.11.2 without them (//bench:cpython_3_11_2_plain);
#   - our 3.13.15 with PGO and LTO (the toolchain's own, @pyimage_python//:python3.13.15, what
#     //app:image runs) against our 3.13.15 without them (//bench:cpython_3_13_15_plain).
#
#   bench/pgo.sh [--reps=N]
#       default 8 repetitions (five interpreters and one of them twice, for the noise); one
#       repetition of three interpreters took about 1.2 minutes here, so about 20 minutes in all.
#       The compiles are Bazel actions, cached after the first run (cold: about 8 minutes for each
#       one with PGO and LTO, 2-3 without).
#
# The interpreters are the runtime copies the rules put into images, unpacked into a scratch
# directory. pyperformance and pyperf come from PyPI through this machine's pip configuration; each
# benchmark's run_benchmark.py runs under pyperf directly (the interpreters have no ensurepip, which
# pyperformance's own virtual environments need), so all five run the same code with the same
# pyperf. bench/pyperf_ab.py interleaves them: every repetition runs one worker process of every
# benchmark on every interpreter, in rotating order, so that a slow minute of this shared machine
# weighs on all alike, and it compares minima (noise only adds time). It prints each benchmark's
# ratio, their geometric mean (below 1.00: the first is faster) and the same from the odd and the
# even repetitions alone, which shows how far the run can be trusted.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
REPS=8
for a in "$@"; do
  case "$a" in
    --reps=*) REPS="${a#--reps=}" ;;
    *) echo "usage: bench/pgo.sh [--reps=N]" >&2; exit 2 ;;
  esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "bench/pgo.sh: --reps takes a positive number, not '$REPS'" >&2; exit 2; }
# CPU-bound benchmarks that need nothing beyond the standard library (as in bench/hardening.sh).
# A variant runs another benchmark's script with options (pyperformance's MANIFEST: <local:pickle>).
BENCHMARKS=(chaos deltablue fannkuch float go hexiom json_dumps json_loads nbody nqueens
  pickle_pure_python pyflate raytrace regex_v8 richards spectral_norm unpack_sequence)
declare -A VARIANT=([pickle_pure_python]="pickle --pure-python pickle")
[[ -x /usr/bin/python3.11 ]] || { echo "bench/pgo.sh compares with Debian's /usr/bin/python3.11 (apt-get install python3.11)" >&2; exit 1; }
W="$(mktemp -d /tmp/pyimage-bench-pgo.XXXXXX)"
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT

echo "building the interpreters ..." >&2
TARGETS=(//bench:cpython_3_11_2_pgo_lto //bench:cpython_3_11_2_plain //bench:cpython_3_13_15_plain)
(cd "$ROOT" && bazel build //app:image && bazel build --output_groups=runtime_tar "${TARGETS[@]}") >"$W/build.log" 2>&1 \
  || { tail -n 30 "$W/build.log" >&2; exit 1; }
BIN="$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null)"
unpack() {  # unpack NAME RUNTIME-TAR: the interpreter as $W/NAME/opt/pyimage/python/bin/python3
  mkdir -p "$W/$1"
  tar -xf "$2" -C "$W/$1"
  PY[$1]="$(ls "$W/$1"/opt/*/python/bin/python3)"
}
declare -A PY
unpack ours311 "$BIN/bench/cpython_3_11_2_pgo_lto.runtime.tar"
unpack plain311 "$BIN/bench/cpython_3_11_2_plain.runtime.tar"
unpack plain313 "$BIN/bench/cpython_3_13_15_plain.runtime.tar"
# The toolchain's own 3.13.15 as //app:image has it: built for the tools (the exec configuration),
# at the output path of the compile that //app:image depends on (an output base can hold several
# exec configurations' copies).
OURS313="$(cd "$ROOT" && bazel aquery 'mnemonic(CPythonBuild, deps(//app:image))' --output=text 2>/dev/null \
  | grep -oE "bazel-out/[^] ,'\"]*/cpython_3_13_15\.runtime\.tar" | sort -u)"
[[ -n "$OURS313" && "$OURS313" != *$'\n'* ]] || { echo "expected one compile of 3.13.15 under //app:image, found: ${OURS313:-none}" >&2; exit 1; }
unpack ours313 "$(cd "$ROOT" && bazel info execution_root 2>/dev/null)/$OURS313"
PY[debian311]=/usr/bin/python3.11
# (Debian's sysconfig records neither flag, though its build uses both.)
for name in "${!PY[@]}"; do echo "  $name: ${PY[$name]} ($("${PY[$name]}" -c 'import sys, sysconfig; print(sys.version.split()[0], "PGO" if "--enable-optimizations" in sysconfig.get_config_var("CONFIG_ARGS") else "no PGO recorded", "LTO" if "-flto" in (sysconfig.get_config_var("PY_LDFLAGS_NODIST") or "") else "no LTO recorded")'))" >&2; done

python3 -m pip install -q --target "$W/pyperf" pyperformance pyperf >"$W/pip.log" 2>&1 \
  || { tail -n 20 "$W/pip.log" >&2; exit 1; }
DATA="$(ls -d "$W/pyperf/pyperformance/data-files/benchmarks")"
echo "pyperformance $(PYTHONPATH="$W/pyperf" python3 -c 'import pyperformance; print(pyperformance.__version__)'), pyperf $(PYTHONPATH="$W/pyperf" python3 -c 'import pyperf; print(pyperf.__version__)')" >&2

ARGS=()
for b in "${BENCHMARKS[@]}"; do
  read -r dir extra <<<"${VARIANT[$b]:-$b}"
  [[ -f "$DATA/bm_$dir/run_benchmark.py" ]] || { echo "pyperformance has no bm_$dir/run_benchmark.py" >&2; exit 1; }
  ARGS+=(--benchmark "$b:$dir${extra:+:${extra// /:}}")
done
for name in ours311 debian311 plain311 ours313 plain313; do ARGS+=(--python "$name=${PY[$name]}"); done
# The same interpreter under a second name: its ratio to itself is the noise of this run.
ARGS+=(--python "again311=${PY[ours311]}")
KEEP="$(mktemp -d /tmp/pyimage-bench-pgo-results.XXXXXX)"
echo "measuring: $REPS interleaved repetitions of ${#BENCHMARKS[@]} benchmarks on 5 interpreters (and one twice); every value is kept in $KEEP/values.json" >&2
PYTHONPATH="$W/pyperf" python3 "$ROOT/bench/pyperf_ab.py" --data "$DATA" --reps "$REPS" --json "$KEEP/values.json" "${ARGS[@]}" \
  --compare "ours311/debian311=3.11.2: ours with PGO and LTO / Debian's /usr/bin/python3.11" \
  --compare "ours311/plain311=3.11.2: ours with PGO and LTO / ours without" \
  --compare "ours313/plain313=3.13.15: ours with PGO and LTO (the default) / ours without" \
  --compare "ours311/again311=the noise: ours 3.11.2 / the same interpreter again (a ratio this far from 1.00 means nothing)"
