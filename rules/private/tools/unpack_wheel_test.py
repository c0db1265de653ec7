"""unpack_wheel refuses a wheel with an entry outside its directory, and writes nothing."""

import os
import tempfile
import unittest
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
