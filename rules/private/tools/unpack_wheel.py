"""Unpacks a wheel into a directory (a Bazel tree artifact) that goes on sys.path.

Usage: unpack_wheel.py WHEEL DIR   (WHEEL: a .whl, or a directory holding one)
"""

import os
import sys
import zipfile


def main(argv):
    wheel, out = argv
    if os.path.isdir(wheel):  # a directory holding one wheel (wheel_from_sdist)
        found = [f for f in os.listdir(wheel) if f.endswith(".whl")]
        if len(found) != 1:
            sys.exit("ERROR: %s holds %d wheels, not one" % (wheel, len(found)))
        wheel = os.path.join(wheel, found[0])
    os.makedirs(out, exist_ok=True)
    try:
        with zipfile.ZipFile(wheel) as z:
            for name in z.namelist():
                if name.startswith("/") or ".." in name.split("/"):
                    sys.exit("ERROR: %s: unsafe path %r in the wheel" % (wheel, name))
            z.extractall(out)
            for info in z.infolist():
                mode = (info.external_attr >> 16) & 0o777
                script = ".data/scripts/" in info.filename
                if not info.is_dir() and (mode & 0o111 or script):
                    os.chmod(os.path.join(out, info.filename), 0o755)
    except zipfile.BadZipFile as err:
        sys.exit("ERROR: %s is not a wheel: %s" % (wheel, err))


if __name__ == "__main__":
    main(sys.argv[1:])
