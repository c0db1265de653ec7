"""What py_image leaves out of its layers, on the real base and the real interpreter layer.

- pyc: one level keeps exactly one .pyc per stdlib module; the sourceless interpreter, unpacked,
  imports the stdlib from .pyc alone (and has no source to show).
- trim_stdlib: pydoc_data and _pydecimal go (not _pydecimal without _decimal); the interpreter
  still computes decimals and answers help().
- base: what is left out is what nothing links to (libstdc++, gconv, krb5 with its plugin, the
  leap-second zones), what stays still satisfies the build-time library check; base_keep and a
  wheel that needs a library bring it back.
"""

import os
import re
import struct
import subprocess
import sys
import tarfile
import tempfile
import unittest

from rules.private.tools import check_libs, dtar, elf, slim_layer

BASE = PYTHON = None
MULTIARCH = "x86_64-linux-gnu"
LIBDIR = "usr/lib/" + MULTIARCH


def tmpdir():
    return tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))


def names(entries):
    return {info.name for info, _ in entries}


def unpacked_python(entries):
    """The interpreter of an interpreter layer's entries, written as a tar and unpacked."""
    root = tmpdir()
    layer = os.path.join(root, "python.tar")
    dtar.write_entries(layer, entries)
    with tarfile.open(layer) as tar:
        tar.extractall(root, **({"filter": "tar"} if hasattr(tarfile, "tar_filter") else {}))
    return os.path.join(root, "opt/pyimage/python/bin/python3")


class PycTest(unittest.TestCase):
    def test_one_level(self):
        entries = slim_layer.read(PYTHON)
        for level, suffix in [(0, ".cpython-314.pyc"), (1, ".opt-1.pyc"), (2, ".opt-2.pyc")]:
            kept, moved = slim_layer.slim_pyc(slim_layer.read(PYTHON), level, False)
            pycs = [n for n in names(kept) if n.endswith(".pyc")]
            sources = [n for n in names(kept) if n.endswith(".py") and "/lib/python3.14/" in n]
            self.assertEqual(moved, 0)
            self.assertTrue(pycs and all(n.endswith(suffix) for n in pycs), (level, pycs[:3]))
            # every stdlib module that had a .pyc of this level still has it, and its source
            self.assertEqual(len(pycs), len([n for n in names(entries) if n.endswith(suffix)]))
            self.assertGreater(len(pycs), 500)
            self.assertGreater(len(sources), 500)
        self.assertEqual(len(entries) - len(kept), 2 * len(pycs))

    def test_sourceless_interpreter_imports_without_sources(self):
        kept, moved = slim_layer.slim_pyc(slim_layer.read(PYTHON), 2, True)
        self.assertGreater(moved, 500)
        self.assertFalse([n for n in names(kept) if "__pycache__" in n])
        stdlib = [n for n in names(kept) if "/lib/python3.14/" in n and "/site-packages" not in n]
        self.assertFalse([n for n in stdlib if n.endswith(".py")], "a .py with a .pyc was left")
        python = unpacked_python(kept)
        self.assertIn("opt/pyimage/python/lib/python3.14/_sysconfigdata__linux_x86_64-linux-gnu.pyc", names(kept))
        probe = ("import email.mime.text, inspect, json, logging, sqlite3, ssl, sys, sysconfig, pydoc\n"
                 "sysconfig.get_paths()\n"
                 "print(json.__file__.rsplit('/', 2)[-2:], sys.flags.optimize, json.dumps.__doc__)\n"
                 "try:\n    inspect.getsource(json.dumps)\nexcept OSError as e:\n    print('no source:', e)\n")
        out = subprocess.run([python, "-I", "-OO", "-c", probe], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("['json', '__init__.pyc'] 2 None", out.stdout)
        self.assertIn("no source:", out.stdout)


class TrimStdlibTest(unittest.TestCase):
    def test_pydoc_data_and_pydecimal_go_and_the_interpreter_does_without(self):
        entries, _ = slim_layer.slim_pyc(slim_layer.read(PYTHON), 0, False)
        kept, gone = slim_layer.trim_stdlib(entries)
        stdlib = "opt/pyimage/python/lib/python3.14/"
        self.assertIn(stdlib + "pydoc_data/topics.py", gone)
        self.assertIn(stdlib + "_pydecimal.py", gone)
        self.assertIn(stdlib + "__pycache__/_pydecimal.cpython-314.pyc", gone)
        self.assertFalse([n for n in gone if not re.search(r"/pydoc_data(/|$)|_pydecimal", n)], gone)
        self.assertIn(stdlib + "decimal.py", names(kept))
        self.assertIn(stdlib + "pydoc.py", names(kept))
        python = unpacked_python(kept)
        probe = ("import decimal, pydoc, io, sys\n"
                 "print(decimal.Decimal(1) / decimal.Decimal(7), '_decimal' in sys.modules, '_pydecimal' in sys.modules)\n"
                 "out = io.StringIO()\n"
                 "helper = pydoc.Helper(output=out)\n"
                 "helper.help('if')\n"
                 "helper.help(len)\n"
                 "print(out.getvalue())\n")
        out = subprocess.run([python, "-I", "-c", probe], capture_output=True, text=True, env={"TERM": "dumb"})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("0.1428571428571428571428571429 True False", out.stdout)
        self.assertIn('module "pydoc_data.topics" could not be found', out.stdout)
        self.assertIn("Return the number of items in a container.", out.stdout)

    def test_pydecimal_stays_where_there_is_no_decimal_extension(self):
        entries = [(i, d) for i, d in slim_layer.read(PYTHON) if "/_decimal." not in i.name]
        kept, gone = slim_layer.trim_stdlib(entries)
        self.assertIn("opt/pyimage/python/lib/python3.14/_pydecimal.py", names(kept))
        self.assertTrue(gone and all("/pydoc_data" in n for n in gone))
        # the sourceless spelling of a module goes too
        sourceless, _ = slim_layer.slim_pyc(slim_layer.read(PYTHON), 0, True)
        _, gone = slim_layer.trim_stdlib(sourceless)
        self.assertIn("opt/pyimage/python/lib/python3.14/_pydecimal.pyc", gone)


class BaseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = slim_layer.read(BASE)
        cls.python = slim_layer.read(PYTHON)

    def check(self, kept):
        """check_libs on the slimmed base and the interpreter layer: the stamp it writes."""
        root = tmpdir()
        base = os.path.join(root, "base.tar")
        dtar.write_entries(base, kept)
        stamp = os.path.join(root, "stamp")
        check_libs.main(["--stamp", stamp, "--multiarch", MULTIARCH, "--base", base, PYTHON])
        with open(stamp) as f:
            return f.read()

    def test_left_out_is_unneeded_and_the_rest_suffices(self):
        kept, removed = slim_layer.slim_base(self.base, [("python.tar", self.python)], [], MULTIARCH)
        gone = names(removed)
        self.assertIn(LIBDIR + "/libstdc++.so.6", gone)
        self.assertIn(LIBDIR + "/gconv", gone)
        self.assertTrue(any(n.startswith(LIBDIR + "/gconv/") for n in gone))
        for must in ["lib/x86_64-linux-gnu/libc.so.6", "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
                     "lib/x86_64-linux-gnu/libgcc_s.so.1", LIBDIR + "/libssl.so.3", LIBDIR + "/libsqlite3.so.0",
                     "etc/passwd", "etc/ssl/certs/ca-certificates.crt", "usr/share/zoneinfo/UTC"]:
            self.assertIn(must, names(kept))
        # only libraries, plugins, gconv modules and the leap-second zones go, and the whole of a
        # package whose libraries all went (its status, md5sums and the files they list); no
        # directory that still holds something
        status = "var/lib/dpkg/status.d/"
        whole = set()
        for info, data in self.base:
            if info.name.startswith(status) and info.name.endswith(".md5sums") and info.name in gone:
                whole |= {info.name, info.name[:-len(".md5sums")]}
                whole |= {line.split(None, 1)[1].lstrip("/") for line in data.decode().splitlines()}
        self.assertIn(status + "libstdc++6", whole)
        for n in gone:
            self.assertTrue(n.startswith((LIBDIR + "/gconv", "usr/share/zoneinfo/right")) or re.search(r"\.so(\.[0-9.]+)?$", n) or n in whole
                            or any(w.startswith(n + "/") for w in whole), n)
        self.assertRegex(self.check(kept), r"^\d+ ELF files, every needed library found")
        # every kept symlink that ended at a file in the base still does
        before = {i.name: i for i, _ in self.base}
        after = {i.name: i for i, _ in kept}
        for info, _ in kept:
            if info.issym() and slim_layer._chain(before, info):
                self.assertTrue(slim_layer._chain(after, info), "dangling: " + info.name)

    def test_packages_left_out_whole_and_md5sums_that_hold(self):
        # A package whose libraries all went goes whole (status, md5sums, documentation), so
        # neither the SBOM nor a scanner lists it; the md5sums of the packages that stay list
        # only files the base still holds.
        kept, removed = slim_layer.slim_base(self.base, [("python.tar", self.python)], [], MULTIARCH)
        status = "var/lib/dpkg/status.d/"
        before = {n[len(status):] for n in names(self.base) if n.startswith(status) and not n.endswith(".md5sums")}
        after = {n[len(status):] for n in names(kept) if n.startswith(status) and not n.endswith(".md5sums")}
        gone = before - after
        self.assertIn("libstdc++6", gone)
        self.assertLessEqual(gone, {"libstdc++6", "libcrypt1", "libnsl2", "libtirpc3", "libgssapi-krb5-2",
                                    "libkrb5-3", "libk5crypto3", "libkrb5support0", "libcom-err2", "libkeyutils1"})
        self.assertIn("libc6", after)  # it lost its gconv modules, not its libraries
        held = names(kept)
        for name in gone:
            self.assertNotIn("usr/share/doc/%s/copyright" % name, held)
            self.assertIn(status + name, names(removed))
        for info, data in kept:
            if info.name.startswith(status) and info.name.endswith(".md5sums"):
                for line in data.decode().splitlines():
                    self.assertIn(line.split(None, 1)[1].lstrip("/"), held, info.name)
                self.assertEqual(info.size, len(data), info.name)
        libc6 = dict((i.name, d) for i, d in kept)[status + "libc6.md5sums"].decode()
        self.assertNotIn("/gconv/", libc6)
        self.assertIn("libc.so.6", libc6)
        # base_keep of a package's library keeps the whole package.
        kept, _ = slim_layer.slim_base(self.base, [("python.tar", self.python)], ["/" + LIBDIR + "/libstdc++.so.6*"], MULTIARCH)
        self.assertIn(status + "libstdc++6", names(kept))

    def test_base_keep_brings_back_gconv_and_libstdcxx(self):
        kept, _ = slim_layer.slim_base(self.base, [("python.tar", self.python)], [LIBDIR + "/gconv/*", "/" + LIBDIR + "/libstdc++.so.6*"], MULTIARCH)
        kept = names(kept)
        self.assertIn(LIBDIR + "/gconv/UTF-16.so", kept)
        self.assertIn(LIBDIR + "/gconv", kept)
        self.assertIn(LIBDIR + "/libstdc++.so.6.0.30", kept)
        self.assertIn(LIBDIR + "/libstdc++.so.6", kept)

    def test_plugins_follow_their_package(self):
        # krb5's preauth plugin goes with libkrb5 (nothing in the interpreter links Kerberos),
        # and with it the whole family; OpenSSL's modules and engines stay with libcrypto.
        kept, removed = slim_layer.slim_base(self.base, [("python.tar", self.python)], [], MULTIARCH)
        status = "var/lib/dpkg/status.d/"
        self.assertIn(LIBDIR + "/krb5/plugins/preauth/spake.so", names(removed))
        for package in ["libkrb5-3", "libgssapi-krb5-2", "libk5crypto3", "libkrb5support0"]:
            self.assertIn(status + package, names(removed))
        self.assertIn(LIBDIR + "/ossl-modules/legacy.so", names(kept))
        self.assertTrue([n for n in names(kept) if n.startswith(LIBDIR + "/engines-3/")])
        self.assertIn(LIBDIR + "/libcrypto.so.3", names(kept))
        self.assertRegex(self.check(kept), r"^\d+ ELF files, every needed library found")
        # base_keep of the plugin keeps it with what it needs, and so its packages
        kept, _ = slim_layer.slim_base(self.base, [("python.tar", self.python)], [LIBDIR + "/krb5/plugins/*"], MULTIARCH)
        self.assertIn(LIBDIR + "/krb5/plugins/preauth/spake.so", names(kept))
        self.assertIn(LIBDIR + "/libkrb5.so.3", names(kept))
        self.assertIn(status + "libkrb5-3", names(kept))
        self.assertRegex(self.check(kept), r"^\d+ ELF files, every needed library found")
        # a layer that links libkrb5 keeps its plugin too
        ext = [(i, d) for i, d in self.python if i.name.endswith("/_sqlite3.cpython-314-x86_64-linux-gnu.so")][0]
        data = ext[1].replace(b"libsqlite3.so.0\0", b"libkrb5.so.3\0\0\0\0")
        info = tarfile.TarInfo("opt/pyimage/venv/lib/python3.14/site-packages/gss.so")
        info.size = len(data)
        kept, _ = slim_layer.slim_base(self.base, [("venv.tar", [(info, data)])], [], MULTIARCH)
        self.assertIn(LIBDIR + "/krb5/plugins/preauth/spake.so", names(kept))

    def test_leap_second_zones_go_and_tzdata_stays(self):
        kept, removed = slim_layer.slim_base(self.base, [("python.tar", self.python)], [], MULTIARCH)
        self.assertIn("usr/share/zoneinfo/right/Europe/Berlin", names(removed))
        self.assertIn("usr/share/zoneinfo/right", names(removed))
        for must in ["usr/share/zoneinfo/Europe/Berlin", "usr/share/zoneinfo/UTC", "var/lib/dpkg/status.d/tzdata",
                     "usr/share/doc/tzdata/copyright"]:
            self.assertIn(must, names(kept))
        md5sums = dict((i.name, d) for i, d in kept)["var/lib/dpkg/status.d/tzdata.md5sums"].decode()
        self.assertIn("  usr/share/zoneinfo/Europe/Berlin\n", md5sums)
        self.assertNotIn("usr/share/zoneinfo/right/", md5sums)
        kept, _ = slim_layer.slim_base(self.base, [("python.tar", self.python)], ["usr/share/zoneinfo/right*"], MULTIARCH)
        self.assertIn("usr/share/zoneinfo/right/Europe/Berlin", names(kept))

    def test_a_wheel_that_links_libstdcxx_keeps_it(self):
        # A real extension whose DT_NEEDED entry is rewritten to name libstdc++ instead of sqlite.
        ext = [(i, d) for i, d in self.python if i.name.endswith("/_sqlite3.cpython-314-x86_64-linux-gnu.so")][0]
        data = ext[1].replace(b"libsqlite3.so.0\0", b"libstdc++.so.6\0\0")
        self.assertIn("libstdc++.so.6", check_libs.needed(data))
        info = tarfile.TarInfo("opt/pyimage/venv/lib/python3.14/site-packages/cxx.so")
        info.size = len(data)
        kept, _ = slim_layer.slim_base(self.base, [("venv.tar", [(info, data)])], [], MULTIARCH)
        kept = names(kept)
        self.assertIn(LIBDIR + "/libstdc++.so.6.0.30", kept)
        self.assertNotIn(LIBDIR + "/libsqlite3.so.0", kept)  # nothing else needs it now


class MalformedElfTest(unittest.TestCase):
    """A file that starts like ELF and whose headers point outside it is refused, naming the file
    and its layer, by the ELF reader, check_libs and slim_layer base; every real ELF file of the
    base and the interpreter still reads."""

    @classmethod
    def setUpClass(cls):
        cls.base = slim_layer.read(BASE)
        cls.python = slim_layer.read(PYTHON)
        cls.ext = [d for i, d in cls.python if i.name.endswith("/_sqlite3.cpython-314-x86_64-linux-gnu.so")][0]

    def damaged(self):
        ext = bytearray(self.ext)
        phoff, = struct.unpack_from("<Q", ext, 0x20)
        yield "its ELF header is cut short", bytes(ext[:40])
        yield "program headers", bytes(ext[:phoff + 20])
        bad = bytearray(ext)
        struct.pack_into("<Q", bad, 0x20, len(ext) + 4096)
        yield "program headers", bytes(bad)
        bad = bytearray(ext)
        struct.pack_into("<H", bad, 0x38, 0xFFFF)  # phnum
        yield "program headers", bytes(bad)
        bad = bytearray(ext.replace(b"libsqlite3.so.0\0", b"libsqlite3.so.\xff\0"))
        yield "is not text", bytes(bad)

    def test_every_real_elf_file_reads(self):
        count = 0
        for entries in (self.base, self.python):
            for info, data in entries:
                if info.isreg() and data[:4] == b"\x7fELF":
                    elf.needed(data, info.name)
                    count += 1
        self.assertGreater(count, 100)

    def test_the_reader_names_the_file(self):
        self.assertIn("libsqlite3.so.0", elf.needed(self.ext))
        for want, data in self.damaged():
            with self.assertRaises(elf.ElfError, msg=want) as caught:
                elf.needed(data, "/x/cut.so (in venv.tar)")
            self.assertIn("/x/cut.so (in venv.tar) is not a well-formed ELF file", str(caught.exception))
            self.assertIn(want, str(caught.exception))

    def test_the_tools_refuse_it(self):
        root = tmpdir()
        for number, (want, data) in enumerate(self.damaged()):
            layer = os.path.join(root, "venv%d.tar" % number)
            info = tarfile.TarInfo("opt/pyimage/venv/lib/python3.14/site-packages/cut.so")
            info.size = len(data)
            dtar.write_entries(layer, [(info, data)])
            for tool, args in [
                ("check_libs", ["check_libs.py", "--stamp", os.path.join(root, "stamp"), "--multiarch",
                                MULTIARCH, "--base", BASE, layer]),
                ("slim_layer", ["slim_layer.py", "base", "--output", os.path.join(root, "out.tar"),
                                "--removed", os.path.join(root, "removed.txt"), "--multiarch", MULTIARCH,
                                BASE, layer]),
            ]:
                script = os.path.join(os.path.dirname(slim_layer.__file__), args[0])
                r = subprocess.run([sys.executable, script] + args[1:], capture_output=True, text=True,
                                   env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
                self.assertNotEqual(r.returncode, 0, (tool, want))
                self.assertIn("/opt/pyimage/venv/lib/python3.14/site-packages/cut.so (in %s) is not a "
                              "well-formed ELF file" % layer, r.stderr, (tool, want))
                self.assertIn(want, r.stderr, tool)
                self.assertNotIn("Traceback", r.stderr, tool)
                self.assertFalse(os.path.exists(os.path.join(root, "stamp")), tool)


if __name__ == "__main__":
    BASE, PYTHON = sys.argv.pop(1), sys.argv.pop(1)
    unittest.main(verbosity=2)
