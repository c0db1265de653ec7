"""Checks at build time that the base layer has every shared library the image's ELF files need.

In:  the base layer tar, then the tars of the layers above it (interpreter, venv).
Out: a stamp file when every DT_NEEDED library of every ELF file above the base is found, by
     name, in the base's library directories or among the upper layers' own files (for example an
     auditwheel-grafted `*.libs/` copy). Otherwise it fails naming the library, the file that needs
     it, and the fix, so a missing library is found by the build and not when the container starts.

Usage: check_libs.py --stamp FILE --multiarch TRIPLET --base BASE.tar LAYER.tar...
"""

import argparse
import os
import sys
import tarfile

from rules.private.tools.elf import ElfError, lib_dirs, needed



def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stamp", required=True)
    parser.add_argument("--multiarch", required=True, help="the image's Debian multiarch triplet")
    parser.add_argument("--base", required=True)
    parser.add_argument("--base-label", default="the base layer")
    parser.add_argument("layers", nargs="+")
    args = parser.parse_args(argv)

    with tarfile.open(args.base) as tar:
        available = {os.path.basename(m.name) for m in tar.getmembers()
                     if os.path.dirname(m.name) in lib_dirs(args.multiarch) and (m.isreg() or m.issym())}
    missing = []
    checked = 0
    for layer in args.layers:
        with tarfile.open(layer) as tar:
            members = tar.getmembers()
            own = {os.path.basename(m.name) for m in members if m.isreg() or m.issym()}
            for m in members:
                if not m.isreg() or m.size < 4:
                    continue
                data = tar.extractfile(m).read()
                if data[:4] != b"\x7fELF":
                    continue
                checked += 1
                try:
                    libs = needed(data, "/%s (in %s)" % (m.name, layer))
                except ElfError as err:
                    sys.exit("ERROR: %s. The loader cannot load it; it came into the image from that "
                             "layer's inputs (a wheel, a .deb or the app): replace or remove the package "
                             "that ships it, or check the file the lock pins." % err)
                for lib in libs:
                    if lib not in available and lib not in own:
                        missing.append((lib, m.name))
    if missing:
        lines = ["  %s, needed by /%s" % pair for pair in sorted(set(missing))]
        sys.exit("ERROR: %s lacks shared libraries that the image needs:\n%s\nAdd the Debian packages "
                 "that ship them to the base's package list (third_party/debian/runtime.txt) and run its "
                 "update command." % (args.base_label, "\n".join(lines)))
    with open(args.stamp, "w") as f:
        f.write("%d ELF files, every needed library found\n" % checked)


if __name__ == "__main__":
    main()
