"""Prints the version of the interpreter it runs on (used by tests/e2e/version_flag_test.sh)."""

import sys

print("running on CPython %d.%d.%d" % sys.version_info[:3])
