"""py_pytest_test runs pytest from the rules' lock on the from-source interpreter."""

import sys

import pytest


def test_runs_on_the_compiled_interpreter():
    assert "/cpython_3_14_" in sys.executable or "cpython_3_14_" in __import__("os").path.realpath(sys.executable)
    assert sys.version_info[:2] == (3, 14)


@pytest.mark.parametrize("text, expected", [("a-b", "a_b"), ("A.B", "a_b")])
def test_pytest_features_work(text, expected):
    import re
    assert re.sub(r"[-_.]+", "_", text).lower() == expected


def test_pytest_is_the_locked_one():
    with open(__import__("os").environ["TOOLS_LOCK"]) as f:
        assert "pytest==%s " % pytest.__version__ in f.read()
