"""debian_lock against the real mirror: a package that does not exist, a stale lock, a lock that
does not match its list. Each fails with a message naming the package or file and the command
that fixes it, and leaves no lock half-written. (Needs the Debian mirror: requires-network.)"""

import json
import os
import tempfile
import unittest

from rules.private.tools import debian_lock as dl

CMD = "bazel run //x:y.update"


class DebianLockTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.list = os.path.join(self.dir, "list.txt")
        self.lock = os.path.join(self.dir, "list.lock.json")

    def run_tool(self, mode, packages):
        with open(self.list, "w") as f:
            f.write("\n".join(packages) + "\n")
        args = [mode, "--list", self.list, "--lock", self.lock, "--release", "bookworm",
                "--arch", "amd64", "--update-command", CMD]
        with self.assertRaises(SystemExit) as cm:
            dl.main(args)
        return str(cm.exception.code)

    def test_unknown_package(self):
        message = self.run_tool("update", ["libc6", "no-such-package-pyimage"])
        self.assertIn("package no-such-package-pyimage does not exist in Debian bookworm", message)
        self.assertIn(CMD, message)
        self.assertEqual(os.listdir(self.dir), ["list.txt"])

    def test_update_then_stale_then_mismatch(self):
        with open(self.list, "w") as f:
            f.write("zlib1g\n")
        dl.main(["update", "--list", self.list, "--lock", self.lock, "--release", "bookworm",
                 "--arch", "amd64", "--update-command", CMD])
        with open(self.lock) as f:
            lock = json.load(f)
        names = [p["name"] for p in lock["packages"]]
        self.assertIn("zlib1g", names)
        self.assertIn("libc6", names)  # dependencies are locked too
        for p in lock["packages"]:
            self.assertEqual(len(p["sha256"]), 64)
            self.assertTrue(p["filename"].startswith("pool/"), p)
        # An old version in the lock: stale.
        for p in lock["packages"]:
            if p["name"] == "zlib1g":
                p["version"] = "1:1.2.11.dfsg-1"
        with open(self.lock, "w") as f:
            json.dump(lock, f)
        message = self.run_tool("check", ["zlib1g"])
        self.assertIn("stale lock", message)
        self.assertIn(CMD, message)
        # The list asks for more than the lock holds: mismatch, found without resolving.
        message = self.run_tool("check", ["zlib1g", "libssl3"])
        self.assertIn("does not match", message)
        self.assertIn(CMD, message)


if __name__ == "__main__":
    unittest.main(verbosity=2)
