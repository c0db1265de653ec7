"""Builds the image's virtual environment layer: wheels installed into /opt/<org>/venv.

Runs on the image's own interpreter (so every .pyc has its magic number), with `installer` from
the rules' tools lock on sys.path. No pip, no setuptools, nothing from the network.

In:  the venv path and the interpreter's path in the image, the wheels (files, or directories
     holding one), a fixed mtime.
Out: one deterministic tar whose entries sit under the venv path: pyvenv.cfg, bin/python3 links to
     the interpreter, the packages in lib/pythonX.Y/site-packages, every module byte-compiled with
     checked-hash invalidation at the --optimize level and its image path recorded (no build
     path). With --part, one part of that tree: `own` is the venv's own files and no package,
     `packages` the given wheels' files and nothing else (a per-package layer, or a group of
     them: its bytes depend only on those wheels, the interpreter, the venv path and
     --optimize, never on the image's other wheels).

The wheels go into an empty tree first; the venv's own files (bin/python, bin/python3,
bin/pythonX.Y, lib64, pyvenv.cfg) are made after them. A wheel that installs a file of one of those
names (a script or console entry point named `python3`, say) is refused, naming it: it would
replace the venv's interpreter, and a link made before it would have had the install write
through it to the interpreter's path on the build host.

Usage: make_venv.py --venv /opt/ORG/venv --python /opt/ORG/python/bin/python3 --mtime N
                    --output F.tar [--optimize 0|1|2] [--part all|own|packages] [--wheel PATH ...]
"""

import argparse
import compileall
import os
import py_compile
import shutil
import sys
import tempfile

from installer import install
from installer.destinations import SchemeDictionaryDestination
from installer.sources import WheelFile

from rules.private.tools import dtar
from rules.private.tools.wheels import wheels_of


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", required=True)
    parser.add_argument("--python", required=True)
    parser.add_argument("--mtime", type=int, required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--wheel", action="append", default=[])
    parser.add_argument("--optimize", type=int, choices=[0, 1, 2], default=0,
                        help="the optimisation level the image runs at (-O: 1, -OO: 2)")
    parser.add_argument("--part", choices=["all", "own", "packages"], default="all",
                        help="the whole venv (default), only its own files, or only the wheels' files")
    args = parser.parse_args(argv)

    # python3.14, or python3.14t on a free-threaded interpreter (its site-packages is there).
    minor = "python%d.%d%s" % (*sys.version_info[:2], sys.abiflags)
    work = tempfile.mkdtemp(prefix="pyimage-venv.")
    try:
        root = os.path.join(work, "root")
        venv = os.path.join(root, args.venv.lstrip("/"))
        site = os.path.join(venv, "lib", minor, "site-packages")
        os.makedirs(site)
        os.makedirs(os.path.join(venv, "bin"))
        links = {os.path.join("bin", name): args.python for name in ["python", "python3", minor]}
        links["lib64"] = "lib"
        own = sorted(links) + ["pyvenv.cfg"]

        scheme = {
            "purelib": site,
            "platlib": site,
            "headers": os.path.join(venv, "include", "site", minor),
            "scripts": os.path.join(venv, "bin"),
            "data": venv,
        }
        destination = SchemeDictionaryDestination(
            scheme, interpreter=os.path.join(args.venv, "bin", "python3"), script_kind="posix")
        wheels = sorted(w for spec in args.wheel for w in wheels_of(spec))
        if args.part == "own" and wheels:
            parser.error("--part own installs no wheel")
        if args.part == "packages" and not wheels:
            parser.error("--part packages needs a wheel")
        for wheel in wheels:
            with WheelFile.open(wheel) as source:
                install(source=source, destination=destination,
                        additional_metadata={"INSTALLER": b"rules_pyimage\n"})
            taken = [name for name in own if os.path.lexists(os.path.join(venv, name))]
            if taken:
                sys.exit("ERROR: %s installs %s, which the venv needs for itself (its interpreter and "
                         "configuration); the wheel is refused. Rename the script or entry point in "
                         "the package, or leave the package out of the image." % (
                             os.path.basename(wheel), ", ".join("%s/%s" % (args.venv, n) for n in taken)))
        # The venv's own files, once nothing can be installed through them.
        if args.part != "packages":
            for name, target in sorted(links.items()):
                os.symlink(target, os.path.join(venv, name))
            with open(os.path.join(venv, "pyvenv.cfg"), "w") as f:
                f.write("home = %s\ninclude-system-site-packages = false\nversion = %d.%d.%d\n" % (
                    os.path.dirname(args.python), *sys.version_info[:3]))

        # Byte-compile as the image will see the files (checked-hash: no mtime in any .pyc), at
        # the one level the entrypoint runs.
        ok = compileall.compile_dir(
            site, quiet=1, stripdir=root, prependdir="/", workers=1, optimize=args.optimize,
            invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        if not ok:
            sys.exit("ERROR: a module in the venv does not compile (see above)")
        dtar.write_tar(root, args.output, args.mtime)
        print("venv (%s): %d wheel%s into %s" % (args.part, len(wheels), "" if len(wheels) == 1 else "s", args.venv))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
