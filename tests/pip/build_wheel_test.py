"""build_wheel.py on sdists made here: a C extension that builds is repaired into a manylinux
wheel; one whose header the host lacks fails naming the package and the header."""

import os
import subprocess
import sys
import tarfile
import tempfile
import unittest

TOOL = None

SETUP = """from setuptools import setup, Extension
setup(name="{name}", version="1.0", ext_modules=[Extension("{name}_ext", ["ext.c"])])
"""
EXT = """{include}
#include <Python.h>
static struct PyModuleDef m = {{PyModuleDef_HEAD_INIT, "{name}_ext", NULL, -1, NULL}};
PyMODINIT_FUNC PyInit_{name}_ext(void) {{ return PyModule_Create(&m); }}
"""


def make_sdist(root, name, include=""):
    src = os.path.join(root, "%s-1.0" % name)
    os.makedirs(src)
    with open(os.path.join(src, "setup.py"), "w") as f:
        f.write(SETUP.format(name=name))
    with open(os.path.join(src, "ext.c"), "w") as f:
        f.write(EXT.format(name=name, include=include))
    sdist = os.path.join(root, "%s-1.0.tar.gz" % name)
    with tarfile.open(sdist, "w:gz") as tar:
        tar.add(src, arcname="%s-1.0" % name)
    return sdist


class BuildWheelTest(unittest.TestCase):
    def build(self, name, include=""):
        root = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        out = os.path.join(root, "out")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PATH="/usr/bin:/bin")
        result = subprocess.run([sys.executable, TOOL, "--sdist", make_sdist(root, name, include), "--name", name,
                                 "--version", "1.0", "--plat", "manylinux_2_36_x86_64", "--epoch", "315532800",
                                 "--out", out], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return result, out

    def test_c_extension_is_built_and_repaired(self):
        result, out = self.build("pyimagedemo")
        self.assertEqual(result.returncode, 0, result.stdout)
        wheels = os.listdir(out)
        self.assertEqual(len(wheels), 1, wheels)
        self.assertRegex(wheels[0], r"^pyimagedemo-1\.0-cp313-cp313-.*manylinux.*\.whl$")

    def test_missing_header_is_named(self):
        result, out = self.build("pyimagebroken", include="#include <pyimage_no_such_lib.h>")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("pyimagebroken 1.0: its C extension needs the header pyimage_no_such_lib.h", result.stdout)
        self.assertFalse(os.path.exists(out) and os.listdir(out))


if __name__ == "__main__":
    TOOL = sys.argv.pop(1)
    unittest.main(verbosity=2)
