#!/usr/bin/env bash
# How fast the toolchain's interpreters are: 17 pyperformance CPU benchmarks on
#   - ours314: 3.14.7 with PGO and LTO, the default toolchain, the very copy //app:image runs;
#   - ours313: 3.13.15 with PGO and LTO (//bench:cpython_3_13_15_pgo_lto), the line before;
#   - debian311: Debian 12's /usr/bin/python3.11 (3.11.2, built by Debian with PGO and LTO);
#   - plain314: 3.14.7 without PGO and LTO (//bench:cpython_3_14_7_plain), what they bring;
#   - ours314t: the free-threaded 3.14.7t with PGO and LTO (//bench:cpython_3_14_7t_pgo_lto), what
#     the free-threaded build costs a program of one thread (bench/free_threaded.sh: two threads);
#   - again314: ours314 under a second name; its ratio to ours314 is the noise of the run.
#
#   bench/pgo.sh [--reps=N]
#       default 6 interleaved repetitions; 5 took 7.3 minutes here, the build step aside.
#       The compiles are Bazel actions in the disk cache after the first run (cold: about 5-8
#       minutes each with PGO and LTO, 2-3 without).
#
# The interpreters are the runtime copies the rules put into images, unpacked into a scratch
# directory. pyperformance and pyperf come from PyPI through this machine's pip configuration; each
# benchmark's run_benchmark.py runs under pyperf directly (the interpreters have no ensurepip, which
# pyperformance's own virtual environments need), so all of them run the same code with the same
# pyperf. bench/pyperf_ab.py interleaves them: every repetition runs one worker process of every
# benchmark on every interpreter, in rotating order, so that a slow minute of this shared machine
# weighs on all alike, and it compares minima (noise only adds time). It prints each benchmark's
# ratio, their geometric mean (below 1.00: the first is faster) and the same from the odd and the
# even repetitions alone, which shows how far the run can be trusted.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/bench/interpreters.sh"
parse_reps bench/pgo.sh 6 "$@"
# CPU-bound benchmarks that need nothing beyond the standard library (as in bench/hardening.sh).
# A variant runs another benchmark's script with options (pyperformance's MANIFEST: <local:pickle>).
BENCHMARKS=(chaos deltablue fannkuch float go hexiom json_dumps json_loads nbody nqueens
  pickle_pure_python pyflate raytrace regex_v8 richards spectral_norm unpack_sequence)
declare -A VARIANT=([pickle_pure_python]="pickle --pure-python pickle")
[[ -x /usr/bin/python3.11 ]] || { echo "bench/pgo.sh compares with Debian's /usr/bin/python3.11 (apt-get install python3.11)" >&2; exit 1; }
W="$(mktemp -d /tmp/pyimage-bench-pgo.XXXXXX)"
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT

echo "building the interpreters ..." >&2
build_interpreters "$W/build.log" //bench:cpython_3_13_15_pgo_lto //bench:cpython_3_14_7_plain //bench:cpython_3_14_7t_pgo_lto
declare -A PY
PY[ours314]="$(toolchain_interpreter "$W" ours314 3.14.7)"
PY[ours313]="$(bench_interpreter "$W" ours313 cpython_3_13_15_pgo_lto)"
PY[plain314]="$(bench_interpreter "$W" plain314 cpython_3_14_7_plain)"
PY[ours314t]="$(bench_interpreter "$W" ours314t cpython_3_14_7t_pgo_lto)"
PY[debian311]=/usr/bin/python3.11
# (Debian's sysconfig records neither flag, though its build uses both.)
for name in "${!PY[@]}"; do echo "  $name: ${PY[$name]} ($(describe "${PY[$name]}"))" >&2; done

install_pyperformance "$W"
ARGS=()
for b in "${BENCHMARKS[@]}"; do
  read -r dir extra <<<"${VARIANT[$b]:-$b}"
  [[ -f "$DATA/bm_$dir/run_benchmark.py" ]] || { echo "pyperformance has no bm_$dir/run_benchmark.py" >&2; exit 1; }
  ARGS+=(--benchmark "$b:$dir${extra:+:${extra// /:}}")
done
for name in ours314 ours313 debian311 plain314 ours314t; do ARGS+=(--python "$name=${PY[$name]}"); done
# The same interpreter under a second name: its ratio to itself is the noise of this run.
ARGS+=(--python "again314=${PY[ours314]}")
KEEP="$(mktemp -d /tmp/pyimage-bench-pgo-results.XXXXXX)"
echo "measuring: $REPS interleaved repetitions of ${#BENCHMARKS[@]} benchmarks on 5 interpreters (and one twice); every value is kept in $KEEP/values.json" >&2
PYTHONPATH="$W/pyperf" python3 "$ROOT/bench/pyperf_ab.py" --data "$DATA" --reps "$REPS" --json "$KEEP/values.json" "${ARGS[@]}" \
  --compare "ours314/ours313=the default, 3.14.7 / 3.13.15 (both ours, PGO and LTO)" \
  --compare "ours314/debian311=the default, 3.14.7 / Debian's /usr/bin/python3.11 (3.11.2, PGO and LTO)" \
  --compare "ours314/plain314=3.14.7: ours with PGO and LTO (the default) / ours without" \
  --compare "ours314t/ours314=one thread: the free-threaded 3.14.7t / 3.14.7 with the GIL (both PGO and LTO)" \
  --compare "ours314/again314=the noise: ours 3.14.7 / the same interpreter again (a ratio this far from 1.00 means nothing)"
