"""build_wheel.safe_extract on crafted sdists: each trick that would put a file outside the build
directory is refused with one line naming the sdist and the member, with and without tarfile's
`data` filter (the from-source 3.11.2 has none), and nothing lands outside; a truncated archive
is an error, not a traceback; an honest sdist with a link inside it unpacks."""

import io
import os
import shutil
import tarfile
import tempfile
import unittest

from rules.private.tools import build_wheel


def member(name, kind=tarfile.REGTYPE, linkname="", data=b"x\n", mode=0o644):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, linkname, mode
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)


class SafeExtractTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="build-wheel-test.")
        self.dest = os.path.join(self.dir, "build", "src")
        os.makedirs(self.dest)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def sdist(self, members):
        path = os.path.join(self.dir, "evil-1.0.tar.gz")
        with tarfile.open(path, "w:gz") as tar:
            for info, data in members:
                tar.addfile(info, data)
        return path

    def assert_refused(self, members, message):
        path = self.sdist(members)
        for use_filter in [True, False] if build_wheel.HAS_DATA_FILTER else [False]:
            with self.subTest(data_filter=use_filter):
                with self.assertRaises(SystemExit) as caught:
                    build_wheel.safe_extract(path, self.dest, use_filter=use_filter)
                self.assertIn("ERROR: %s: the member " % path, str(caught.exception))
                self.assertIn(message, str(caught.exception))
                self.assertIn("the sdist is refused", str(caught.exception))
                self.assertEqual(["build", "evil-1.0.tar.gz"], sorted(os.listdir(self.dir)), "something landed outside")

    def test_a_hard_link_named_from_a_subdirectory_is_refused(self):
        # A hard link's name is relative to the archive's root: pkg/../../outside leaves it.
        self.assert_refused([member("pkg/", tarfile.DIRTYPE, mode=0o755), member("pkg/a"),
                             member("pkg/h", tarfile.LNKTYPE, linkname="../outside")],
                            "'pkg/h' is a hard link to ../outside, not to a file of the sdist")

    def test_a_chain_of_links_that_leads_out_is_refused(self):
        # a/b -> .. stays inside; c -> a/b/.. looks inside by its text, but climbs out through a/b.
        self.assert_refused([member("a/", tarfile.DIRTYPE, mode=0o755), member("a/b", tarfile.SYMTYPE, linkname=".."),
                             member("c", tarfile.SYMTYPE, linkname="a/b/..")],
                            "'c' is a link to a/b/.., outside the build directory")

    def test_an_absolute_link_is_refused(self):
        self.assert_refused([member("pkg/", tarfile.DIRTYPE, mode=0o755), member("pkg/l", tarfile.SYMTYPE, linkname="/etc/shadow")],
                            "'pkg/l' is a link to /etc/shadow, outside the build directory")

    def test_a_file_under_a_link_is_refused(self):
        self.assert_refused([member("sub/", tarfile.DIRTYPE, mode=0o755), member("l", tarfile.SYMTYPE, linkname="sub"),
                             member("l/x")], "'l/x' lies under a link")

    def test_dotdot_and_devices_are_refused(self):
        self.assert_refused([member("../outside")], "'../outside' has an absolute name or climbs out with ..")
        self.assert_refused([member("fifo", tarfile.FIFOTYPE)], "'fifo' is a device, FIFO or other special file")

    def test_a_truncated_archive_is_an_error_naming_it(self):
        path = self.sdist([member("pkg-1.0/setup.py", data=b"x" * 100000)])
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[: len(data) // 2])
        with self.assertRaises(SystemExit) as caught:
            build_wheel.safe_extract(path, self.dest)
        self.assertIn("ERROR: %s: " % path, str(caught.exception))
        self.assertIn("refused", str(caught.exception))

    def test_an_honest_sdist_with_a_link_inside_unpacks(self):
        path = self.sdist([member("pkg-1.0/", tarfile.DIRTYPE, mode=0o755), member("pkg-1.0/setup.py", data=b"print(1)\n"),
                           member("pkg-1.0/alias.py", tarfile.SYMTYPE, linkname="setup.py"),
                           member("pkg-1.0/run", data=b"#!/bin/sh\n", mode=0o4777)])
        build_wheel.safe_extract(path, self.dest)
        top = os.path.join(self.dest, "pkg-1.0")
        self.assertEqual("setup.py", os.readlink(os.path.join(top, "alias.py")))
        with open(os.path.join(top, "alias.py")) as f:
            self.assertEqual("print(1)\n", f.read())
        self.assertEqual(0o755, os.stat(os.path.join(top, "run")).st_mode & 0o7777)


if __name__ == "__main__":
    unittest.main(verbosity=2)
