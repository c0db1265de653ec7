"""Interleaved timing of pyperformance benchmarks on several interpreters, for a noisy machine.

pyperf's own runs give each interpreter its minutes in turn, so a slow minute of a shared machine
lands on one of them. Here every repetition runs, for every benchmark, one pyperf worker process
per interpreter (1 warm-up, 3 values, the same loop count for all), in an order that rotates, so
that every interpreter meets the same minutes. A benchmark's time is the minimum over all its
values (noise only adds time) and, as a check, the median. Each comparison prints per-benchmark
ratios, their geometric mean, and the geometric mean over the odd and the even repetitions alone:
when those two disagree by more than the effect, the run was too short or the machine too busy.

    PYTHONPATH=DIR-WITH-PYPERF python3 bench/pyperf_ab.py --data DIR [--reps N] [--json OUT]
        --benchmark NAME[:SCRIPT-DIR[:ARG...]] ...   --python NAME=PATH ...
        --compare A/B=TITLE ...
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile


def geo(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def run(python, bench, data, out, extra):
    """One pyperf worker process of `bench` on `python`: returns (values in s, loops)."""
    name, script_dir, args = bench
    if os.path.exists(out):
        os.unlink(out)
    cmd = [python, os.path.join(data, "bm_" + script_dir, "run_benchmark.py"), *args, "--quiet",
           "--processes=1", "--values=3", "--warmups=1", "--inherit-environ=PYTHONPATH", "-o", out, *extra]
    proc = subprocess.run(cmd, cwd=os.path.join(data, "bm_" + script_dir), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        sys.exit("%s on %s failed:\n%s" % (name, python, proc.stdout.decode(errors="replace")[-3000:]))
    with open(out) as f:
        data = json.load(f)
    result = data["benchmarks"][0]
    # pyperf keeps metadata that all runs share at the top, the rest in each run.
    loops = result.get("metadata", {}).get("loops") or data.get("metadata", {}).get("loops")
    values = []
    for r in result["runs"]:
        values += r.get("values", [])
        loops = r.get("metadata", {}).get("loops", loops)
    if not values or not loops:
        sys.exit("%s on %s: no values or loop count in pyperf's output %s" % (name, python, out))
    return values, loops


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="pyperformance's data-files/benchmarks directory")
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--benchmark", action="append", required=True)
    parser.add_argument("--python", action="append", required=True)
    parser.add_argument("--compare", action="append", required=True)
    parser.add_argument("--json", help="write every value here (after each repetition)")
    args = parser.parse_args()
    benches = []
    for spec in args.benchmark:
        name, _, rest = spec.partition(":")
        parts = rest.split(":") if rest else []
        benches.append((name, parts[0] if parts else name, parts[1:]))
    pythons = [p.split("=", 1) for p in args.python]
    names = [n for n, _ in pythons]
    compares = []
    for spec in args.compare:
        pair, _, title = spec.partition("=")
        a, _, b = pair.partition("/")
        if a not in names or b not in names:
            sys.exit("--compare %s: both names must be among --python (%s)" % (pair, ", ".join(names)))
        compares.append((a, b, title or pair))

    out = os.path.join(tempfile.mkdtemp(prefix="pyperf-ab."), "run.json")
    # Loop counts from one calibrating run on the first interpreter, then the same for all.
    loops = {}
    for bench in benches:
        loops[bench[0]] = run(pythons[0][1], bench, args.data, out, [])[1]
    values = {n: {b[0]: [[] for _ in range(args.reps)] for b in benches} for n in names}
    for rep in range(args.reps):
        for i, bench in enumerate(benches):
            k = (rep + i) % len(pythons)
            for name, python in pythons[k:] + pythons[:k]:
                values[name][bench[0]][rep] = run(python, bench, args.data, out, ["--loops=%d" % loops[bench[0]]])[0]
        print("repetition %d of %d done" % (rep + 1, args.reps), file=sys.stderr, flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"loops": loops, "values": values}, f)

    def best(name, bench, reps):
        return min(v for r in reps for v in values[name][bench][r])

    def median(name, bench, reps):
        return statistics.median(v for r in reps for v in values[name][bench][r])

    every, odd, even = range(args.reps), range(0, args.reps, 2), range(1, args.reps, 2)
    for a, b, title in compares:
        print("%s (%d interleaved repetitions, 3 values each)" % (title, args.reps))
        print("  %-20s %11s %11s %8s %8s" % ("benchmark", "min " + a[:6], "min " + b[:6], "min", "median"))
        mins, meds, halves = [], [], ([], [])
        for bench, _, _ in benches:
            x, y = best(a, bench, every), best(b, bench, every)
            mins.append(x / y)
            meds.append(median(a, bench, every) / median(b, bench, every))
            for half, reps in zip(halves, (odd, even)):
                if reps:
                    half.append(best(a, bench, reps) / best(b, bench, reps))
            print("  %-20s %8.2f ms %8.2f ms %8.3f %8.3f" % (bench, x * 1e3, y * 1e3, mins[-1], meds[-1]))
        print("  geometric mean: %.3f of minima, %.3f of medians" % (geo(mins), geo(meds)))
        if halves[1]:
            print("  the same from odd / even repetitions alone: %.3f / %.3f" % (geo(halves[0]), geo(halves[1])))
        print()


if __name__ == "__main__":
    main()
