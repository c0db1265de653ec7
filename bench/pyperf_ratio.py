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
    means, medians, spread = [], [], []
    print("  %-22s %10s %10s %7s %7s   %s" % ("benchmark", "mean 1", "mean 2", "sd% 1", "sd% 2", "ratio"))
    for name in names:
        a, b = first[name], second[name]
        means.append(a.mean() / b.mean())
        medians.append(a.median() / b.median())
        sd = [100 * x.stdev() / x.mean() if x.get_nvalue() > 1 else 0.0 for x in (a, b)]
        spread += sd
        print("  %-22s %7.2f ms %7.2f ms %6.1f%% %6.1f%%   %5.3f" % (name, a.mean() * 1e3, b.mean() * 1e3, sd[0], sd[1], means[-1]))

    def geo(values):
        return math.exp(sum(math.log(v) for v in values) / len(values))

    print("  geometric mean of %d ratios: %.3f (of medians: %.3f)" % (len(means), geo(means), geo(medians)))
    # How far apart single values lie: a ratio closer to 1 than this is within the noise.
    print("  median standard deviation of a benchmark's values: %.1f%%" % sorted(spread)[len(spread) // 2])


if __name__ == "__main__":
    main()
