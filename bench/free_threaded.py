"""What the free-threaded build gains on two cores: CPU-bound pure-Python work on 1 and 2 threads.

    python3 bench/free_threaded.py [--reps N] --python NAME=PATH ... --compare FT/GIL

Every run is one process of one interpreter (`--worker`), which does two units of one workload,
both on one thread or one on each of two threads, and prints the seconds the threads took. The
runs of one repetition go in rotating order, so that a slow minute of a shared machine weighs on
all alike; a configuration's time is the minimum over the repetitions (noise only adds time).
The workloads, each unit the same amount of work:
  - independent: every thread on objects of its own (a prime sieve by trial division, a small
    n-body step over instances of a class, string building): what threads of a server that serve
    separate requests do;
  - shared: every thread reads one dict and one list of objects that all threads share (a
    configuration or a cache), and sums what it finds: reads contend on reference counts, which
    the free-threaded build makes per-thread where it can.
"""

import argparse
import math
import subprocess
import sys
import threading
import time

SHARED = None


def independent(units_done):
    primes = 0
    for n in range(2, 300000):
        if all(n % d for d in range(2, math.isqrt(n) + 1)):
            primes += 1

    class Body:
        __slots__ = ("x", "y", "vx", "vy")

        def __init__(self, i):
            self.x, self.y, self.vx, self.vy = float(i), float(-i), 0.0, 0.0

    bodies = [Body(i) for i in range(1, 12)]
    for _ in range(3000):
        for a in bodies:
            for b in bodies:
                if a is not b:
                    dx, dy = b.x - a.x, b.y - a.y
                    d = (dx * dx + dy * dy + 0.01) ** -1.5
                    a.vx += dx * d * 0.001
                    a.vy += dy * d * 0.001
        for a in bodies:
            a.x += a.vx
            a.y += a.vy
    words = []
    for i in range(200000):
        words.append("%d:%s" % (i, "abc"[i % 3]))
    units_done.append((primes, round(sum(b.x for b in bodies), 6), len(",".join(words))))


def shared(units_done):
    table, items = SHARED
    total = 0
    for _ in range(300):
        for key in range(0, 20000):
            total += table[key % 5000]
        for obj in items:
            total += obj.value
    units_done.append(total)


def worker(workload, threads):
    global SHARED
    if workload == "shared":

        class Item:
            def __init__(self, value):
                self.value = value

        SHARED = ({k: k * 3 for k in range(5000)}, [Item(i) for i in range(20000)])
    work = {"independent": independent, "shared": shared}[workload]
    done = []
    units = 2
    start = time.perf_counter()
    if threads == 1:
        for _ in range(units):
            work(done)
    else:
        pool = [threading.Thread(target=lambda: [work(done) for _ in range(units // threads)]) for _ in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    elapsed = time.perf_counter() - start
    if len(done) != units or len(set(map(repr, done))) != 1:
        sys.exit("the units disagree or are missing: %r" % done)
    gil = sys._is_gil_enabled() if hasattr(sys, "_is_gil_enabled") else True
    print("%.6f %s" % (elapsed, "gil" if gil else "nogil"))


def main():
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--python", action="append", required=True)
    parser.add_argument("--compare", action="append", required=True, help="FT/GIL: two --python names")
    args = parser.parse_args()
    pythons = dict(p.split("=", 1) for p in args.python)
    runs = [(name, w, t) for name in pythons for w in ("independent", "shared") for t in (1, 2)]
    times = {r: [] for r in runs}
    gil = {}
    for rep in range(args.reps):
        k = rep % len(runs)
        for name, w, t in runs[k:] + runs[:k]:
            out = subprocess.run([pythons[name], "-X", "faulthandler", __file__, "--worker", w, str(t)],
                                 check=True, stdout=subprocess.PIPE, text=True).stdout.split()
            times[(name, w, t)].append(float(out[0]))
            gil[name] = out[1]
        print("repetition %d of %d done" % (rep + 1, args.reps), file=sys.stderr, flush=True)
    best = {r: min(v) for r, v in times.items()}
    print("seconds for two units of work (minimum of %d interleaved repetitions; the median in brackets)" % args.reps)
    for name in pythons:
        for w in ("independent", "shared"):
            print("  %-10s (%-5s) %-11s  1 thread %6.3f (%6.3f)   2 threads %6.3f (%6.3f)   speed-up %.2f" % (
                name, gil[name], w,
                best[(name, w, 1)], sorted(times[(name, w, 1)])[len(times[(name, w, 1)]) // 2],
                best[(name, w, 2)], sorted(times[(name, w, 2)])[len(times[(name, w, 2)]) // 2],
                best[(name, w, 1)] / best[(name, w, 2)]))
    for spec in args.compare:
        ft, _, g = spec.partition("/")
        for w in ("independent", "shared"):
            print("%s / %s, %s: 1 thread %.3f, 2 threads %.3f (below 1.00: %s is faster)" % (
                ft, g, w, best[(ft, w, 1)] / best[(g, w, 1)], best[(ft, w, 2)] / best[(g, w, 2)], ft))


if __name__ == "__main__":
    main()
