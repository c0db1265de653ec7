"""The example's free-threaded twin: CPython built with --disable-gil, numpy from its cp314t wheel.

It says whether the GIL is on, computes with numpy, and runs pure-Python work on two threads at
once (with the GIL they would take turns; bench/free_threaded.sh measures how much that gains).
"""

import platform
import sys
import sysconfig
import threading

import numpy


def count_primes(limit):
    """Pure-Python, CPU-bound: the primes below limit, by trial division."""
    found = 0
    for n in range(2, limit):
        if all(n % d for d in range(2, int(n ** 0.5) + 1)):
            found += 1
    return found


def main():
    print("Hello from rules_pyimage on CPython %s (free-threaded build: %s, GIL enabled: %s)" % (
        platform.python_version(),
        bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        sys._is_gil_enabled(),
    ))
    print("interpreter:", sys.executable)
    a = numpy.arange(1, 10001, dtype=numpy.float64)
    print("numpy %s: sum of 1..10000 = %d, mean %.1f" % (numpy.__version__, a.sum(), a.mean()))
    # numpy's extension is built for this ABI; importing one that is not would turn the GIL on.
    print("after importing numpy, GIL enabled: %s" % sys._is_gil_enabled())
    results = [None, None]

    def work(i):
        results[i] = count_primes(20000)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("two threads counted %s primes below 20000" % " and ".join(map(str, results)))


if __name__ == "__main__":
    main()
