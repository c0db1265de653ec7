"""Tests for dtar: the tar is the same for the same tree, whatever the files' metadata."""

import hashlib
import os
import tarfile
import tempfile
import unittest

from rules.private.tools import dtar


def make_tree(root, mtime, mode):
    os.makedirs(os.path.join(root, "opt/b"))
    os.makedirs(os.path.join(root, "opt/a"))
    with open(os.path.join(root, "opt/b/run"), "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(os.path.join(root, "opt/b/run"), 0o700)
    with open(os.path.join(root, "opt/a/data.txt"), "w") as f:
        f.write("x" * 10)
    os.chmod(os.path.join(root, "opt/a/data.txt"), mode)
    os.symlink("../b/run", os.path.join(root, "opt/a/link"))
    deep = os.path.join(root, "opt", "d" * 60, "e" * 60)
    os.makedirs(deep)
    open(os.path.join(deep, "f"), "w").close()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            os.utime(os.path.join(dirpath, name), (mtime, mtime), follow_symlinks=False)


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


class DtarTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()

    def build(self, name, mtime, mode):
        root = os.path.join(self.tmp, name)
        make_tree(root, mtime, mode)
        out = os.path.join(self.tmp, name + ".tar")
        dtar.main(["--root", root, "--mtime", "315532800", "--output", out])
        return out

    def test_same_tree_same_bytes_despite_mtime_and_mode(self):
        a = self.build("a", 1000, 0o600)
        b = self.build("b", 2000000000, 0o664)
        self.assertEqual(sha256(a), sha256(b))

    def test_entries_sorted_normalised(self):
        out = self.build("a", 1234, 0o600)
        with tarfile.open(out) as tar:
            members = tar.getmembers()
        names = [m.name for m in members]
        self.assertEqual(names, sorted(names))
        self.assertIn("opt", names)
        by_name = {m.name: m for m in members}
        for m in members:
            self.assertEqual((m.uid, m.gid, m.uname, m.gname, m.mtime), (0, 0, "", "", 315532800))
        self.assertEqual(by_name["opt/a/data.txt"].mode, 0o644)
        self.assertEqual(by_name["opt/b/run"].mode, 0o755)
        self.assertEqual(by_name["opt/a"].mode, 0o755)
        self.assertTrue(by_name["opt/a/link"].issym())
        self.assertEqual(by_name["opt/a/link"].linkname, "../b/run")
        self.assertTrue(any(len(n) > 100 for n in names))

    def test_a_long_name_renamed_is_written_under_its_new_name(self):
        # Entries read back from a tar carry the pax record of a long name; a caller that renames
        # one (slim_layer moving a .pyc out of __pycache__) must get the new name in the tar, and
        # an entry left alone the same bytes as before.
        out = self.build("a", 1234, 0o600)
        with tarfile.open(out) as tar:
            entries = [(m, tar.extractfile(m).read() if m.isreg() else None) for m in tar.getmembers()]
        deep = [info for info, _ in entries if info.name.endswith("/f")][0]
        self.assertIn("path", deep.pax_headers)
        again = os.path.join(self.tmp, "again.tar")
        dtar.write_entries(again, entries)
        self.assertEqual(sha256(again), sha256(out))
        deep.name = deep.name[:-1] + "g" * 50
        moved = os.path.join(self.tmp, "moved.tar")
        dtar.write_entries(moved, entries)
        with tarfile.open(moved) as tar:
            names = tar.getnames()
        self.assertIn(deep.name, names)
        self.assertFalse([n for n in names if n.endswith("/f")], names)

    def test_special_file_refused_and_nothing_left(self):
        root = os.path.join(self.tmp, "fifo")
        os.makedirs(root)
        os.mkfifo(os.path.join(root, "pipe"))
        out = os.path.join(self.tmp, "fifo.tar")
        with self.assertRaises(SystemExit) as cm:
            dtar.main(["--root", root, "--mtime", "0", "--output", out])
        self.assertIn("only files, directories and symlinks", str(cm.exception))
        self.assertFalse(os.path.exists(out))
        self.assertFalse(os.path.exists(out + ".tmp"))


if __name__ == "__main__":
    unittest.main()
