"""Compares two pyperf/pyperformance result files: each benchmark's mean and the geometric mean of
the ratios (first / second; above 1.00 the first is slower).

Usage: pyperf_ratio.py FIRST.json SECOND.json [--title TEXT]   (run where pyperf is installed)
"""

import argparse
import math

import pyperf


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("first")
    parser.add_argument("second")
    parser.add_argument("--title", default="")
    args = parser.parse_args()
    first = {b.get_name(): b for b in pyperf.BenchmarkSuite.load(args.first).get_benchmarks()}
    second = {b.get_name(): b for b in pyperf.BenchmarkSuite.load(args.second).get_benchmarks()}
    names = sorted(set(first) & set(second))
    if not names:
        raise SystemExit("no benchmark is in both %s and %s" % (args.first, args.second))
    if args.title:
        print(args.title)
    ratios = []
    for name in names:
        a, b = first[name].mean(), second[name].mean()
        ratios.append(a / b)
        print("  %-22s %10.2f ms %10.2f ms   %5.3f" % (name, a * 1e3, b * 1e3, a / b))
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    print("  geometric mean of %d ratios: %.3f" % (len(ratios), geo))


if __name__ == "__main__":
    main()
