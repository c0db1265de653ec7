"""Runs pytest on the files given as arguments (the entry point of py_pytest_test)."""

import sys

import pytest

if __name__ == "__main__":
    # No cache directory: the runfiles tree is read-only and results must not depend on a cache.
    sys.exit(pytest.main(["-p", "no:cacheprovider", "-q"] + sys.argv[1:]))
