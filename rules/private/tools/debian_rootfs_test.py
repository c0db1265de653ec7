"""debian_rootfs.assemble on crafted .deb files: a control file that lies about the package's
name (a path in it) is refused before its name reaches a layer path; a hard link whose target no
package ships is refused, naming the .deb; a hard link to a file the excludes leave out becomes a
copy of it; and the tar writer refuses absolute and `..` entry names whoever made them."""

import io
import os
import shutil
import tarfile
import tempfile
import unittest

from rules.private.tools import debian_rootfs, dtar
from rules.private.tools.deb import DebError


def tar_blob(entries):
    """A .tar.gz of [(TarInfo, data)]."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for info, data in entries:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def regular(name, data):
    return tarfile.TarInfo(name), data


def hardlink(name, target):
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.LNKTYPE, target
    return info, None


def deb_file(path, package, files):
    """A .deb at path: control names `package`, data holds files ([(TarInfo, data)])."""
    control = tar_blob([regular("./control", ("Package: %s\nVersion: 1.0\nArchitecture: amd64\n" % package).encode())])
    data = tar_blob([regular("./etc/os-release", b"ID=debian\n")] + files)
    with open(path, "wb") as f:
        f.write(b"!<arch>\n")
        for name, blob in [("debian-binary", b"2.0\n"), ("control.tar.gz", control), ("data.tar.gz", data)]:
            f.write(("%-16s%-12s%-6s%-6s%-8s%-10s`\n" % (name, "0", "0", "0", "100644", len(blob))).encode())
            f.write(blob + (b"\n" if len(blob) % 2 else b""))
    return path


class DebianRootfsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="debian-rootfs-test.", dir=os.environ.get("TEST_TMPDIR"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assemble(self, debs, exclude=()):
        return debian_rootfs.assemble(debs, 315532800, "nonroot", 65532, 65532, list(exclude), [])

    def test_a_lying_package_name_is_refused(self):
        deb = deb_file(os.path.join(self.dir, "evil.deb"), "../../evil", [])
        with self.assertRaises(DebError) as caught:
            self.assemble([deb])
        self.assertIn("%s: its control file names the package '../../evil', which is not a Debian package name" % deb,
                      str(caught.exception))

    def test_a_hard_link_to_nothing_is_refused(self):
        deb = deb_file(os.path.join(self.dir, "links.deb"), "links", [hardlink("./usr/bin/b", "./usr/bin/missing")])
        with self.assertRaises(DebError) as caught:
            self.assemble([deb])
        self.assertIn("%s: usr/bin/b is a hard link to ./usr/bin/missing, which no package ships" % deb, str(caught.exception))

    def test_a_hard_link_to_a_left_out_file_is_a_copy(self):
        deb = deb_file(os.path.join(self.dir, "links.deb"), "links",
                       [regular("./usr/share/doc/links/a", b"text\n"), hardlink("./usr/bin/b", "./usr/share/doc/links/a")])
        entries, packages = self.assemble([deb], exclude=["usr/share/doc/*"])
        tree = {info.name: (info, data) for info, data in entries}
        self.assertEqual(["links"], packages)
        self.assertNotIn("usr/share/doc/links/a", tree)
        self.assertTrue(tree["usr/bin/b"][0].isreg())
        self.assertEqual(b"text\n", tree["usr/bin/b"][1])

    def test_a_truncated_deb_is_an_error_naming_it(self):
        deb = deb_file(os.path.join(self.dir, "cut.deb"), "cut", [regular("./usr/share/cut/big", os.urandom(200000))])
        with open(deb, "rb") as f:
            data = f.read()
        with open(deb, "wb") as f:
            f.write(data[: len(data) - 100000])
        with self.assertRaises(DebError) as caught:
            self.assemble([deb])
        self.assertIn("%s: its data.tar.gz does not unpack" % deb, str(caught.exception))

    def test_the_tar_writer_refuses_names_outside(self):
        for name in ["../etc/passwd", "/etc/passwd", "usr/../../x"]:
            with self.subTest(name=name):
                out = os.path.join(self.dir, "out.tar")
                with self.assertRaises(ValueError) as caught:
                    dtar.write_entries(out, [dtar.entry(name, tarfile.REGTYPE, 0o644, 0, b"x")])
                self.assertIn("the tar entry %r is absolute or climbs out with .." % name, str(caught.exception))
                self.assertFalse(os.path.exists(out) or os.path.exists(out + ".tmp"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
