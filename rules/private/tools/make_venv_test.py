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

    def run_venv(self, *wheels):
        argv = ["--venv", "/opt/x/venv", "--python", self.python, "--mtime", "315532800", "--output", self.out]
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
