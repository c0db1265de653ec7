"""make_venv.py with crafted wheels: a wheel cannot write through the venv's interpreter links
to the build host, nor replace the venv's own files; it is refused, naming it, and an honest
wheel still installs with the links in place."""

import base64
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import unittest
import zipfile

from rules.private.tools import make_venv

MINOR = "python%d.%d" % sys.version_info[:2]


def make_wheel(directory, name, files, entry_points=""):
    """A wheel NAME-1.0-py3-none-any.whl in directory holding files ({path: text}) and metadata."""
    dist = "%s-1.0.dist-info" % name
    members = dict(files)
    members[dist + "/METADATA"] = "Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name
    members[dist + "/WHEEL"] = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if entry_points:
        members[dist + "/entry_points.txt"] = entry_points
    record = []
    for path, text in sorted(members.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(text.encode())))
    record.append(dist + "/RECORD,,")
    members[dist + "/RECORD"] = "\n".join(record) + "\n"
    path = os.path.join(directory, "%s-1.0-py3-none-any.whl" % name)
    with zipfile.ZipFile(path, "w") as z:
        for member, text in sorted(members.items()):
            z.writestr(member, text)
    return path


class MakeVenvTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="make-venv-test.")
        # Where the interpreter would be on a build host that has one at the image's path: a
        # write through the venv's link would land here.
        self.python = os.path.join(self.dir, "host", "python", "bin", "python3")
        os.makedirs(os.path.dirname(self.python))
        self.out = os.path.join(self.dir, "venv.tar")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_venv(self, *wheels, part="all", out=None):
        argv = ["--venv", "/opt/x/venv", "--python", self.python, "--mtime", "315532800",
                "--output", out or self.out, "--part", part]
        for wheel in wheels:
            argv += ["--wheel", wheel]
        make_venv.main(argv)

    def assert_refused(self, wheel, path):
        with self.assertRaises(SystemExit) as caught:
            self.run_venv(make_wheel(self.dir, "honest", {"honest/__init__.py": ""}), wheel)
        message = str(caught.exception)
        self.assertIn("ERROR: %s installs /opt/x/venv/%s" % (os.path.basename(wheel), path), message)
        self.assertIn("the wheel is refused", message)
        self.assertFalse(os.path.lexists(self.python), "the wheel wrote through the venv's link to the host")
        self.assertFalse(os.path.exists(self.out), "a refused venv left its tar")

    def test_an_honest_wheel_gets_the_links(self):
        self.run_venv(make_wheel(self.dir, "honest", {"honest/__init__.py": "X = 1\n"},
                                 "[console_scripts]\nhonest = honest:main\n"))
        with tarfile.open(self.out) as tar:
            members = {m.name: m for m in tar.getmembers()}
        for name in ["python", "python3", MINOR]:
            link = members["opt/x/venv/bin/" + name]
            self.assertTrue(link.issym())
            self.assertEqual(self.python, link.linkname)
        self.assertEqual("lib", members["opt/x/venv/lib64"].linkname)
        self.assertTrue(members["opt/x/venv/bin/honest"].isfile())
        self.assertIn("opt/x/venv/lib/%s/site-packages/honest/__init__.py" % MINOR, members)
        self.assertIn("opt/x/venv/pyvenv.cfg", members)
        self.assertFalse(os.path.lexists(self.python))

    def test_a_console_entry_point_named_python3_is_refused(self):
        self.assert_refused(make_wheel(self.dir, "evil", {"evil/__init__.py": "def main(): pass\n"},
                                       "[console_scripts]\npython3 = evil:main\n"), "bin/python3")

    def test_a_script_named_after_the_interpreter_is_refused(self):
        self.assert_refused(make_wheel(self.dir, "evil", {"evil-1.0.data/scripts/%s" % MINOR: "#!python\nprint(1)\n"}),
                            "bin/" + MINOR)

    def test_a_data_file_over_the_venv_configuration_is_refused(self):
        self.assert_refused(make_wheel(self.dir, "evil", {"evil-1.0.data/data/pyvenv.cfg": "home = /tmp\n"}),
                            "pyvenv.cfg")

    def test_the_parts_add_up_to_the_whole_venv(self):
        """The per-package layers and the venv's own layer hold, between them, every entry of the
        single venv layer, byte for byte; a package's layer is the same whatever else is installed."""
        one = make_wheel(self.dir, "one", {"one/__init__.py": "A = 1\n"}, "[console_scripts]\none = one:main\n")
        two = make_wheel(self.dir, "two", {"two/__init__.py": "B = 2\n", "two/data.txt": "x"})

        def entries(path):
            with tarfile.open(path) as tar:
                return {m.name: (m.type, m.mode, m.linkname, tar.extractfile(m).read() if m.isfile() else b"")
                        for m in tar.getmembers()}

        self.run_venv(one, two)
        parts = {}
        for name, wheels in [("own", []), ("one", [one]), ("two", [two])]:
            out = os.path.join(self.dir, name + ".tar")
            self.run_venv(*wheels, part="own" if name == "own" else "packages", out=out)
            parts[name] = entries(out)
        union = {}
        for part in parts.values():
            union.update(part)
        self.assertEqual(entries(self.out), union)
        self.assertNotIn("opt/x/venv/pyvenv.cfg", parts["one"])
        self.assertNotIn("opt/x/venv/bin/python3", parts["two"])
        self.assertFalse([n for n in parts["own"] if "site-packages/" in n])
        alone = os.path.join(self.dir, "two-alone.tar")
        self.run_venv(two, part="packages", out=alone)
        with open(alone, "rb") as a, open(os.path.join(self.dir, "two.tar"), "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_a_packages_layer_takes_a_wheel_and_own_none(self):
        with self.assertRaises(SystemExit):
            self.run_venv(part="packages")
        with self.assertRaises(SystemExit):
            self.run_venv(make_wheel(self.dir, "one", {"one/__init__.py": ""}), part="own")


if __name__ == "__main__":
    unittest.main(verbosity=2)
