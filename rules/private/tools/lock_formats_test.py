"""The uv.lock and PEP 751 pylock.toml readers (pypi_lock.read_lock) and a fetch of each from an
index of its own on 127.0.0.1, configured only through PIP_* variables.

The locks are written here as uv and pip write them, with URLs under a host that does not exist:
the fetch never uses a lock's URLs, only the names, versions and hashes.
"""

import io
import os
import re
import shutil
import tarfile
import tempfile
import unittest
import zipfile

from rules.private.tools import fetch_wheels, pypi_lock
from rules.private.tools.fetch_wheels_test import Index, sha

CMD = "bazel run //x:lock.update"
ENV = pypi_lock.marker_environment("3.13", "x86_64")
NOWHERE = "https://index.invalid"


def wheel(name, requires=(), extras=()):
    """A py3-none-any wheel of NAME 1.0 whose METADATA requires `requires`."""
    meta = "Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n" % name
    meta += "".join("Provides-Extra: %s\n" % e for e in extras)
    meta += "".join("Requires-Dist: %s\n" % r for r in requires)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("%s.py" % name, "")
        z.writestr("%s-1.0.dist-info/METADATA" % name, meta)
        z.writestr("%s-1.0.dist-info/WHEEL" % name, "Wheel-Version: 1.0\nTag: py3-none-any\n")
    return out.getvalue()


def sdist(name, metadata_version="2.1", requires=()):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        meta = ("Metadata-Version: %s\nName: %s\nVersion: 1.0\n" % (metadata_version, name) +
                "".join("Requires-Dist: %s\n" % r for r in requires)).encode()
        info = tarfile.TarInfo("%s-1.0/PKG-INFO" % name)
        info.size = len(meta)
        tar.addfile(info, io.BytesIO(meta))
    return out.getvalue()


def uv_entry(name, files, deps=(), optional=None, source=None, version="1.0"):
    """A [[package]] of a uv.lock: files {filename: bytes}; deps as uv writes them."""
    lines = ['[[package]]', 'name = "%s"' % name, 'version = "%s"' % version,
             'source = %s' % (source or '{ registry = "%s/simple" }' % NOWHERE)]
    if deps:
        lines.append("dependencies = [\n%s]" % "".join("    %s,\n" % d for d in deps))
    wheels = [(f, d) for f, d in files.items() if f.endswith(".whl")]
    for f, d in files.items():
        if f.endswith(".tar.gz"):
            lines.append('sdist = { url = "%s/files/%s", hash = "sha256:%s", size = %d }' % (NOWHERE, f, sha(d), len(d)))
    if wheels:
        lines.append("wheels = [\n%s]" % "".join('    { url = "%s/files/%s", hash = "sha256:%s", size = %d },\n' % (
            NOWHERE, f, sha(d), len(d)) for f, d in wheels))
    text = "\n".join(lines) + "\n"
    if optional:
        text += "\n[package.optional-dependencies]\n" + "".join(
            "%s = [\n%s]\n" % (extra, "".join("    %s,\n" % d for d in ds)) for extra, ds in optional.items())
    return text + "\n"


def pylock_entry(name, files, marker=None, deps=None):
    lines = ['[[packages]]', 'name = "%s"' % name, 'version = "1.0"']
    if marker:
        lines.append('marker = "%s"' % marker)
    if deps is not None:
        lines.append("dependencies = [%s]" % ", ".join('{ name = "%s" }' % d for d in deps))
    for f, d in files.items():
        if f.endswith(".tar.gz"):
            lines.append('sdist = { name = "%s", url = "%s/files/%s", hashes = { sha256 = "%s" } }' % (f, NOWHERE, f, sha(d)))
    wheels = [(f, d) for f, d in files.items() if f.endswith(".whl")]
    if wheels:
        lines.append("wheels = [%s]" % ", ".join('{ name = "%s", url = "%s/files/%s", hashes = { sha256 = "%s" } }' % (
            f, NOWHERE, f, sha(d)) for f, d in wheels))
    return "\n".join(lines) + "\n\n"


PYLOCK_HEAD = 'lock-version = "1.0"\ncreated-by = "uv"\nrequires-python = ">=3.13"\n\n'
UV_HEAD = 'version = 1\nrevision = 3\nrequires-python = ">=3.13"\n\n'

ALPHA = {"alpha-1.0-py3-none-any.whl": wheel("alpha", ["beta", 'gamma; extra == "fast"', 'winonly; sys_platform == "win32"'], ["fast"])}
BETA = {"beta-1.0-py3-none-any.whl": wheel("beta"), "beta-1.0.tar.gz": sdist("beta")}
GAMMA = {"gamma-1.0-py3-none-any.whl": wheel("gamma")}
WINONLY = {"winonly-1.0-py3-none-any.whl": wheel("winonly")}


def project_uv_lock(alpha_extra=True, extra_entries=""):
    root = uv_entry("svc", {}, source='{ virtual = "." }', deps=[
        '{ name = "alpha"%s }' % (', extra = ["fast"]' if alpha_extra else ""),
        '{ name = "winonly", marker = "sys_platform == \'win32\'" }'], version="0.1.0")
    root += '[package.dev-dependencies]\ndev = [\n    { name = "devtool" },\n]\n\n'
    return (UV_HEAD + root +
            uv_entry("alpha", ALPHA, deps=['{ name = "beta" }', '{ name = "winonly", marker = "sys_platform == \'win32\'" }'],
                     optional={"fast": ['{ name = "gamma" }']}) +
            uv_entry("beta", BETA) + uv_entry("gamma", GAMMA) + uv_entry("winonly", WINONLY) +
            uv_entry("devtool", {"devtool-1.0-py3-none-any.whl": wheel("devtool")}) + extra_entries)


class UvLockTest(unittest.TestCase):
    def read(self, text):
        return pypi_lock.read_lock("app/uv.lock", text, "3.13", "x86_64")

    def test_projects_dependencies_for_the_target(self):
        packages, deps = self.read(project_uv_lock())
        # winonly's marker is false on Linux, devtool is a dev group's, svc is the project itself.
        self.assertEqual(sorted(packages), ["alpha", "beta", "gamma"])
        self.assertEqual(deps, {"alpha": ["beta", "gamma"], "beta": [], "gamma": []})
        self.assertEqual(packages["beta"]["hashes"], sorted(sha(d) for d in BETA.values()))

    def test_an_extra_not_asked_for_is_left_out(self):
        packages, deps = self.read(project_uv_lock(alpha_extra=False))
        self.assertEqual(sorted(packages), ["alpha", "beta"])
        self.assertEqual(deps["alpha"], ["beta"])

    def test_a_fork_takes_the_version_for_this_python(self):
        root = uv_entry("svc", {}, source='{ virtual = "." }', version="0.1.0", deps=[
            '{ name = "numpyish", version = "1.0", source = { registry = "%s/simple" }, marker = "python_full_version < \'3.12\'" }' % NOWHERE,
            '{ name = "numpyish", version = "2.0", source = { registry = "%s/simple" }, marker = "python_full_version >= \'3.12\'" }' % NOWHERE])
        text = UV_HEAD + root + uv_entry("numpyish", GAMMA, version="1.0") + uv_entry("numpyish", BETA, version="2.0")
        packages, _ = self.read(text)
        self.assertEqual(packages["numpyish"]["version"], "2.0")
        self.assertEqual(pypi_lock.read_lock("uv.lock", text, "3.11", "x86_64")[0]["numpyish"]["version"], "1.0")

    def test_a_git_source_is_refused(self):
        text = project_uv_lock().replace('name = "beta"\nversion = "1.0"\nsource = { registry = "%s/simple" }' % NOWHERE,
                                         'name = "beta"\nversion = "1.0"\nsource = { git = "https://example.invalid/beta.git" }')
        with self.assertRaisesRegex(pypi_lock.FetchError, "beta 1.0 comes from a git source"):
            self.read(text)

    def test_a_damaged_hash_is_refused(self):
        text = project_uv_lock().replace("sha256:" + sha(GAMMA["gamma-1.0-py3-none-any.whl"]), "sha256:1234")
        with self.assertRaisesRegex(pypi_lock.FetchError, "gamma==1.0 has the sha256 '1234'"):
            self.read(text)

    def test_a_file_without_a_project_is_refused(self):
        with self.assertRaisesRegex(pypi_lock.FetchError, "holds no project"):
            self.read(UV_HEAD + uv_entry("beta", BETA))


class PylockTest(unittest.TestCase):
    def read(self, text, name="pylock.toml"):
        return pypi_lock.read_lock(name, text, "3.13", "x86_64")

    def test_markers_and_no_dependency_lists(self):
        text = PYLOCK_HEAD + pylock_entry("alpha", ALPHA) + pylock_entry("beta", BETA) + \
            pylock_entry("winonly", WINONLY, marker="sys_platform == 'win32'")
        packages, deps = self.read(text, "pylock.svc.toml")
        self.assertEqual(sorted(packages), ["alpha", "beta"])
        self.assertIsNone(deps)  # the fetch reads them from the files

    def test_dependency_lists_are_used(self):
        text = PYLOCK_HEAD + pylock_entry("alpha", ALPHA, deps=["beta"]) + pylock_entry("beta", BETA, deps=[])
        self.assertEqual(self.read(text)[1], {"alpha": ["beta"], "beta": []})

    def test_another_environment_is_refused(self):
        text = 'lock-version = "1.0"\nenvironments = ["sys_platform == \'darwin\'"]\n\n' + pylock_entry("beta", BETA)
        with self.assertRaisesRegex(pypi_lock.FetchError, "none of them"):
            self.read(text)

    def test_a_vcs_package_and_a_second_version_are_refused(self):
        with self.assertRaisesRegex(pypi_lock.FetchError, "comes from a vcs"):
            self.read(PYLOCK_HEAD + '[[packages]]\nname = "x"\nvcs = { type = "git", url = "%s/x.git" }\n' % NOWHERE)
        with self.assertRaisesRegex(pypi_lock.FetchError, "beta is locked twice"):
            self.read(PYLOCK_HEAD + pylock_entry("beta", BETA) + pylock_entry("beta", BETA))

    def test_another_lock_version_is_refused(self):
        with self.assertRaisesRegex(pypi_lock.FetchError, "lock-version '2.0'"):
            self.read('lock-version = "2.0"\n')


class FetchTest(unittest.TestCase):
    """fetch_wheels.main on each format: files chosen by the lock's hashes, deps in the BUILD files."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.index = Index()
        for files in (ALPHA, BETA, GAMMA, WINONLY):
            self.add(files)
        self.env = dict(os.environ)
        for var in list(os.environ):
            if var.startswith("PIP_"):
                del os.environ[var]
        os.environ.update(PIP_CONFIG_FILE=os.devnull, PIP_INDEX_URL=self.index.url, PIP_NO_CACHE_DIR="1")

    def tearDown(self):
        self.index.close()
        os.environ.clear()
        os.environ.update(self.env)
        shutil.rmtree(self.dir, ignore_errors=True)

    def add(self, files):
        for name, data in files.items():
            self.index.add(name, data)

    def fetch(self, name, text):
        lock = os.path.join(self.dir, name)
        with open(lock, "w") as f:
            f.write(text)
        self.out = os.path.join(self.dir, "repo")
        shutil.rmtree(self.out, ignore_errors=True)
        try:
            fetch_wheels.main(["--lock", lock, "--out", self.out, "--python-version", "3.13", "--platform",
                               "manylinux_2_17_x86_64", "--update-command", CMD, "--rules-repo", "rules_pyimage"])
        except SystemExit as err:
            return str(err.code)
        return None

    def deps(self, package):
        with open(os.path.join(self.out, package, "BUILD.bazel")) as f:
            return re.search(r"deps = (\[.*?\])", f.read()).group(1)

    def test_uv_lock(self):
        self.assertIsNone(self.fetch("uv.lock", project_uv_lock()))
        self.assertEqual(sorted(os.listdir(self.out)), ["alpha", "beta", "gamma"])
        self.assertEqual(self.deps("alpha"), "['//beta', '//gamma']")
        self.assertEqual(sorted(os.listdir(os.path.join(self.out, "beta"))), ["BUILD.bazel", "beta-1.0-py3-none-any.whl"])

    def test_pylock_without_dependencies_reads_the_metadata(self):
        text = PYLOCK_HEAD + pylock_entry("alpha", ALPHA) + pylock_entry("beta", BETA) + pylock_entry("gamma", GAMMA)
        self.assertIsNone(self.fetch("pylock.toml", text))
        # beta from Requires-Dist; gamma from the extra `fast` (the lock holds it, so some
        # requirer took it); winonly's marker is false here and the lock does not hold it.
        self.assertEqual(self.deps("alpha"), "['//beta', '//gamma']")

    def test_a_tampered_file_is_refused(self):
        self.add({"beta-1.0-py3-none-any.whl": wheel("beta", ["evil"]), "beta-1.0.tar.gz": sdist("beta", requires=["evil"])})
        for name, text in [("uv.lock", project_uv_lock()), ("pylock.toml", PYLOCK_HEAD + pylock_entry("beta", BETA))]:
            error = self.fetch(name, text)
            self.assertIsNotNone(error, name)
            self.assertIn("beta==1.0: the downloaded", error)
            self.assertIn("which the lock does not list; the file is refused", error)
            self.assertIn(CMD, error)

    def test_an_sdist_that_does_not_state_its_dependencies(self):
        only_sdist = {"delta-1.0.tar.gz": sdist("delta", metadata_version="2.1", requires=["beta"])}
        self.add(only_sdist)
        error = self.fetch("pylock.toml", PYLOCK_HEAD + pylock_entry("delta", only_sdist) + pylock_entry("beta", BETA))
        self.assertIn("delta 1.0: the lock lists no dependencies and delta-1.0.tar.gz does not state its own", error)
        newer = {"delta-1.0.tar.gz": sdist("delta", metadata_version="2.2", requires=["beta"])}
        self.add(newer)
        self.assertIsNone(self.fetch("pylock.toml", PYLOCK_HEAD + pylock_entry("delta", newer) + pylock_entry("beta", BETA)))
        self.assertEqual(self.deps("delta"), "['//beta']")


if __name__ == "__main__":
    unittest.main()
