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
import struct
import sys
import tarfile



def lib_dirs(multiarch):
    """The directories of a Debian system that hold shared libraries, for its multiarch triplet
    (for example x86_64-linux-gnu: rules/private/platforms.bzl)."""
    return ["lib", "lib64", "usr/lib", "usr/lib64", "lib/" + multiarch, "usr/lib/" + multiarch]

PT_LOAD, PT_DYNAMIC, DT_NEEDED, DT_STRTAB = 1, 2, 1, 5


def needed(data):
    """The DT_NEEDED names of a 64-bit little-endian ELF file ([] for anything else)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads, dynamic = [], None
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if not dynamic:
        return []
    entries, strtab = [], None
    for off in range(dynamic[0], dynamic[0] + dynamic[1], 16):
        tag, val = struct.unpack_from("<qQ", data, off)
        if tag == 0:
            break
        if tag == DT_NEEDED:
            entries.append(val)
        elif tag == DT_STRTAB:
            strtab = val
    base = next((off + strtab - vaddr for vaddr, off, size in loads if vaddr <= strtab < vaddr + size), None)
    if base is None:
        return []
    return [data[base + e:data.index(b"\0", base + e)].decode() for e in entries]


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
                if not m.isreg() or m.size < 64:
                    continue
                data = tar.extractfile(m).read()
                if data[:4] != b"\x7fELF":
                    continue
                checked += 1
                for lib in needed(data):
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
