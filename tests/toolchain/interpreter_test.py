"""Tests one compiled interpreter: its build copy runs and has what it should, and its runtime tar
holds the trimmed, deterministic runtime that an image gets.

Arguments: --interpreter PATH --runtime-tar PATH --version X.Y.Z --prefix /opt/ORG/python
           --check-script PATH --optimized true|false
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import unittest

ARGS = None
SOURCE_DATE_EPOCH = 315532800
# The names in the trim list of rules/private/cpython.bzl, written out again on purpose: this
# test states what must be absent, independently of the code that removes it.
TRIMMED_DIRS = ["test", "idlelib", "tkinter", "turtledemo", "ensurepip"]
BUILD_PATH_MARKERS = [b"/tmp/pyimage-cpython", b"/execroot/", b"bazel-out/", b"/sandbox/"]


def minor():
    return ".".join(ARGS.version.split(".")[:2])


class BuildCopyTest(unittest.TestCase):
    def run_py(self, *argv):
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
        return subprocess.run([ARGS.interpreter] + list(argv), env=env, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True).stdout

    def test_version_and_prefix(self):
        # The prefix it was configured for (3.14's sysconfig reports the running copy's own location
        # as "prefix"; configure's arguments keep the one it was built for).
        out = self.run_py("-c", "import sys, sysconfig; print(sys.version); print(sysconfig.get_config_var('CONFIG_ARGS'))")
        version, config_args = out.splitlines()[0], out.splitlines()[-1]
        self.assertTrue(version.startswith(ARGS.version + " "), version)
        # __DATE__ comes from SOURCE_DATE_EPOCH: the interpreter does not record when it was built.
        self.assertIn("Jan  1 1980", version)
        self.assertIn("'--prefix=%s'" % ARGS.prefix, config_args)

    def test_stdlib_modules(self):
        out = self.run_py(ARGS.check_script)
        self.assertNotIn("FAILED", out)

    def lib_dir(self):
        real = os.path.realpath(ARGS.interpreter)
        return os.path.join(os.path.dirname(os.path.dirname(real)), "lib")

    def test_pgo_and_lto(self):
        """Built with PGO and LTO exactly when the toolchain says so, and trained by pgo_task.py."""
        out = self.run_py("-c", "import sysconfig; print(sysconfig.get_config_var('CONFIG_ARGS')); "
                          "print(sysconfig.get_config_var('PY_LDFLAGS_NODIST'))")
        config_args, ldflags = out.splitlines()[0], out.splitlines()[1]
        self.assertEqual("'--enable-optimizations'" in config_args, ARGS.optimized, config_args)
        self.assertEqual("'--with-lto'" in config_args, ARGS.optimized, config_args)
        self.assertEqual(any(f.startswith("-flto") for f in ldflags.split()), ARGS.optimized, ldflags)
        records = glob.glob(os.path.join(self.lib_dir(), "python" + minor(), "config-*", "pgo-profile.txt"))
        if not ARGS.optimized:
            self.assertEqual(records, [])
            return
        self.assertEqual(len(records), 1, records)
        with open(records[0]) as f:
            record = f.read()
        # The training run finished (its digest line) and left counters for the core's files.
        m = re.fullmatch(r"training: pgo_task\.py \(pgo_task: [0-9a-f]{64}\)\n"
                         r"profile sha256: [0-9a-f]{64} \((\d+) \.gcda files, counters only\)\n", record)
        self.assertIsNotNone(m, record)
        self.assertGreater(int(m.group(1)), 100, record)

    def test_hardening_flags(self):
        """Compiled with the rules' hardening flags (rules/private/common.bzl): what the ELF file
        does not show (stack clash protection, fortify level 3) is in the interpreter's own record
        of its compile, which extensions built for it also get."""
        out = self.run_py("-c", "import sysconfig; print(sysconfig.get_config_var('CONFIGURE_CFLAGS')); "
                          "print(sysconfig.get_config_var('CONFIGURE_CPPFLAGS')); "
                          "print(sysconfig.get_config_var('CONFIGURE_LDFLAGS'))")
        cflags, cppflags, ldflags = (line.split() for line in out.splitlines()[:3])
        for flag in ["-fstack-protector-strong", "-fstack-clash-protection", "-fcf-protection",
                     "-Wformat", "-Werror=format-security"]:
            self.assertIn(flag, cflags)
        self.assertIn("-D_FORTIFY_SOURCE=3", cppflags)
        self.assertNotIn("-D_FORTIFY_SOURCE=2", cppflags)
        for flag in ["-Wl,-z,relro", "-Wl,-z,now"]:
            self.assertIn(flag, ldflags)

    def test_trimmed_files_absent(self):
        stdlib = os.path.join(self.lib_dir(), "python" + minor())
        self.assertTrue(os.path.exists(os.path.join(stdlib, "os.py")), stdlib)
        for name in TRIMMED_DIRS:
            self.assertFalse(os.path.exists(os.path.join(stdlib, name)), name)
        for dirpath, _, filenames in os.walk(self.lib_dir()):
            for f in filenames:
                self.assertFalse(f.endswith(".a"), os.path.join(dirpath, f))
                self.assertFalse(f.startswith("_test"), os.path.join(dirpath, f))
        # The build copy keeps what building an extension needs.
        include = os.path.join(os.path.dirname(self.lib_dir()), "include", "python" + minor(), "Python.h")
        self.assertTrue(os.path.exists(include), include)

    def test_no_build_path_in_any_file(self):
        # Scans the files as installed (sysconfig.get_config_vars() would also show values that
        # Python computes at run time from where it runs, such as srcdir).
        # (bin/ also holds Bazel's runfiles manifest of the interpreter, which is not ours.)
        top = os.path.dirname(self.lib_dir())
        files = [os.path.realpath(ARGS.interpreter)]
        for sub in ["lib", "include"]:
            for dirpath, _, filenames in os.walk(os.path.join(top, sub)):
                files += [os.path.join(dirpath, f) for f in filenames]
        leaks = []
        for path in files:
            with open(path, "rb") as fh:
                data = fh.read()
            if any(marker in data for marker in BUILD_PATH_MARKERS):
                leaks.append(os.path.relpath(path, top))
        self.assertEqual(leaks, [])


class RuntimeTarTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with tarfile.open(ARGS.runtime_tar) as tar:
            cls.members = tar.getmembers()
            cls.by_name = {m.name: m for m in cls.members}
            cls.leaks = []
            for m in cls.members:
                if m.isreg():
                    data = tar.extractfile(m).read()
                    if any(marker in data for marker in BUILD_PATH_MARKERS):
                        cls.leaks.append(m.name)
        cls.root = ARGS.prefix.lstrip("/")

    def test_entries_under_prefix_sorted_owned_by_root(self):
        names = [m.name for m in self.members]
        self.assertEqual(names, sorted(names))
        parents = set()
        path = self.root
        while path:
            parents.add(path)
            path = os.path.dirname(path)
        for m in self.members:
            self.assertTrue(m.name in parents or m.name.startswith(self.root + "/"), m.name)
            self.assertEqual((m.uid, m.gid, m.uname, m.gname), (0, 0, "", ""), m.name)
            self.assertEqual(m.mtime, SOURCE_DATE_EPOCH, m.name)
            self.assertFalse(m.mode & 0o6000, "setuid/setgid: " + m.name)

    def test_trimmed(self):
        stdlib = "%s/lib/python%s/" % (self.root, minor())
        for m in self.members:
            rel = m.name[len(self.root) + 1:]
            self.assertFalse(rel.startswith("include"), m.name)
            self.assertNotIn("/config-", m.name)
            self.assertFalse(m.name.endswith(".a"), m.name)
            self.assertFalse(m.name.endswith(".h"), m.name)
            for d in TRIMMED_DIRS:
                self.assertFalse(m.name.startswith(stdlib + d + "/") or m.name == stdlib + d, m.name)
        self.assertIn("%s/bin/python%s" % (self.root, minor()), self.by_name)
        self.assertIn(stdlib + "os.py", self.by_name)

    def test_no_build_path_in_any_file(self):
        self.assertEqual(self.leaks, [])

    def test_pyc_are_checked_hash(self):
        pycs = [m for m in self.members if m.name.endswith(".pyc")]
        self.assertGreater(len(pycs), 1000)
        with tarfile.open(ARGS.runtime_tar) as tar:
            for m in pycs[:: max(1, len(pycs) // 50)]:
                header = tar.extractfile(m).read(16)
                flags = int.from_bytes(header[4:8], "little")
                self.assertEqual(flags, 0b11, "%s is not a checked-hash .pyc" % m.name)

    def test_elf_files_stripped(self):
        with tarfile.open(ARGS.runtime_tar) as tar:
            for m in self.members:
                if m.name.endswith(".so") or m.name.endswith("/bin/python" + minor()):
                    data = tar.extractfile(m).read()
                    self.assertNotIn(b".debug_info", data, m.name)

    def test_runtime_copy_runs_on_its_own(self):
        with tempfile.TemporaryDirectory() as tmp:
            with tarfile.open(ARGS.runtime_tar) as tar:
                tar.extractall(tmp)  # our own tar, checked above
            py = os.path.join(tmp, self.root, "bin", "python3")
            out = subprocess.run([py, "-I", ARGS.check_script], check=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, env={"PATH": "/usr/bin:/bin"}).stdout
            self.assertNotIn("FAILED", out)
            self.assertIn("python " + ARGS.version, out)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    for flag in ["--interpreter", "--runtime-tar", "--version", "--prefix", "--check-script"]:
        parser.add_argument(flag, required=True)
    parser.add_argument("--optimized", choices=["true", "false"], required=True,
                        help="whether the toolchain builds this version with PGO and LTO")
    ARGS, rest = parser.parse_known_args()
    ARGS.optimized = ARGS.optimized == "true"
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
