"""Unit tests of apt_lock's pure parts: the list, the digest, pruning and the change report."""

import os
import tempfile
import unittest

from rules.private.tools import apt_lock as dl


def pkg(name, version="1", depends=(), provides=(), suite="bookworm"):
    return {"name": name, "version": version, "depends": list(depends), "provides": list(provides),
            "suite": suite, "sha256": name + version}


class ListTest(unittest.TestCase):
    def write(self, text):
        fd, path = tempfile.mkstemp()
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path

    def test_a_new_lock_starts_empty(self):
        self.assertIsNone(dl.read_lock(self.write("")))
        self.assertIsNone(dl.read_lock(self.write("\n  \n")))
        self.assertIsNone(dl.read_lock("/nonexistent/lock.json"))
        self.assertEqual(dl.read_lock(self.write('{"packages": []}')), {"packages": []})
        for bad in ["{", "[]", '{"packages": 1}']:
            with self.assertRaises(dl.LockError) as cm:
                dl.read_lock(self.write(bad))
            self.assertIn("empty the file to start it again", str(cm.exception))

    def test_names_exclusions_comments(self):
        names, excluded = dl.read_list(self.write("# c\nlibc6\n\n libssl3  # why\n!dpkg\n"))
        self.assertEqual((names, excluded), (["libc6", "libssl3"], ["dpkg"]))

    def test_bad_name_names_the_line(self):
        with self.assertRaises(dl.LockError) as cm:
            dl.read_list(self.write("libc6\nNot A Package\n"))
        self.assertIn(":2: 'Not A Package' is not a Debian package name", str(cm.exception))

    def test_asked_and_excluded(self):
        with self.assertRaises(dl.LockError):
            dl.read_list(self.write("dpkg\n!dpkg\n"))

    def test_digest_ignores_order_but_not_content(self):
        a = dl.list_digest(["b", "a"], ["x"], "bookworm", "amd64")
        self.assertEqual(a, dl.list_digest(["a", "b"], ["x"], "bookworm", "amd64"))
        self.assertNotEqual(a, dl.list_digest(["a", "b"], [], "bookworm", "amd64"))
        self.assertNotEqual(a, dl.list_digest(["a", "b"], ["x"], "trixie", "amd64"))


class PruneTest(unittest.TestCase):
    def test_drops_excluded_and_what_only_it_needed(self):
        packages = [
            pkg("ca-certificates", depends=["openssl", "debconf"]),
            pkg("openssl", depends=["libssl3", "libc6"]),
            pkg("libssl3", depends=["libc6"]),
            pkg("debconf", depends=["perl-base"]),
            pkg("perl-base", depends=["libc6"]),
            pkg("libc6"),
            pkg("mawk", provides=["awk"]),
            pkg("base-files", depends=["awk"]),
        ]
        kept = dl.prune(packages, ["ca-certificates", "libssl3", "base-files"], {"openssl", "debconf"})
        self.assertEqual(sorted(p["name"] for p in kept),
                         ["base-files", "ca-certificates", "libc6", "libssl3", "mawk"])


class ChangesTest(unittest.TestCase):
    def test_report(self):
        old = {"packages": [pkg("libssl3", "3.0.1"), pkg("zlib1g", "1.2"), pkg("gone", "1")]}
        new = {"packages": [pkg("libssl3", "3.0.2", suite="bookworm-security"), pkg("zlib1g", "1.2"),
                            pkg("added", "2")]}
        self.assertEqual(dl.changes(old, new), [
            "  + added 2",
            "  - gone 1",
            "  libssl3 3.0.1 -> 3.0.2  [security]",
        ])


if __name__ == "__main__":
    unittest.main(verbosity=2)
