"""uv and pip-tools give the same lock: the same pins and the same hashes, for the example app's
requirements.in and for the 33-distribution lock of bench/fleet_gen.py's fleet (numpy,
pydantic-core, orjson, ... pinned at the top). Each resolver writes a new lock from nothing with
wheel_lock.py (update), on this machine's index configuration, as `bazel run NAME.update` would.

Usage: resolvers_test.py --requirements app/requirements.in --fleet-gen bench/fleet_gen.py
"""

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from rules.private.tools import pypi_lock

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(os.path.dirname(os.path.dirname(HERE)), "rules", "private", "tools", "wheel_lock.py")
ARGS = None


def fleet_requirements(fleet_gen, path):
    spec = importlib.util.spec_from_file_location("fleet_gen", fleet_gen)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with open(path, "w") as f:
        f.writelines("%s==%s\n" % pin for pin in sorted(module.PINS.items()))


class SameLockTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def lock(self, requirements, resolver):
        work = os.path.join(self.tmp, resolver)
        os.makedirs(work, exist_ok=True)
        shutil.copy(requirements, os.path.join(work, "requirements.in"))
        lock = os.path.join(work, "requirements.lock.txt")
        env = dict(os.environ, HOME=self.tmp, XDG_CACHE_HOME=os.path.join(self.tmp, "cache"),
                   PYTHONPATH=os.pathsep.join(sys.path))
        start = time.monotonic()
        r = subprocess.run([sys.executable, TOOL, "update", "--requirements", os.path.join(work, "requirements.in"),
                            "--lock", lock, "--update-command", "bazel run //x:requirements.update",
                            "--resolver", resolver], env=env, cwd=work, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        with open(lock) as f:
            packages = pypi_lock.parse_lock(f.read())
        print("%s: %d pins in %.1f s" % (resolver, len(packages), time.monotonic() - start))
        return {k: (p["version"], sorted(p["hashes"])) for k, p in packages.items()}, pypi_lock.dependencies(packages)

    def same(self, requirements):
        uv, uv_deps = self.lock(requirements, "uv")
        pip_tools, pip_tools_deps = self.lock(requirements, "pip-tools")
        self.assertEqual({k: v[0] for k, v in uv.items()}, {k: v[0] for k, v in pip_tools.items()}, "the pins differ")
        self.assertEqual(uv, pip_tools, "the hashes differ")
        self.assertEqual(uv_deps, pip_tools_deps, "the dependencies (# via) differ")
        return len(uv)

    def test_the_example(self):
        self.assertEqual(self.same(ARGS.requirements), 3)

    def test_the_fleet(self):
        path = os.path.join(self.tmp, "fleet.in")
        fleet_requirements(ARGS.fleet_gen, path)
        self.assertGreaterEqual(self.same(path), 30)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--requirements", required=True)
    parser.add_argument("--fleet-gen", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
