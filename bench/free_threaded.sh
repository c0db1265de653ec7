#!/usr/bin/env bash
# What the free-threaded build gains and costs: bench/free_threaded.py's CPU-bound pure-Python
# workloads on one thread and on two, on
#   - gil314: 3.14.7 with PGO and LTO, the default toolchain, the very copy //app:image runs;
#   - ft314t: the free-threaded 3.14.7t with PGO and LTO (//bench:cpython_3_14_7t_pgo_lto; the
#     example's own 3.14.7t toolchain is built without them, for CI's budget).
# Run it on an otherwise idle machine of at least two cores: two threads cannot gain more than
# the cores that are free. The cost on one thread over pyperformance's benchmarks is in
# bench/pgo.sh (ours314t / ours314).
#
#   bench/free_threaded.sh [--reps=N]   (default 7; under a minute in all here)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/bench/interpreters.sh"
parse_reps bench/free_threaded.sh 7 "$@"
W="$(mktemp -d /tmp/pyimage-bench-free-threaded.XXXXXX)"
trap 'chmod -R u+w "$W" 2>/dev/null; rm -rf "$W"' EXIT

echo "building the interpreters ..." >&2
build_interpreters "$W/build.log" //bench:cpython_3_14_7t_pgo_lto
GIL="$(toolchain_interpreter "$W" gil314 3.14.7)"
FT="$(bench_interpreter "$W" ft314t cpython_3_14_7t_pgo_lto)"
for py in "$GIL" "$FT"; do echo "  $py ($(describe "$py"))" >&2; done
echo "cores: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cd "$W"
python3 "$ROOT/bench/free_threaded.py" --reps "$REPS" --python "gil314=$GIL" --python "ft314t=$FT" --compare ft314t/gil314
