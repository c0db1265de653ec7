"""The wheel lock's artifacts, used for real: the example app's pex runs on the from-source
interpreter with all three kinds of dependency, and the wheel built from markupsafe's sdist is a
repaired manylinux wheel (`auditwheel show`) that needs no library outside the manylinux set.

Arguments: --python PATH --pex PATH --sdist-wheel DIR
"""

import argparse
import os
import subprocess
import sys
import unittest

ARGS = None


class ArtifactsTest(unittest.TestCase):
    def test_pex_runs_with_every_kind_of_dependency(self):
        out = subprocess.run([ARGS.python, ARGS.pex], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, env={"PATH": "/usr/bin:/bin"})
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertIn("on CPython 3.14.", out.stdout)
        self.assertIn("markupsafe 3.0.4 speedups=True", out.stdout)  # C extension from the sdist
        self.assertIn("libyaml=True", out.stdout)  # C extension from a manylinux wheel
        self.assertIn("&lt;b&gt;", out.stdout)

    def test_sdist_wheel_is_repaired_manylinux(self):
        wheels = [f for f in os.listdir(ARGS.sdist_wheel) if f.endswith(".whl")]
        self.assertEqual(len(wheels), 1, wheels)
        self.assertIn("manylinux", wheels[0])
        out = subprocess.run([sys.executable, "-m", "auditwheel", "show", os.path.join(ARGS.sdist_wheel, wheels[0])],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env={"PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join(sys.path)})
        self.assertEqual(out.returncode, 0, out.stdout)
        text = " ".join(out.stdout.split())
        self.assertRegex(text, r'is consistent with the following platform tag: "manylinux_2_\d+_x86_64"')
        self.assertNotIn("system-provided shared libraries that are not part of", text)

    def test_sdist_wheel_has_no_build_path(self):
        import zipfile
        wheel = [f for f in os.listdir(ARGS.sdist_wheel) if f.endswith(".whl")][0]
        with zipfile.ZipFile(os.path.join(ARGS.sdist_wheel, wheel)) as z:
            for name in z.namelist():
                data = z.read(name)
                for marker in [b"/execroot/", b"bazel-out/", b"/tmp/pyimage-wheel.", b"/sandbox/"]:
                    self.assertNotIn(marker, data, "%s in %s" % (marker, name))


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    for flag in ["--python", "--pex", "--sdist-wheel"]:
        parser.add_argument(flag, required=True)
    ARGS, rest = parser.parse_known_args()
    ARGS.python = os.path.realpath(ARGS.python)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
