"""Unpacks a wheel into a directory (a Bazel tree artifact) that goes on sys.path.

Usage: unpack_wheel.py WHEEL DIR
"""

import os
import sys
import zipfile


def main(argv):
    wheel, out = argv
    os.makedirs(out, exist_ok=True)
    try:
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                if name.startswith("/") or ".." in name.split("/"):
                    sys.exit("ERROR: %s: unsafe path %r in the wheel" % (wheel, name))
            z.extractall(out)
    except zipfile.BadZipFile as err:
        sys.exit("ERROR: %s is not a wheel: %s" % (wheel, err))


if __name__ == "__main__":
    main(sys.argv[1:])
