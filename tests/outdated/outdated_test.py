"""`pyimage_outdated` (rules/private/tools/outdated.py) against the real mirrors, on copies of
this repository's locks: one pinned behind (libssl3, a bookworm-security package, and attrs),
and locks resolved afresh in the test, which must report nothing pending.
(Needs the Debian mirror and the package index: requires-network.)

Usage: outdated_test.py RUNTIME_TXT RUNTIME_LOCK REQUIREMENTS_IN APP_LOCK SBOM
"""

import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import unittest

from rules.private.tools import apt_lock, outdated, wheel_lock

RUNTIME_TXT, RUNTIME_LOCK, REQUIREMENTS_IN, APP_LOCK, SBOM = sys.argv[1:6]
del sys.argv[1:6]
DEB_UPDATE = "bazel run //third_party/debian:runtime.update"
PIP_UPDATE = "bazel run //app:requirements.update"


class OutdatedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        tmp = os.environ.get("TEST_TMPDIR", tempfile.gettempdir())
        os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")  # pip-tools' cache, writable here
        os.environ["PIP_CACHE_DIR"] = os.path.join(tmp, "cache", "pip")
        os.environ["PYTHONPATH"] = os.pathsep.join(sys.path)  # pip for pip-compile's subprocesses

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        shutil.copy(RUNTIME_TXT, os.path.join(self.dir, "runtime.txt"))
        shutil.copy(REQUIREMENTS_IN, os.path.join(self.dir, "requirements.in"))
        shutil.copy(SBOM, os.path.join(self.dir, "image.spdx.json"))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def report(self, versions, *flags):
        manifest = {
            "locks": [
                {"kind": "debian", "role": "image", "label": "//third_party/debian:runtime",
                 "lock": "runtime.lock.json", "lock_label": "//third_party/debian:runtime.lock.json",
                 "source": "runtime.txt", "source_label": "//third_party/debian:runtime.txt",
                 "update": DEB_UPDATE, "release": "bookworm", "architecture": "amd64"},
                {"kind": "wheel", "role": "image", "label": "//app:requirements",
                 "lock": "requirements.lock.txt", "lock_label": "//app:requirements.lock.txt",
                 "source": "requirements.in", "source_label": "//app:requirements.in",
                 "update": PIP_UPDATE, "release": "", "architecture": ""},
            ],
            "images": [{"label": "//app:image", "sbom": "image.spdx.json"}],
            "python_versions": versions,
        }
        path = os.path.join(self.dir, "manifest.json")
        with open(path, "w") as f:
            json.dump(manifest, f)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            rc = outdated.main(["--manifest", path, "--root", self.dir] + list(flags))
        return rc, out.getvalue()

    def test_locks_pinned_behind(self):
        with open(RUNTIME_LOCK) as f:
            lock = json.load(f)
        for p in lock["packages"]:
            if p["name"] == "libssl3":
                p["version"] = "3.0.11-1~deb12u1"
        with open(os.path.join(self.dir, "runtime.lock.json"), "w") as f:
            json.dump(lock, f)
        with open(APP_LOCK) as f:
            text = f.read()
        text, n = re.subn(r"^attrs==\S+", "attrs==25.3.0", text, flags=re.M)
        self.assertEqual(n, 1)
        with open(os.path.join(self.dir, "requirements.lock.txt"), "w") as f:
            f.write(text)
        rc, report = self.report(["3.13.5"])
        print(report)
        self.assertEqual(rc, 1, "a pending security update must make the report fail")
        self.assertRegex(report, r"libssl3 3\.0\.11-1~deb12u1 -> \S+ \[security\]  \(bookworm-security, "
                                 r"lock //third_party/debian:runtime\)  images: //app:image  take it: " + re.escape(DEB_UPDATE))
        self.assertLess(report.index("Debian packages (security updates first):"), report.index("Python packages:"))
        self.assertRegex(report, r"attrs 25\.3\.0 -> \S+ within requirements\.in \(lock //app:requirements\)  "
                                 r"images: //app:image  take it: " + re.escape(PIP_UPDATE + " -- --upgrade-package attrs"))
        self.assertRegex(report, r"CPython 3\.13\.5 -> 3\.13\.\d+  images: no image of this report holds it  take it: "
                                 r"bazel run @rules_pyimage//toolchains:versions\.update -- 3\.13\.\d+, then name it in python_versions")
        self.assertRegex(report, r"1 security update pending")

    def test_current_locks_have_nothing_pending(self):
        names, excluded = apt_lock.read_list(RUNTIME_TXT)
        apt_lock.write_json_atomic(os.path.join(self.dir, "runtime.lock.json"),
                                      apt_lock.resolve_lock(names, excluded, "bookworm", "amd64"))
        wheel_lock.main(["update", "--requirements", os.path.join(self.dir, "requirements.in"),
                         "--lock", os.path.join(self.dir, "requirements.lock.txt"), "--update-command", PIP_UPDATE])
        rc, report = self.report(["3.14.7"], "--no-cpython")
        print(report)
        self.assertEqual(rc, 0)
        self.assertIn("nothing is pending: 2 locks (//third_party/debian:runtime, //app:requirements) are current", report)


if __name__ == "__main__":
    unittest.main(verbosity=2)
