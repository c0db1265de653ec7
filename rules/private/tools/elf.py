"""What the image tools read of ELF files and Debian's library layout (a library: no entry point).

`needed` reads the DT_NEEDED names of a 64-bit little-endian ELF file (x86_64 and aarch64 alike)
from its bytes; `lib_dirs` names the directories a Debian system keeps shared libraries in.
check_libs.py and slim_layer.py use both.
"""

import struct

PT_LOAD, PT_DYNAMIC, DT_NEEDED, DT_STRTAB = 1, 2, 1, 5


def lib_dirs(multiarch):
    """The directories of a Debian system that hold shared libraries, for its multiarch triplet
    (for example x86_64-linux-gnu: rules/private/platforms.bzl)."""
    return ["lib", "lib64", "usr/lib", "usr/lib64", "lib/" + multiarch, "usr/lib/" + multiarch]



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
