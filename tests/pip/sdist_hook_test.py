"""An sdist's build hook runs only inside the build action's sandbox.

The wheel of //tests/pip:pyimagehook_wheel holds where.json, written by the sdist's setup.py
while it was built: it must show the hermetic builder (its hostname, no network interface but
loopback, only the variables in_builder.sh sets) and a marker written there. The marker the hook
wrote to /tmp must not be in this host's /tmp (under Bazel 4 a test's /tmp is the host's; Bazel 7
gives each sandbox its own, where the check holds trivially).
"""

import glob
import json
import os
import sys
import unittest
import zipfile

WHEEL = sys.argv.pop(1)
# What in_builder.sh and build_wheel.py set, and the shell's PWD.
BUILDER_ENVIRONMENT = {"HOME", "LC_ALL", "PATH", "TZ", "TMPDIR", "PWD", "SOURCE_DATE_EPOCH", "PYTHONPATH",
                       "PYTHONHASHSEED", "CFLAGS", "CPPFLAGS", "CXXFLAGS", "LDFLAGS", "_PYTHON_HOST_PLATFORM"}


def where():
    path = WHEEL if WHEEL.endswith(".whl") else glob.glob(os.path.join(WHEEL, "*.whl"))[0]
    with zipfile.ZipFile(path) as whl:
        return json.loads(whl.read("pyimagehook/where.json"))


class SdistHookTest(unittest.TestCase):
    def test_the_hook_ran_in_the_builder(self):
        w = where()
        self.assertEqual(w["hostname"], "builder")
        self.assertEqual(w["interfaces"], ["lo"], "the build action had a network interface")
        self.assertTrue(w["marker_written"], "the hook could not write its marker inside the sandbox")
        self.assertEqual(w["marker"], "/tmp/pyimage-hook-marker")

    def test_the_hook_saw_no_host_variable(self):
        extra = sorted(set(where()["environment"]) - BUILDER_ENVIRONMENT)
        # pip/setuptools may set a few of their own while building; none of the host's may pass.
        self.assertFalse([v for v in extra if not v.startswith(("PIP_", "_PYPROJECT_HOOKS", "PEP517"))],
                         "variables from outside the builder: %s" % extra)

    def test_the_marker_is_not_on_the_host(self):
        self.assertFalse(os.path.exists("/tmp/pyimage-hook-marker"),
                         "the sdist's build hook wrote to this host's /tmp")


if __name__ == "__main__":
    unittest.main(verbosity=2)
