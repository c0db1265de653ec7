"""Tests of cpython_releases and cpython_versions (the version table's update), with no network.

A pool of its own on 127.0.0.1 serves testdata/cpython_releases: a .dsc clearsigned by a test
uploader whose public key is testdata's uploaders.gpg (the keyring), the same .dsc signed by a key
the keyring lacks (outsider.dsc), and a stand-in orig tarball whose sha256 the signed text gives.
They were made with gpg --quick-gen-key (ed25519) and gpg --clearsign; the secret keys were not kept.
"""

import functools
import hashlib
import http.server
import os
import shutil
import tempfile
import threading
import unittest

from rules.private.tools import cpython_releases as cr
from rules.private.tools import cpython_versions as cv
from rules.private.tools import outdated

TESTDATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata", "cpython_releases")
POOL = "pool/main/p/python3.14"

SOURCES = """Package: python3.14
Binary: python3.14, python3.14-venv
Version: 3.14.10-2
Directory: pool/main/p/python3.14
Checksums-Sha256:
 %s 23000000 python3.14_3.14.10.orig.tar.xz
 %s 250000 python3.14_3.14.10-2.debian.tar.xz

Package: python3.15
Version: 3.15.0~rc2-1
Directory: pool/main/p/python3.15
Checksums-Sha256:
 %s 23000000 python3.15_3.15.0~rc2.orig.tar.xz

Package: python3-defaults
Version: 3.13.5-1
Directory: pool/main/p/python3-defaults
Checksums-Sha256:
 %s 1000 python3-defaults_3.13.5-1.tar.gz
""" % ("a" * 64, "b" * 64, "c" * 64, "d" * 64)


class VersionTest(unittest.TestCase):
    def test_spellings(self):
        self.assertEqual(cr.debian_upstream("3.15.0rc1"), "3.15.0~rc1")
        self.assertEqual(cr.debian_upstream("3.14.7"), "3.14.7")
        self.assertEqual(cr.python_org("3.15.0~b4"), "3.15.0b4")
        self.assertIsNone(cr.python_org("3.15.0~rc1+dfsg"))
        self.assertEqual(cr.minor_of("3.15.0rc1"), "3.15")
        for bad in ["3.14", "3.14.7t", "4.0.0", "3.14.7-1", "3.15.0c1"]:
            with self.assertRaises(cr.ReleaseError):
                cr.parse_version(bad)

    def test_order(self):
        versions = ["3.15.0", "3.15.0rc1", "3.15.0a7", "3.15.0b1", "3.14.10", "3.14.9", "3.15.1"]
        self.assertEqual(sorted(versions, key=cr.version_key),
                         ["3.14.9", "3.14.10", "3.15.0a7", "3.15.0b1", "3.15.0rc1", "3.15.0", "3.15.1"])

    def test_python_org_url(self):
        self.assertEqual(cr.python_org_url("3.15.0rc1", "p/python3.15_3.15.0~rc1.orig.tar.xz"),
                         "https://www.python.org/ftp/python/3.15.0/Python-3.15.0rc1.tar.xz")
        self.assertEqual(cr.python_org_url("3.11.2", "p/python3.11_3.11.2.orig.tar.gz"),
                         "https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tgz")

    def test_lines(self):
        table = ["3.13.15", "3.13.5", "3.11.2", "3.14.7"]
        self.assertEqual(cr.newest_of(table, "3.13"), "3.13.15")
        self.assertIsNone(cr.newest_of(table, "3.15"))
        listed = {v: None for v in ["3.9.2", "3.13.18", "3.15.0rc2", "3.16.0a1"]}
        self.assertEqual(cr.followed_lines(table, listed), ["3.11", "3.13", "3.14", "3.15", "3.16"])

    def test_candidates(self):
        self.assertEqual(cr.candidates("3.14", "3.14.7", "3.14.10"), ["3.14.10", "3.14.9", "3.14.8"])
        got = cr.candidates("3.15", None, "3.15.1")
        self.assertEqual(got[:5], ["3.15.1", "3.15.0", "3.15.0rc3", "3.15.0rc2", "3.15.0rc1"])
        self.assertEqual(got[-1], "3.15.0a1")
        self.assertEqual(cr.candidates("3.15", "3.15.0rc1", "3.15.0"), ["3.15.0", "3.15.0rc3", "3.15.0rc2"])
        self.assertEqual(cr.candidates("3.13", "3.13.15", "3.13.15"), [])


class SourcesTest(unittest.TestCase):
    def test_reads_python_records_only(self):
        found = cr.releases_in_sources(SOURCES, "Sources of unstable, %s")
        self.assertEqual([(r.version, r.minor, r.orig, r.sha256) for r in found], [
            ("3.14.10", "3.14", "pool/main/p/python3.14/python3.14_3.14.10.orig.tar.xz", "a" * 64),
            ("3.15.0rc2", "3.15", "pool/main/p/python3.15/python3.15_3.15.0~rc2.orig.tar.xz", "c" * 64),
        ])
        self.assertEqual(found[0].evidence, "Sources of unstable, python3.14 3.14.10-2")

    def test_a_damaged_hash_is_refused(self):
        with self.assertRaises(cr.ReleaseError) as cm:
            cr.releases_in_sources(SOURCES.replace("a" * 64, "a" * 63 + "g"), "%s")
        self.assertIn("python3.14_3.14.10.orig.tar.xz", str(cm.exception))


class PoolTest(unittest.TestCase):
    """from_dsc and cpython_versions.verify against a pool served on 127.0.0.1."""

    def setUp(self):
        self.root = tempfile.mkdtemp()
        self.pool = os.path.join(self.root, POOL)
        os.makedirs(self.pool)
        for name in ["python3.14_3.14.7-1.dsc", "python3.14_3.14.7.orig.tar.xz"]:
            shutil.copy(os.path.join(TESTDATA, name), self.pool)
        handler = functools.partial(QuietHandler, directory=self.root)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.work = tempfile.mkdtemp()
        self.keyrings = ([os.path.join(TESTDATA, "uploaders.gpg")], "the test keyring")

    def tearDown(self):
        self.server.shutdown()
        self.server.server_close()
        shutil.rmtree(self.root)
        shutil.rmtree(self.work)

    def put(self, name, data):
        with open(os.path.join(self.pool, name), "wb") as f:
            f.write(data)

    def test_signed_dsc_gives_the_hash(self):
        release = cr.from_dsc("3.14.7", self.work, self.keyrings, self.base)
        with open(os.path.join(TESTDATA, "python3.14_3.14.7.orig.tar.xz"), "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        self.assertEqual(release.sha256, want)
        self.assertEqual(release.orig, POOL + "/python3.14_3.14.7.orig.tar.xz")
        self.assertIn("python3.14_3.14.7-1.dsc, signed by pyimage test uploader", release.evidence)
        self.assertTrue(cr.served(release, self.base))
        self.assertIsNone(cr.from_dsc("3.14.6", self.work, self.keyrings, self.base))

    def test_verify_checks_the_served_file(self):
        release = cv.verify("3.14.7", {}, self.work, [self.keyrings], self.base)
        entry = cv.entry(release, "2026-12-05")
        self.assertEqual(entry["url"], "https://www.python.org/ftp/python/3.14.7/Python-3.14.7.tar.xz")
        self.assertEqual(entry["debian_orig"], POOL + "/python3.14_3.14.7.orig.tar.xz")
        self.put("python3.14_3.14.7.orig.tar.xz", b"other bytes\n")
        with self.assertRaises(cr.ReleaseError) as cm:
            cv.verify("3.14.7", {}, self.work, [self.keyrings], self.base)
        self.assertIn("refused", str(cm.exception))
        os.unlink(os.path.join(self.pool, "python3.14_3.14.7.orig.tar.xz"))
        with self.assertRaises(cr.ReleaseError) as cm:
            cv.verify("3.14.7", {}, self.work, [self.keyrings], self.base)
        self.assertIn("listed, not served here", str(cm.exception))

    def test_a_tampered_dsc_is_refused(self):
        with open(os.path.join(TESTDATA, "python3.14_3.14.7-1.dsc"), "rb") as f:
            text = f.read()
        line = [l for l in text.splitlines() if l.endswith(b".orig.tar.xz")][0]
        self.put("python3.14_3.14.7-1.dsc", text.replace(line, b" " + b"0" * 64 + line[65:]))
        with self.assertRaises(cr.ReleaseError) as cm:
            cr.from_dsc("3.14.7", self.work, self.keyrings, self.base)
        self.assertIn("gpgv refused the signature of python3.14_3.14.7-1.dsc", str(cm.exception))

    def test_a_key_outside_the_keyring_is_refused(self):
        shutil.copy(os.path.join(TESTDATA, "outsider.dsc"), os.path.join(self.pool, "python3.14_3.14.7-1.dsc"))
        with self.assertRaises(cr.ReleaseError) as cm:
            cr.from_dsc("3.14.7", self.work, self.keyrings, self.base)
        self.assertIn("gpgv refused", str(cm.exception))

    def test_unlisted_without_dsc_is_not_written(self):
        with self.assertRaises(cr.ReleaseError) as cm:
            cv.verify("3.14.6", {}, self.work, [self.keyrings], self.base)
        self.assertIn("nothing vouches for a hash, so it is not written", str(cm.exception))

    def test_servable_passes_over_unserved_and_unvouched(self):
        listed = {"3.14.8": cr.Release("3.14.8", "3.14", POOL + "/python3.14_3.14.8.orig.tar.xz", "a" * 64, "x")}
        self.put("python3.14_3.14.6.orig.tar.xz", b"x")  # served, but no .dsc of it
        self.assertEqual(cr.servable("3.14", "3.14.5", listed, self.base), ("3.14.7", ["3.14.8"], []))
        self.assertEqual(cr.servable("3.14", "3.14.7", listed, self.base), (None, ["3.14.8"], []))
        os.unlink(os.path.join(self.pool, "python3.14_3.14.7-1.dsc"))
        self.assertEqual(cr.servable("3.14", "3.14.5", listed, self.base), (None, ["3.14.8"], ["3.14.7", "3.14.6"]))


    def test_outdated_offers_what_verifies_and_names_what_is_not_served(self):
        listed = {"3.14.8": cr.Release("3.14.8", "3.14", POOL + "/python3.14_3.14.8.orig.tar.xz", "a" * 64, "x")}
        self.put("python3.14_3.14.6.orig.tar.xz", b"x")  # served, but no .dsc of it
        sbom = [{"label": "//app:image", "packages": [{"name": "CPython", "versionInfo": "3.14.5"}]}]
        lines = []
        outdated.cpython_updates(["3.14.5", "3.13.15"], sbom, lines, listed, self.base)
        self.assertEqual(lines, [
            "CPython (newer releases this machine can fetch and verify):",
            "  CPython 3.14.5 -> 3.14.7  images: //app:image  take it: bazel run @rules_pyimage//toolchains:versions.update "
            "-- 3.14.7, then name it in python_versions",
            "CPython (newer releases Debian lists that this machine cannot fetch or verify):",
            "  CPython 3.14.8: listed by Debian (python3.14), not served here: this machine's mirror has no "
            "python3.14_3.14.8.orig.tar.*; it builds where python.org is reachable",
        ])
        lines = []
        outdated.cpython_updates(["3.14.7"], sbom, lines, listed, self.base)
        self.assertNotIn("versions.update", "\n".join(lines))
        self.assertIn("3.14.8: listed by Debian", "\n".join(lines))
        os.unlink(os.path.join(self.pool, "python3.14_3.14.7-1.dsc"))
        lines = []
        outdated.cpython_updates(["3.14.5"], sbom, lines, listed, self.base)
        self.assertIn("  CPython 3.14.7: served here, but no signed .dsc in Debian's pool vouches for its hash; "
                      "not offered", lines)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class TableTest(unittest.TestCase):
    def test_rewrite_is_newest_first_and_keeps_the_rest(self):
        fd, path = tempfile.mkstemp(suffix=".bzl")
        with os.fdopen(fd, "w") as f:
            f.write('"""Doc."""\n\n# buildifier: disable=line-length\nCPYTHON_VERSIONS = {\n'
                    '    "3.11.2": {"url": "u311", "sha256": "s311"},\n'
                    '    "3.13.5": {"url": "u5", "sha256": "s5", "confirmed": "c"},\n}\n\nDEFAULT = "3.13.5"\n')
        text, match, table = cv.read_table(path)
        table["3.15.0rc1"] = {"confirmed": "c1", "sha256": "s1", "url": "u1"}
        table["3.13.15"] = {"url": "u15", "sha256": "s15"}
        cv.write_table(path, text, match, table)
        with open(path) as f:
            new = f.read()
        self.assertEqual(new, '"""Doc."""\n\n# buildifier: disable=line-length\nCPYTHON_VERSIONS = {\n'
                         '    "3.15.0rc1": {"url": "u1", "sha256": "s1", "confirmed": "c1"},\n'
                         '    "3.13.15": {"url": "u15", "sha256": "s15"},\n'
                         '    "3.13.5": {"url": "u5", "sha256": "s5", "confirmed": "c"},\n'
                         '    "3.11.2": {"url": "u311", "sha256": "s311"},\n}\n\nDEFAULT = "3.13.5"\n')
        self.assertEqual(cv.read_table(path)[2], table)
        os.unlink(path)


if __name__ == "__main__":
    unittest.main()
