"""The build-time library check: the real base has every library the interpreter needs; a base
without libssl fails, naming the library, the file that needs it and the fix."""

import os
import sys
import tarfile
import tempfile
import unittest

from rules.private.tools import check_libs

BASE = PYTHON = None


class CheckLibsTest(unittest.TestCase):
    def run_check(self, base):
        stamp = os.path.join(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")), "stamp")
        check_libs.main(["--stamp", stamp, "--multiarch", "x86_64-linux-gnu", "--base", base, "--base-label", "//x:base", PYTHON])
        with open(stamp) as f:
            return f.read()

    def test_real_base_has_everything(self):
        self.assertRegex(self.run_check(BASE), r"^\d+ ELF files, every needed library found")

    def test_base_without_libssl_fails_at_build_time(self):
        stripped = os.path.join(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")), "base.tar")
        with tarfile.open(BASE) as src, tarfile.open(stripped, "w") as dst:
            for m in src.getmembers():
                if "libssl.so" in m.name:
                    continue
                dst.addfile(m, src.extractfile(m) if m.isreg() else None)
        with self.assertRaises(SystemExit) as cm:
            self.run_check(stripped)
        message = str(cm.exception)
        self.assertIn("//x:base lacks shared libraries", message)
        self.assertRegex(message, r"libssl\.so\.3, needed by /opt/pyimage/python/lib/python3\.\d+/lib-dynload/_ssl")
        self.assertIn("third_party/debian/runtime.txt", message)

    def test_needed_of_the_interpreter(self):
        with tarfile.open(PYTHON) as tar:
            m = [m for m in tar.getmembers() if m.name.endswith("lib-dynload/_sqlite3.cpython-314-x86_64-linux-gnu.so")][0]
            self.assertIn("libsqlite3.so.0", check_libs.needed(tar.extractfile(m).read()))


if __name__ == "__main__":
    BASE, PYTHON = sys.argv.pop(1), sys.argv.pop(1)
    unittest.main(verbosity=2)
