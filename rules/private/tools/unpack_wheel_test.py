"""unpack_wheel refuses a wheel with an entry outside its directory, and writes nothing."""

import os
import tempfile
import unittest
import warnings
import zipfile

from rules.private.tools import unpack_wheel


class UnpackWheelTest(unittest.TestCase):
    def test_entries_outside_are_refused(self):
        for name in ["../evil.py", "pkg/../../evil.py", "/tmp/evil.py"]:
            root = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
            wheel = os.path.join(root, "evil-1.0-py3-none-any.whl")
            with zipfile.ZipFile(wheel, "w") as z:
                z.writestr("evil/__init__.py", "")
                z.writestr(name, "print('escaped')")
            out = os.path.join(root, "sub", "out")
            with self.assertRaises(SystemExit) as cm:
                unpack_wheel.main([wheel, out])
            self.assertIn("unsafe path %r in the wheel" % name, str(cm.exception))
            self.assertFalse(os.path.exists(os.path.join(root, "sub", "evil.py")))
            self.assertFalse(os.path.exists(os.path.join(root, "evil.py")))
            self.assertEqual(os.listdir(out) if os.path.exists(out) else [], [])

    def refused(self, make, message):
        root = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        wheel = os.path.join(root, "evil-1.0-py3-none-any.whl")
        make(wheel)
        out = os.path.join(root, "out")
        with self.assertRaises(SystemExit) as cm:
            unpack_wheel.main([wheel, out])
        self.assertIn("ERROR: %s" % wheel, str(cm.exception))
        self.assertIn(message, str(cm.exception))
        self.assertEqual(os.listdir(out) if os.path.exists(out) else [], [])

    def test_an_entry_named_twice_is_refused(self):
        def make(wheel):
            with zipfile.ZipFile(wheel, "w") as z:
                z.writestr("evil/__init__.py", "A = 1\n")
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # zipfile warns of the duplicate it writes
                    z.writestr("evil/__init__.py", "A = 2\n")
        self.refused(make, "the wheel names evil/__init__.py more than once")

    def test_a_zip_bomb_is_refused(self):
        def make(wheel):
            with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("evil/zeros.bin", b"\0" * (64 << 20))
        self.refused(make, "evil/zeros.bin inflates from")

    def test_a_small_file_that_inflates_much_is_fine(self):
        # What pillow's wheel holds: a 2 MiB library of mostly padding, stored in 9 KiB.
        root = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        wheel = os.path.join(root, "fine-1.0-py3-none-any.whl")
        with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("fine.libs/libpadded.so", b"\x7fELF" + b"\0" * (2 << 20))
        unpack_wheel.main([wheel, os.path.join(root, "out")])
        self.assertEqual((2 << 20) + 4, os.path.getsize(os.path.join(root, "out", "fine.libs", "libpadded.so")))

    def test_corrupt_deflate_data_is_an_error_naming_the_wheel(self):
        def make(wheel):
            with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("evil/data.txt", "hello world " * 1000)
            with open(wheel, "r+b") as f:
                data = bytearray(f.read())
                start = data.index(b"evil/data.txt") + len("evil/data.txt")
                for i in range(start + 4, start + 40):
                    data[i] ^= 0xFF
                f.seek(0)
                f.write(data)
        self.refused(make, "is not a readable wheel")


if __name__ == "__main__":
    unittest.main(verbosity=2)
