"""py_test targets run on the interpreter compiled from source, not on the host's python3."""

import os
import sys
import sysconfig
import unittest

EXPECTED_VERSION = EXPECTED_PREFIX = None


class RunsOnToolchainTest(unittest.TestCase):
    def test_interpreter_is_the_compiled_one(self):
        expected = EXPECTED_VERSION
        self.assertEqual("%d.%d.%d" % sys.version_info[:3], expected)
        real = os.path.realpath(sys.executable)
        self.assertTrue(real.endswith("/cpython_%s/bin/python3" % expected.replace(".", "_")), real)
        # Compiled for the image's prefix (3.14's sysconfig reports the running copy's own
        # location as "prefix"; configure's arguments keep the one it was built for).
        self.assertIn("'--prefix=%s'" % EXPECTED_PREFIX, sysconfig.get_config_var("CONFIG_ARGS"))


if __name__ == "__main__":
    EXPECTED_VERSION, EXPECTED_PREFIX = sys.argv[1:3]
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)
