"""Builds the image's application layer: first-party sources under /opt/<org>/app.

Runs on the image's own interpreter, so the .pyc it writes have that version's magic number.

In:  the app directory in the image, the sources (each PATH=IMPORT_PATH), a fixed mtime.
Out: one deterministic tar: the sources at APP/IMPORT_PATH, each byte-compiled with checked-hash
     invalidation at the --optimize level and its image path recorded.

Usage: make_app.py --app /opt/ORG/app --mtime N --output F.tar [--optimize 0|1|2]
                   [--source PATH=REL ...]
"""

import argparse
import os
import py_compile
import shutil
import sys
import tempfile

from rules.private.tools import dtar


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", required=True)
    parser.add_argument("--mtime", type=int, required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--source", action="append", default=[])
    parser.add_argument("--optimize", type=int, choices=[0, 1, 2], default=0,
                        help="the optimisation level the image runs at (-O: 1, -OO: 2)")
    args = parser.parse_args(argv)
    work = tempfile.mkdtemp(prefix="pyimage-app.")
    try:
        root = os.path.join(work, "root")
        app = os.path.join(root, args.app.lstrip("/"))
        os.makedirs(app)
        for spec in sorted(args.source):
            path, rel = spec.split("=", 1)
            dest = os.path.join(app, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copyfile(path, dest)
            if dest.endswith(".py"):
                try:
                    py_compile.compile(dest, dfile=os.path.join(args.app, rel), doraise=True,
                                       optimize=args.optimize, invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
                except py_compile.PyCompileError as err:
                    sys.exit("ERROR: %s does not compile: %s" % (rel, err.msg))
        dtar.write_tar(root, args.output, args.mtime)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
