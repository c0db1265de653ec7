"""Bad input to the wheel lock, against the real index: a requirement that does not exist, a
conflict, an index that cannot be reached, a lock edited by hand (each with both resolvers, uv and
pip-tools), a tampered download, a version with no wheel for the platform and no sdist, an
unpinned line. Each fails naming the package and the command that fixes it, and writes no lock
or leaves the old one as it was. (Needs the package index: requires-network.)"""

import os
import shutil
import sys
import tempfile
import unittest

from rules.private.tools import fetch_wheels, pypi_lock, wheel_lock

CMD = "bazel run //x:requirements.update"


class Scratch(unittest.TestCase):
    """A scratch directory with requirements.in and the lock's path; caches under TEST_TMPDIR."""

    @classmethod
    def setUpClass(cls):
        tmp = os.environ.get("TEST_TMPDIR", tempfile.gettempdir())
        os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
        os.environ["PIP_CACHE_DIR"] = os.path.join(tmp, "cache", "pip")
        os.environ["PYTHONPATH"] = os.pathsep.join(sys.path)  # pip for fetch_wheels' subprocesses

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.req = os.path.join(self.dir, "requirements.in")
        self.lock = os.path.join(self.dir, "requirements.lock.txt")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class LockErrorsTest(Scratch):
    """What the lock update and check say, with each resolver (PipToolsLockErrorsTest)."""
    RESOLVER = "uv"

    def lock_tool(self, mode, requirements):
        with open(self.req, "w") as f:
            f.write(requirements)
        argv = [mode, "--requirements", self.req, "--lock", self.lock, "--update-command", CMD,
                "--resolver", self.RESOLVER]
        with self.assertRaises(SystemExit) as cm:
            wheel_lock.main(argv)
        return str(cm.exception.code)

    def test_requirement_that_does_not_exist(self):
        message = self.lock_tool("update", "no-such-package-pyimage-xyz\n")
        self.assertIn("no-such-package-pyimage-xyz", message)
        self.assertIn("cannot be found", message)
        self.assertIn(CMD, message)
        self.assertFalse(os.path.exists(self.lock))

    def test_conflict(self):
        message = self.lock_tool("update", "attrs==26.1.0\nattrs<20\n")
        self.assertIn("conflict", message)
        self.assertIn(CMD, message)
        self.assertFalse(os.path.exists(self.lock))

    def test_no_network(self):
        old = "attrs==26.1.0 \\\n    --hash=sha256:%s\n" % ("ab" * 32)
        with open(self.lock, "w") as f:
            f.write(old)
        saved = dict(os.environ)
        for var in [v for v in os.environ if v.startswith("PIP_")]:
            del os.environ[var]
        # pip's configuration names an index on a port where nothing listens, and nothing else.
        os.environ.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL="http://127.0.0.1:9/simple",
                          PIP_RETRIES="0", PIP_TIMEOUT="5", PIP_CACHE_DIR=saved["PIP_CACHE_DIR"])
        try:
            message = self.lock_tool("update", "attrs==26.1.0\nrequests\n")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.assertIn("the index cannot be reached", message)
        self.assertIn(CMD, message)
        with open(self.lock) as f:
            self.assertEqual(f.read(), old, "the old lock was changed")
        self.assertEqual(sorted(os.listdir(self.dir)), ["requirements.in", "requirements.lock.txt"])

    def test_lock_edited_by_hand(self):
        with open(self.req, "w") as f:
            f.write("attrs==26.1.0\n")
        wheel_lock.main(["update", "--requirements", self.req, "--lock", self.lock, "--update-command", CMD,
                         "--resolver", self.RESOLVER])
        with open(self.lock) as f:
            text = f.read()
        self.assertIn("attrs==26.1.0", text)
        with open(self.lock, "w") as f:
            # one hash changed by hand (a digit flipped)
            i = text.index("--hash=sha256:") + len("--hash=sha256:")
            f.write(text[:i] + ("1" if text[i] != "1" else "2") + text[i + 1:])
        message = self.lock_tool("check", "attrs==26.1.0\n")
        self.assertIn("does not match", message)
        self.assertIn(CMD, message)

class PipToolsLockErrorsTest(LockErrorsTest):
    RESOLVER = "pip-tools"


class FetchErrorsTest(Scratch):
    """What the fetch says of a bad lock (whichever resolver wrote it)."""

    def fetch(self, lock_text):
        with open(self.lock, "w") as f:
            f.write(lock_text)
        out = os.path.join(self.dir, "repo")
        argv = ["--lock", self.lock, "--out", out, "--python-version", "3.13",
                "--platform", "manylinux_2_17_x86_64", "--update-command", CMD, "--rules-repo", "rules_pyimage",
                "--python", "@pyimage_python//:python3.13"]
        with self.assertRaises(SystemExit) as cm:
            fetch_wheels.main(argv)
        return str(cm.exception.code)

    def test_tampered_download_is_refused(self):
        message = self.fetch("attrs==26.1.0 \\\n    --hash=sha256:%s\n" % ("ab" * 32))
        self.assertIn("attrs==26.1.0: the downloaded attrs-26.1.0-py3-none-any.whl has sha256", message)
        self.assertIn("the file is refused", message)
        self.assertIn(CMD, message)

    def test_no_wheel_and_no_sdist(self):
        message = self.fetch("attrs==0.0.1 \\\n    --hash=sha256:%s\n" % ("ab" * 32))
        self.assertIn("attrs==0.0.1: no wheel for CPython 3.13", message)
        self.assertIn("no sdist could be fetched", message)
        self.assertIn(CMD, message)

    def test_unpinned_line(self):
        message = self.fetch("attrs>=1\n")
        self.assertIn("not `name==version`", message)


class CraftedLockTest(unittest.TestCase):
    """Fields of a lock that reach file names and generated BUILD text are checked first."""

    def test_version_with_a_quote_is_refused(self):
        text = 'evil==1.0" \\\n    --hash=sha256:%s\n' % ("a" * 64)
        with self.assertRaises(fetch_wheels.FetchError) as cm:
            pypi_lock.parse_lock(text)
        self.assertIn("evil has the version '1.0\"', which is not a PEP 440 version", str(cm.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
