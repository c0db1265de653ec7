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
        self.assertEqual(sysconfig.get_config_var("prefix"), EXPECTED_PREFIX)


if __name__ == "__main__":
    EXPECTED_VERSION, EXPECTED_PREFIX = sys.argv[1:3]
    unittest.main(argv=sys.argv[:1] + sys.argv[3:], verbosity=2)
