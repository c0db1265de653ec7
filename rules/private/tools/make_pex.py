"""Builds one reproducible .pex from first-party sources and locked wheels, with pex from the
rules' tools lock, on this (the from-source) interpreter. Nothing is downloaded.

In:  the entry module, the first-party .py files (each with its import path), the wheels (files,
     or directories holding one, as wheel_from_sdist makes).
Out: the .pex, written through a temporary name.

Usage: make_pex.py --output F.pex --entry-point MODULE --shebang S [--source PATH=IMPORT_PATH ...]
                   [--wheel PATH ...]
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from rules.private.tools.wheels import wheels_of


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--entry-point", required=True)
    parser.add_argument("--shebang", required=True)
    parser.add_argument("--source", action="append", default=[])
    parser.add_argument("--wheel", action="append", default=[])
    args = parser.parse_args(argv)

    work = tempfile.mkdtemp(prefix="pyimage-pex.")
    try:
        src = os.path.join(work, "src")
        for spec in args.source:
            path, rel = spec.split("=", 1)
            dest = os.path.join(src, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(path, dest)
        os.makedirs(src, exist_ok=True)
        wheels = sorted(w for spec in args.wheel for w in wheels_of(spec))
        tmp = args.output + ".tmp"
        # Pre-resolved wheels: pex adds them as they are and checks they form a closure, with no
        # resolver (and so no pip, no venv, no index) involved.
        cmd = [sys.executable, "-m", "pex", "--no-pypi", "--python", sys.executable,
               "--python-shebang", args.shebang, "-D", src, "-e", args.entry_point, "-o", tmp]
        requirements = []
        for wheel in wheels:
            name, version = os.path.basename(wheel).split("-")[:2]
            cmd += ["--pre-resolved-dist", wheel]
            requirements.append("%s==%s" % (name, version))
        cmd += requirements
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), SOURCE_DATE_EPOCH="315532800",
                   TMPDIR=work, PEX_ROOT=os.path.join(work, "pex_root"))
        result = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if result.returncode != 0:
            print(result.stdout[-4000:], file=sys.stderr)
            sys.exit("ERROR: pex could not build %s (see above)" % args.output)
        os.replace(tmp, args.output)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
