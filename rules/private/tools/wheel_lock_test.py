"""wheel_lock.py against a local index it makes itself (a PEP 503 page per package with the
files' sha256, as PyPI and mirrors serve them, as pip's index-url), offline; every case with
each resolver, uv and pip-tools.

The resolution must read wheels only: an sdist whose build backend leaves a mark on the host is
refused, naming the package and `resolve_from_sdist`, and its code never runs; listed in
--sdist, it is resolved from its sdist (so the list is the one gate). requirements.in lines that
would change where packages come from or how they are built are refused before pip runs.
"""

import base64
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.path.join(HERE, "wheel_lock.py")

BACKEND = '''
import os
MARK = %r
NAME = %r
VERSION = %r


def _mark(hook):
    with open(MARK, "a") as f:
        f.write(hook + "\\n")


def get_requires_for_build_wheel(config_settings=None):
    _mark("get_requires_for_build_wheel")
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _mark("prepare_metadata_for_build_wheel")
    info = NAME + "-" + VERSION + ".dist-info"
    os.makedirs(os.path.join(metadata_directory, info))
    with open(os.path.join(metadata_directory, info, "METADATA"), "w") as f:
        f.write("Metadata-Version: 2.1\\nName: " + NAME + "\\nVersion: " + VERSION + "\\n")
    return info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    _mark("build_wheel")
    raise RuntimeError("not needed to resolve")
'''


def make_wheel(directory, name, version):
    """A pure-Python wheel holding one module, with METADATA, WHEEL and RECORD."""
    info = "%s-%s.dist-info" % (name, version)
    files = {
        name + ".py": b"VALUE = 1\n",
        info + "/METADATA": ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)).encode(),
        info + "/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    files[info + "/RECORD"] = ("\n".join(record + [info + "/RECORD,,"]) + "\n").encode()
    path = os.path.join(directory, "%s-%s-py3-none-any.whl" % (name, version))
    with zipfile.ZipFile(path, "w") as z:
        for name_, data in files.items():
            z.writestr(name_, data)
    return path


def make_sdist(directory, name, mark, version="1.0"):
    """NAME VERSION as an sdist whose in-tree build backend appends to `mark` on each hook."""
    files = {
        "pyproject.toml": b'[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
        "backend.py": (BACKEND % (mark, name, version)).encode(),
        "PKG-INFO": ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n" % (name, version)).encode(),
    }
    path = os.path.join(directory, "%s-%s.tar.gz" % (name, version))
    with tarfile.open(path, "w:gz") as t:
        for member, data in files.items():
            info = tarfile.TarInfo("%s-%s/%s" % (name, version, member))
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def write_simple_index(files, simple):
    """PEP 503 pages under `simple` for the distributions in `files`, each link with its sha256."""
    by_project = {}
    for name in sorted(os.listdir(files)):
        project = name.split("-")[0].replace("_", "-").lower()
        by_project.setdefault(project, []).append(name)
    shutil.rmtree(simple, ignore_errors=True)
    for project, names in by_project.items():
        os.makedirs(os.path.join(simple, project))
        links = []
        for name in names:
            with open(os.path.join(files, name), "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            links.append('<a href="%s#sha256=%s">%s</a>' % (
                "file://" + os.path.join(files, name), digest, name))
        with open(os.path.join(simple, project, "index.html"), "w") as f:
            f.write("<!DOCTYPE html><html><body>\n%s\n</body></html>\n" % "\n".join(links))


class WheelLockTest(unittest.TestCase):
    RESOLVER = "uv"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="wheel_lock_test.")
        self.index = os.path.join(self.tmp, "index")
        os.makedirs(self.index)
        self.mark = os.path.join(self.tmp, "backend-ran")
        make_wheel(self.index, "goodpkg", "1.0")
        make_sdist(self.index, "evilpkg", self.mark)  # an sdist only
        make_wheel(self.index, "bothpkg", "1.0")  # a wheel and an sdist of one version
        make_sdist(self.index, "bothpkg", self.mark)
        self.work = os.path.join(self.tmp, "work")
        os.makedirs(self.work)
        self.requirements = os.path.join(self.work, "requirements.in")
        self.lock = os.path.join(self.work, "requirements.lock.txt")

    def tearDown(self):
        subprocess.run(["rm", "-rf", self.tmp], check=False)

    def run_tool(self, requirements, *args, env=None, lock_text=None, compile_args=(), mode="update",
                 requirements_file=None, lock_file=None):
        requirements_file = requirements_file or self.requirements
        lock_file = lock_file or self.lock
        with open(requirements_file, "w") as f:
            f.write(requirements)
        if lock_text is not None:
            with open(lock_file, "w") as f:
                f.write(lock_text)
        simple = os.path.join(self.tmp, "simple")
        write_simple_index(self.index, simple)
        environ = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.tmp,
            "XDG_CACHE_HOME": os.path.join(self.tmp, "cache"),
            "PYTHONPATH": os.pathsep.join(sys.path),
            # Offline: no configuration of this machine, only the local index.
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": "file://" + simple,
            # uv reads none of its own configuration: this must not reach it.
            "UV_INDEX_URL": "http://127.0.0.1:9/simple",
        }
        environ.update(env or {})
        cache = ["--cache-dir", os.path.join(self.tmp, "cache", self.RESOLVER)]
        cmd = [sys.executable, TOOL, mode, "--requirements", requirements_file, "--lock", lock_file,
               "--update-command", "bazel run //x:requirements.update", "--resolver", self.RESOLVER] + list(args) + [
               "--"] + cache + list(compile_args)
        return subprocess.run(cmd, env=environ, cwd=self.work, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)

    def test_a_wheel_resolves(self):
        r = self.run_tool("goodpkg\n")
        self.assertEqual(r.returncode, 0, r.stdout)
        with open(self.lock) as f:
            lock = f.read()
        self.assertIn("goodpkg==1.0", lock)
        self.assertIn("--hash=sha256:", lock)
        self.assertNotIn("binary", lock)  # the format options are not written into the lock
        self.assertNotIn(self.index, lock)

    def test_every_file_is_pinned_and_no_sdist_runs(self):
        r = self.run_tool("bothpkg\n")
        self.assertEqual(r.returncode, 0, r.stdout)
        with open(self.lock) as f:
            lock = f.read()
        self.assertIn("bothpkg==1.0", lock)
        want = []
        for name in ("bothpkg-1.0-py3-none-any.whl", "bothpkg-1.0.tar.gz"):
            with open(os.path.join(self.index, name), "rb") as f:
                want.append(hashlib.sha256(f.read()).hexdigest())
        for digest in want:
            self.assertIn("--hash=sha256:" + digest, lock)
        self.assertFalse(os.path.exists(self.mark), "the sdist's build backend ran on the host")

    def test_upgrade_goes_to_the_first_pass_only(self):
        # bothpkg 2.0 is an sdist only: pass 1 (wheels only) keeps 1.0 even with --upgrade, and
        # pass 2, which may read sdists, prefers wheels and does not get --upgrade: it would
        # otherwise build 2.0's metadata (and then fail: pass 2 must keep pass 1's pins).
        make_sdist(self.index, "bothpkg", self.mark, version="2.0")
        for upgrade in (["--upgrade"], ["--upgrade-package", "bothpkg"], ["-P", "bothpkg"]):
            r = self.run_tool("bothpkg\n", lock_text="bothpkg==1.0\n", compile_args=upgrade)
            self.assertEqual(r.returncode, 0, r.stdout)
            with open(self.lock) as f:
                self.assertIn("bothpkg==1.0", f.read())
            self.assertFalse(os.path.exists(self.mark), "%s: an sdist's build backend ran" % upgrade)

    def test_a_hash_edited_by_hand_is_replaced_and_runs_no_sdist(self):
        # With the wheel's hash wrong and the sdist's right, pip would rank the sdist first (its
        # hash is allowed) and build it: the old lock's hashes must not reach pip.
        self.assertEqual(self.run_tool("bothpkg\n").returncode, 0)
        with open(self.lock) as f:
            good = f.read()
        with open(os.path.join(self.index, "bothpkg-1.0-py3-none-any.whl"), "rb") as f:
            wheel = hashlib.sha256(f.read()).hexdigest()
        bad = good.replace(wheel, "0" * 64)
        self.assertNotEqual(bad, good)
        r = self.run_tool("bothpkg\n", lock_text=bad)
        self.assertEqual(r.returncode, 0, r.stdout)
        with open(self.lock) as f:
            self.assertEqual(f.read(), good)
        self.assertFalse(os.path.exists(self.mark), "the sdist's build backend ran on the host")

    def test_an_sdist_is_not_run(self):
        before = "# the old lock\n"
        r = self.run_tool("goodpkg\nevilpkg\n", lock_text=before)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("the requirement evilpkg cannot be found on the index as a wheel", r.stdout)
        self.assertIn("resolve_from_sdist", r.stdout)
        self.assertFalse(os.path.exists(self.mark), "the sdist's build backend ran on the host")
        with open(self.lock) as f:
            self.assertEqual(f.read(), before, "the old lock was changed")
        self.assertEqual(sorted(os.listdir(self.work)), ["requirements.in", "requirements.lock.txt"])

    def test_format_options_from_the_environment_do_not_undo_it(self):
        r = self.run_tool("evilpkg\n", env={"PIP_NO_BINARY": ":all:", "PIP_PREFER_BINARY": "0"})
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertFalse(os.path.exists(self.mark), "the sdist's build backend ran on the host")

    def test_resolve_from_sdist_is_the_gate(self):
        r = self.run_tool("goodpkg\nevilpkg\n", "--sdist", "evilpkg")
        self.assertEqual(r.returncode, 0, r.stdout)
        with open(self.lock) as f:
            lock = f.read()
        self.assertIn("evilpkg==1.0", lock)
        self.assertIn("goodpkg==1.0", lock)
        with open(self.mark) as f:
            self.assertIn("prepare_metadata_for_build_wheel", f.read())

    def test_a_bad_sdist_name(self):
        r = self.run_tool("goodpkg\n", "--sdist", "evil pkg")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("resolve_from_sdist: 'evil pkg' is not a package name", r.stdout)

    def test_requirement_lines_that_are_refused(self):
        for line, want in [
            ("-e ./local", "-r and -c lines only"),
            ("--index-url https://example.invalid/simple", "-r and -c lines only"),
            ("--no-binary :all:", "-r and -c lines only"),
            ("-f ./wheels", "-r and -c lines only"),
            ("goodpkg @ https://example.invalid/goodpkg-1.0.tar.gz", "direct reference"),
            ("./local", "direct reference"),
            ("local/dir", "direct reference"),
        ]:
            r = self.run_tool("goodpkg\n%s  # a comment\n" % line)
            self.assertNotEqual(r.returncode, 0, line)
            self.assertIn("requirements.in:2: %r" % (line + "  # a comment"), r.stdout)
            self.assertIn(want, r.stdout)
            self.assertFalse(os.path.exists(self.lock), line)

    def test_included_files_are_checked(self):
        with open(os.path.join(self.work, "constraints.txt"), "w") as f:
            f.write("goodpkg==1.0\n--extra-index-url https://example.invalid/simple\n")
        r = self.run_tool("-c constraints.txt\ngoodpkg\n")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("constraints.txt:2:", r.stdout)
        with open(os.path.join(self.work, "constraints.txt"), "w") as f:
            f.write("goodpkg==1.0  # fine\n")
        r = self.run_tool("-c constraints.txt\ngoodpkg  # with a marker below\nevilpkg; python_version < '3'\n")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertFalse(os.path.exists(self.mark), "the sdist's build backend ran on the host")


    def test_a_stale_requirements_lock_fails_its_check(self):
        self.assertEqual(self.run_tool("goodpkg\n").returncode, 0)
        with open(self.lock) as f:
            text = f.read()
        r = self.run_tool("goodpkg\n", mode="check")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("requirements.lock.txt is up to date (1 pins)", r.stdout)
        r = self.run_tool("goodpkg\nbothpkg\n", mode="check")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("+bothpkg==1.0", r.stdout)  # the diff
        self.assertIn("does not match", r.stdout)
        self.assertIn("Run: bazel run //x:requirements.update", r.stdout)
        with open(self.lock) as f:
            self.assertEqual(f.read(), text, "check changed the lock")

    def test_a_local_location_that_is_not_there_is_passed_over(self):
        # As pip does (a pip.conf shared by machines where only some have the directory).
        r = self.run_tool("goodpkg\n", env={"PIP_FIND_LINKS": os.path.join(self.tmp, "no-such-dir"),
                                            "PIP_EXTRA_INDEX_URL": "file://" + os.path.join(self.tmp, "no-such-index")})
        self.assertEqual(r.returncode, 0, r.stdout)
        with open(self.lock) as f:
            self.assertIn("goodpkg==1.0", f.read())

    def test_pylock_toml(self):
        if self.RESOLVER != "uv":
            self.skipTest("only uv writes pylock.toml")
        lock = os.path.join(self.work, "pylock.toml")
        r = self.run_tool("goodpkg\nbothpkg\n", lock_file=lock)
        self.assertEqual(r.returncode, 0, r.stdout)
        with open(lock) as f:
            text = f.read()
        self.assertIn('lock-version = "1.0"', text)
        for name in ("goodpkg-1.0-py3-none-any.whl", "bothpkg-1.0-py3-none-any.whl", "bothpkg-1.0.tar.gz"):
            with open(os.path.join(self.index, name), "rb") as f:
                self.assertIn('sha256 = "%s"' % hashlib.sha256(f.read()).hexdigest(), text)
        r = self.run_tool("goodpkg\nbothpkg\n", lock_file=lock, mode="check")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("pylock.toml is up to date (2 pins)", r.stdout)
        r = self.run_tool("goodpkg\n", lock_file=lock, mode="check")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("does not match", r.stdout)
        self.assertIn("Run: bazel run //x:requirements.update", r.stdout)
        with open(lock) as f:
            self.assertEqual(f.read(), text, "check changed the lock")
        self.assertFalse(os.path.exists(self.mark), "an sdist's build backend ran on the host")

    def test_uv_lock(self):
        if self.RESOLVER != "uv":
            self.skipTest("only uv writes uv.lock")
        pyproject = os.path.join(self.work, "pyproject.toml")
        lock = os.path.join(self.work, "uv.lock")
        project = '[project]\nname = "svc"\nversion = "0.1.0"\nrequires-python = ">=3.11"\ndependencies = [%s]\n'
        r = self.run_tool(project % '"goodpkg"', requirements_file=pyproject, lock_file=lock)
        self.assertEqual(r.returncode, 0, r.stdout)
        with open(lock) as f:
            text = f.read()
        self.assertIn('name = "goodpkg"', text)
        r = self.run_tool(project % '"goodpkg"', requirements_file=pyproject, lock_file=lock, mode="check")
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("uv.lock is up to date with", r.stdout)
        r = self.run_tool(project % '"goodpkg", "bothpkg"', requirements_file=pyproject, lock_file=lock, mode="check")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("uv.lock does not match", r.stdout)
        self.assertIn("Run: bazel run //x:requirements.update", r.stdout)
        # An sdist only: refused, the old lock untouched, nothing left beside it, no hook run.
        r = self.run_tool(project % '"goodpkg", "evilpkg"', requirements_file=pyproject, lock_file=lock)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("the requirement evilpkg cannot be found on the index as a wheel", r.stdout)
        with open(lock) as f:
            self.assertEqual(f.read(), text, "the old lock was changed")
        self.assertEqual(sorted(os.listdir(self.work)), ["pyproject.toml", "uv.lock"])
        self.assertFalse(os.path.exists(self.mark), "an sdist's build backend ran on the host")


class PipToolsTest(WheelLockTest):
    RESOLVER = "pip-tools"


if __name__ == "__main__":
    unittest.main()
