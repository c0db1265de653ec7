"""Tests for the builder's root filesystem (builder_rootfs.py) and the .deb reader (deb.py):
what goes in, the links maintainer scripts would have made, the same bytes twice, and crafted
packages refused with the package named."""

import hashlib
import io
import os
import tarfile
import tempfile
import unittest

from rules.private.tools import builder_rootfs, deb


def tar_bytes(entries, compress):
    """A tar (gz or xz) of [(name, kind, data or linkname, mode)]."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:" + compress) as tar:
        for name, kind, payload, mode in entries:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = kind, mode, 1700000000
            info.uname = info.gname = "someone"
            if kind == tarfile.REGTYPE:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            else:
                info.linkname = payload
                tar.addfile(info)
    return raw.getvalue()


def make_deb(directory, package, files):
    """Writes PACKAGE.deb holding files [(name, kind, payload, mode)]; returns its path."""
    control = tar_bytes([("./control", tarfile.REGTYPE, ("Package: %s\nVersion: 1\n" % package).encode(), 0o644)], "gz")
    data = tar_bytes([("./", tarfile.DIRTYPE, "", 0o755)] + files, "xz")
    out = io.BytesIO()
    out.write(b"!<arch>\n")
    for name, blob in [("debian-binary", b"2.0\n"), ("control.tar.gz", control), ("data.tar.xz", data)]:
        out.write(("%-16s%-12s%-6s%-6s%-8s%-10s`\n" % (name, "0", "0", "0", "100644", len(blob))).encode())
        out.write(blob + (b"\n" if len(blob) % 2 else b""))
    path = os.path.join(directory, package + ".deb")
    with open(path, "wb") as f:
        f.write(out.getvalue())
    return path


REG, DIR, SYM, LNK = tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE


class BuilderRootfsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.mawk = make_deb(self.dir, "mawk", [
            ("./usr/", DIR, "", 0o755), ("./usr/bin/", DIR, "", 0o755),
            ("./usr/bin/mawk", REG, b"\x7fELF mawk", 0o4755),
            ("./usr/bin/mawk-hardlink", LNK, "./usr/bin/mawk", 0o755),
            ("./usr/share/doc/mawk/README", REG, b"docs", 0o644)])
        self.libc = make_deb(self.dir, "libc6", [
            ("./lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", REG, b"\x7fELF ld", 0o755),
            ("./lib64/ld-linux-x86-64.so.2", SYM, "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", 0o777)])

    def build(self, *extra, debs=None):
        out = os.path.join(self.dir, "builder.tar")
        builder_rootfs.main(["--output", out, "--mtime", "315532800", "--exclude", "usr/share/doc/*",
                             "--link", "usr/bin/awk=mawk"] + list(extra) + (debs or [self.mawk, self.libc]))
        with open(out, "rb") as f:
            return f.read()

    def test_files_links_and_normalised_entries(self):
        blob = self.build()
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            members = {m.name: m for m in tar.getmembers()}
            self.assertEqual(members["usr/bin/awk"].linkname, "mawk")
            self.assertTrue(members["usr/bin/awk"].issym())
            self.assertEqual(members["usr/bin/mawk"].mode, 0o755)          # no setuid bit
            self.assertTrue(members["usr/bin/mawk-hardlink"].isreg())       # a hard link becomes a copy
            self.assertEqual(tar.extractfile("usr/bin/mawk-hardlink").read(), b"\x7fELF mawk")
            self.assertNotIn("usr/share/doc/mawk/README", members)
            self.assertIn(b"root:x:0:0", tar.extractfile("etc/passwd").read())
            for name in ["tmp", "build", "proc", "dev", "root"]:
                self.assertTrue(members[name].isdir(), name)
            for m in members.values():
                self.assertEqual((m.uid, m.gid, m.uname, m.gname, m.mtime), (0, 0, "", "", 315532800), m.name)
            self.assertEqual([m.name for m in tar.getmembers()], sorted(members))

    def test_same_bytes_twice(self):
        first = hashlib.sha256(self.build()).hexdigest()
        self.assertEqual(hashlib.sha256(self.build()).hexdigest(), first)

    def test_link_to_a_missing_target_names_the_fix(self):
        with self.assertRaises(SystemExit) as err:
            self.build("--link", "usr/bin/cc=gcc")
        self.assertIn("--link usr/bin/cc=gcc: the target usr/bin/gcc is not in the builder; add the package that ships it to builder.txt", str(err.exception))

    def test_member_outside_the_root_is_refused(self):
        for name in ["./../etc/evil", "../evil", "/etc/evil", "./usr/../../evil"]:
            evil = make_deb(self.dir, "evil", [(name, REG, b"x", 0o644)])
            with self.assertRaises(SystemExit) as err:
                self.build(debs=[self.mawk, evil])
            self.assertIn("evil.deb: the member '%s' would land outside the root filesystem; the package is refused" % name,
                          str(err.exception))
            self.assertFalse(os.path.exists(os.path.join(self.dir, "builder.tar")))

    def test_conflicting_files_are_named(self):
        other = make_deb(self.dir, "other", [("./usr/bin/mawk", REG, b"something else", 0o755)])
        with self.assertRaises(SystemExit) as err:
            self.build(debs=[self.mawk, other])
        self.assertIn("both ship usr/bin/mawk, with different contents", str(err.exception))

    def test_member_name_normalises(self):
        self.assertEqual(deb.member_name("./usr/./bin/", "p.deb"), "usr/bin")
        self.assertEqual(deb.member_name("./", "p.deb"), "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
