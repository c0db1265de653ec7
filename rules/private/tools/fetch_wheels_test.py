"""fetch_wheels.py against a package index of its own on 127.0.0.1 (PEP 503 pages, with or without
sha256 fragments), configured only through PIP_* variables as a machine's pip would be.

The index serves pyimagehook 1.0: an sdist with a build backend of its own (pyproject.toml's
`backend-path`, so it needs nothing from the index) that appends to a marker file as soon as
anything loads it, and, in some cases, a wheel. `pip download` of that sdist would load the
backend to read the metadata (the fetch did so until it checked hashes itself). Whatever the lock
says, the fetch must never run the hook: the marker must not exist after any case.
"""

import hashlib
import http.server
import io
import os
import shutil
import tarfile
import tempfile
import threading
import unittest
import urllib.parse
import zipfile

from rules.private.tools import fetch_wheels, pypi_lock

CMD = "bazel run //x:requirements.update"

PYPROJECT = """[build-system]
requires = []
build-backend = "hook_backend"
backend-path = ["."]
"""

# A build backend that writes the marker when it is imported, then fails: any build hook that
# pip calls (get_requires_for_build_wheel, prepare_metadata_for_build_wheel) has run it by then.
BACKEND = """import os
with open(os.environ.get("PYIMAGE_HOOK_MARKER", {marker!r}), "a") as f:
    f.write("the build backend of pyimagehook ran\\n")
raise SystemExit("pyimagehook's build backend ran")
"""


def sdist_bytes(marker):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, text in [("pyproject.toml", PYPROJECT), ("hook_backend.py", BACKEND.format(marker=marker)),
                           ("PKG-INFO", "Metadata-Version: 2.1\nName: pyimagehook\nVersion: 1.0\n")]:
            data = text.encode()
            info = tarfile.TarInfo("pyimagehook-1.0/" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def wheel_bytes(tag):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as whl:
        whl.writestr("pyimagehook.py", "")
        whl.writestr("pyimagehook-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nTag: %s\n" % tag)
    return out.getvalue()


def sha(data):
    return hashlib.sha256(data).hexdigest()


class Index:
    """A PEP 503 index in a thread, a page per project (the file name's first part): files[name] =
    bytes served; listed[name] = the sha256 its page states for it (None: no fragment)."""

    def __init__(self):
        self.files, self.listed = {}, {}
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                project = self.path.rstrip("/")[len("/simple/"):] if self.path.startswith("/simple/") else None
                if project:
                    names = sorted(n for n in index.files if os.path.basename(urllib.parse.unquote(n)).split("-")[0]
                                   .replace("_", "-").lower() == project)
                    links = "".join('<a href="/files/%s%s">%s</a>\n' % (
                        n, "#sha256=" + index.listed[n] if index.listed.get(n) else "", n) for n in names)
                    body = ("<!DOCTYPE html><html><body>\n%s</body></html>" % links).encode()
                elif self.path.startswith("/files/") and self.path[7:] in index.files:
                    body = index.files[self.path[7:]]
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html" if self.path.startswith("/simple/") else
                                 "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/simple/" % self.server.server_address[1]

    def add(self, name, data, listed=True):
        self.files[name] = data
        self.listed[name] = sha(data) if listed is True else listed

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class FetchFromLocalIndexTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.marker = os.path.join(self.dir, "hook-ran")
        self.index = Index()
        self.env = dict(os.environ)
        for var in list(os.environ):
            if var.startswith("PIP_"):
                del os.environ[var]
        os.environ.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=self.index.url, PIP_NO_CACHE_DIR="1",
                          PYIMAGE_HOOK_MARKER=self.marker)
        self.sdist = sdist_bytes(self.marker)

    def tearDown(self):
        self.index.close()
        os.environ.clear()
        os.environ.update(self.env)
        shutil.rmtree(self.dir, ignore_errors=True)

    def fetch(self, hashes, build_from_source=False, python_version="3.13"):
        lock = os.path.join(self.dir, "requirements.lock.txt")
        with open(lock, "w") as f:
            f.write("pyimagehook==1.0" + "".join(" \\\n    --hash=sha256:" + h for h in hashes) + "\n")
        self.out = os.path.join(self.dir, "repo")
        argv = ["--lock", lock, "--out", self.out, "--python-version", python_version, "--platform",
                "manylinux_2_17_x86_64", "--update-command", CMD, "--rules-repo", "rules_pyimage"]
        if build_from_source:
            argv += ["--build-from-source", "pyimagehook"]
        try:
            fetch_wheels.main(argv)
        except SystemExit as err:
            return str(err.code)
        finally:
            self.assertFalse(os.path.exists(self.marker), "fetching ran the sdist's build hook")
        return None

    def fetched(self):
        d = os.path.join(self.out, "pyimagehook")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def test_wrong_hash_is_refused_before_any_hook(self):
        self.index.add("pyimagehook-1.0.tar.gz", self.sdist)
        message = self.fetch(["ab" * 32])
        self.assertIn("pyimagehook==1.0: the downloaded pyimagehook-1.0.tar.gz has sha256 %s, which the "
                      "lock does not list; the file is refused" % sha(self.sdist), message)
        self.assertIn(CMD, message)
        self.assertEqual(self.fetched(), [])

    def test_right_hash_fetches_the_sdist_as_a_file(self):
        self.index.add("pyimagehook-1.0.tar.gz", self.sdist)
        self.assertIsNone(self.fetch([sha(self.sdist)]))
        self.assertEqual(self.fetched(), ["BUILD.bazel", "pyimagehook-1.0.tar.gz"])
        with open(os.path.join(self.out, "pyimagehook", "pyimagehook-1.0.tar.gz"), "rb") as f:
            self.assertEqual(f.read(), self.sdist)
        with open(os.path.join(self.out, "pyimagehook", "BUILD.bazel")) as f:
            self.assertIn("wheel_from_sdist(", f.read())

    def test_a_wheel_added_to_a_locked_release_later_changes_nothing(self):
        # The lock was made when only the sdist existed; a wheel that fits better appears since.
        self.index.add("pyimagehook-1.0.tar.gz", self.sdist)
        self.index.add("pyimagehook-1.0-py3-none-any.whl", wheel_bytes("py3-none-any"))
        self.assertIsNone(self.fetch([sha(self.sdist)]))
        self.assertEqual(self.fetched(), ["BUILD.bazel", "pyimagehook-1.0.tar.gz"])

    def test_the_best_locked_wheel_is_taken(self):
        generic = wheel_bytes("py3-none-any")
        specific = wheel_bytes("cp313-cp313-manylinux_2_17_x86_64")
        self.index.add("pyimagehook-1.0.tar.gz", self.sdist)
        self.index.add("pyimagehook-1.0-py3-none-any.whl", generic)
        self.index.add("pyimagehook-1.0-cp313-cp313-manylinux_2_17_x86_64.whl", specific)
        self.index.add("pyimagehook-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", wheel_bytes("cp312"))
        self.assertIsNone(self.fetch([sha(self.sdist), sha(generic), sha(specific)]))
        self.assertEqual(self.fetched(), ["BUILD.bazel", "pyimagehook-1.0-cp313-cp313-manylinux_2_17_x86_64.whl"])
        # ... unless the package is to be built from source.
        shutil.rmtree(self.out)
        self.assertIsNone(self.fetch([sha(self.sdist), sha(generic), sha(specific)], build_from_source=True))
        self.assertEqual(self.fetched(), ["BUILD.bazel", "pyimagehook-1.0.tar.gz"])

    def test_a_free_threaded_target_takes_its_own_abi_and_never_abi3(self):
        files = {tag: wheel_bytes(tag) for tag in [
            "cp314-cp314-manylinux_2_17_x86_64", "cp314-cp314t-manylinux_2_17_x86_64",
            "cp312-abi3-manylinux_2_17_x86_64", "py3-none-any"]}
        for tag, data in files.items():
            self.index.add("pyimagehook-1.0-%s.whl" % tag, data)
        self.index.add("pyimagehook-1.0.tar.gz", self.sdist)
        locked = [sha(d) for d in files.values()] + [sha(self.sdist)]
        self.assertIsNone(self.fetch(locked, python_version="3.14t"))
        self.assertEqual(self.fetched(), ["BUILD.bazel", "pyimagehook-1.0-cp314-cp314t-manylinux_2_17_x86_64.whl"])
        with open(os.path.join(self.out, "pyimagehook", "BUILD.bazel")) as f:
            self.assertIn('python_version = "3.14t"', f.read())
        # The GIL build of the same minor takes its own wheel.
        shutil.rmtree(self.out)
        self.assertIsNone(self.fetch(locked, python_version="3.14"))
        self.assertEqual(self.fetched(), ["BUILD.bazel", "pyimagehook-1.0-cp314-cp314-manylinux_2_17_x86_64.whl"])
        # Without its own wheel, a free-threaded target takes the sdist, not the abi3 wheel.
        shutil.rmtree(self.out)
        del self.index.files["pyimagehook-1.0-cp314-cp314t-manylinux_2_17_x86_64.whl"]
        del self.index.files["pyimagehook-1.0-py3-none-any.whl"]
        self.assertIsNone(self.fetch(locked, python_version="3.14t"))
        self.assertEqual(self.fetched(), ["BUILD.bazel", "pyimagehook-1.0.tar.gz"])
        self.assertIn("is not a Python 3 minor version", self.fetch(locked, python_version="3.14x"))

    def test_an_index_without_hashes_still_gets_the_locked_file(self):
        # No sha256 fragments: each fitting file is downloaded and hashed, the locked one kept.
        self.index.add("pyimagehook-1.0.tar.gz", self.sdist, listed=None)
        self.index.add("pyimagehook-1.0-py3-none-any.whl", wheel_bytes("py3-none-any"), listed=None)
        self.assertIsNone(self.fetch([sha(self.sdist)]))
        self.assertEqual(self.fetched(), ["BUILD.bazel", "pyimagehook-1.0.tar.gz"])

    def test_a_page_that_states_the_locked_hash_for_other_bytes(self):
        # A tampered mirror: its page copies the lock's hash, the file it serves is another.
        tampered = sdist_bytes("/elsewhere")
        self.index.add("pyimagehook-1.0.tar.gz", tampered, listed=sha(self.sdist))
        message = self.fetch([sha(self.sdist)])
        self.assertIn("the downloaded pyimagehook-1.0.tar.gz has sha256 %s" % sha(tampered), message)
        self.assertEqual(self.fetched(), [])

    def test_no_sdist_to_build_from_source(self):
        wheel = wheel_bytes("py3-none-any")
        self.index.add("pyimagehook-1.0-py3-none-any.whl", wheel)
        message = self.fetch([sha(wheel)], build_from_source=True)
        self.assertIn("pyimagehook==1.0 is to be built from source, but the index has no sdist of it", message)

    def test_a_file_name_that_climbs_out(self):
        # The link's path is /files/../../pyimagehook-1.0.tar.gz once unquoted: its base name is kept.
        self.index.add("..%2F..%2Fpyimagehook-1.0.tar.gz", self.sdist)
        self.assertIsNone(self.fetch([sha(self.sdist)]))
        self.assertEqual(self.fetched(), ["BUILD.bazel", "pyimagehook-1.0.tar.gz"])
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(self.dir), "pyimagehook-1.0.tar.gz")))



HASH = "a" * 64


class LockParserTest(unittest.TestCase):
    """The lock is read as strictly as pip --require-hashes reads it; each lax line is an error
    naming it, and what pip-compile writes reads as before."""

    def refused(self, text, message):
        with self.assertRaises(fetch_wheels.FetchError) as caught:
            pypi_lock.parse_lock(text)
        self.assertIn(message, str(caught.exception))

    def test_what_pip_compile_writes(self):
        text = ("# header\nattrs==25.1.0 \\\n    --hash=sha256:%s \\\n    --hash=sha256:%s\n    # via\n"
                "    #   -r requirements.in\n    #   other\nsix==1.0 ; python_version >= \"3.8\" --hash=sha256:%s\n"
                "    # via attrs\n" % (HASH, "b" * 64, "c" * 64))
        packages = pypi_lock.parse_lock(text)
        self.assertEqual(["a" * 64, "b" * 64], packages["attrs"]["hashes"])
        self.assertEqual(["-r requirements.in", "other"], packages["attrs"]["via"])
        self.assertEqual(["c" * 64], packages["six"]["hashes"])
        self.assertEqual(["attrs"], packages["six"]["via"])

    def test_a_hash_in_a_comment_does_not_count(self):
        self.refused("attrs==25.1.0 \\\n    # --hash=sha256:%s\n" % HASH, "attrs==25.1.0 has no --hash in the lock")
        self.refused("attrs==25.1.0  # --hash=sha256:%s\n" % HASH, "attrs==25.1.0 has no --hash in the lock")

    def test_a_package_pinned_twice_is_refused(self):
        self.refused("attrs==1.0 --hash=sha256:%s\nAttrs==2.0 --hash=sha256:%s\n" % (HASH, HASH),
                     "line 2 of the lock pins Attrs==2.0, but attrs==1.0 is pinned already")

    def test_editable_include_and_index_lines_are_refused(self):
        for line, message in [("-e ./pkg", "an editable requirement cannot be pinned by a hash"),
                              ("-r other.txt", "a lock includes no other file"),
                              ("--extra-index-url https://mirror.invalid/simple",
                               "the index comes from this machine's pip configuration, never from the lock"),
                              ("--hash=sha256:%s" % HASH, "an option outside a requirement")]:
            with self.subTest(line=line):
                self.refused("%s\nattrs==1.0 --hash=sha256:%s\n" % (line, HASH), "line 1 of the lock, %r: " % line)
                self.refused("%s\nattrs==1.0 --hash=sha256:%s\n" % (line, HASH), message)

    def test_another_option_after_a_pin_is_refused(self):
        self.refused("attrs==1.0 --hash=sha512:%s\n" % HASH, "attrs==1.0 has the option '--hash=sha512:")


if __name__ == "__main__":
    unittest.main(verbosity=2)
