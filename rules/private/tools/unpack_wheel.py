"""Unpacks a wheel into a directory (a Bazel tree artifact) that goes on sys.path.

Refused, with one line naming the wheel: an entry outside the directory, an entry named twice,
more than MAX_TOTAL bytes unpacked or a large entry (BOMB_SIZE or more) that inflates more than
MAX_RATIO times (a zip bomb), and an archive that does not read (corrupt deflate data, a bad CRC).

Usage: unpack_wheel.py WHEEL DIR   (WHEEL: a .whl, or a directory holding one)
"""

import collections
import os
import shutil
import sys
import zipfile
import zlib

# The largest wheels on PyPI unpack to a few GiB. Small files of real wheels do inflate 200
# times and more (pillow's auditwheel-grafted libXau: 9 KiB to 2 MiB of mostly padding), large
# ones do not; deflate itself stops near 1032.
MAX_TOTAL = 8 << 30
MAX_RATIO = 200
BOMB_SIZE = 32 << 20


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
            names = z.namelist()
            for name in names:
                if name.startswith("/") or ".." in name.split("/"):
                    sys.exit("ERROR: %s: unsafe path %r in the wheel" % (wheel, name))
            twice = sorted(n for n, count in collections.Counter(names).items() if count > 1)
            if twice:
                sys.exit("ERROR: %s: the wheel names %s more than once; it is refused" % (wheel, ", ".join(twice[:3])))
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_TOTAL:
                sys.exit("ERROR: %s: the wheel would unpack to %d bytes, more than %d; it is refused" % (wheel, total, MAX_TOTAL))
            for i in infos:
                if i.file_size >= BOMB_SIZE and i.file_size > MAX_RATIO * max(i.compress_size, 1):
                    sys.exit("ERROR: %s: %s inflates from %d to %d bytes, more than %d times (a zip bomb?); "
                             "the wheel is refused" % (wheel, i.filename, i.compress_size, i.file_size, MAX_RATIO))
            z.extractall(out)
            for info in z.infolist():
                mode = (info.external_attr >> 16) & 0o777
                script = ".data/scripts/" in info.filename
                if not info.is_dir() and (mode & 0o111 or script):
                    os.chmod(os.path.join(out, info.filename), 0o755)
    except (zipfile.BadZipFile, zlib.error, EOFError) as err:
        # Nothing half-written: what was unpacked before the damaged entry goes too.
        for entry in os.listdir(out):
            path = os.path.join(out, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
        sys.exit("ERROR: %s is not a readable wheel (%s: %s); it is refused" % (wheel, type(err).__name__, err))


if __name__ == "__main__":
    main(sys.argv[1:])
