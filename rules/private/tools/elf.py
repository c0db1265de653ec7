"""What the image tools read of ELF files and Debian's library layout (a library: no entry point).

`needed` reads the DT_NEEDED names of a 64-bit little-endian ELF file (x86_64 and aarch64 alike)
from its bytes, and raises ElfError, naming the file and what is wrong, when the headers of a
file that starts like ELF point outside it; `lib_dirs` names the directories a Debian system
keeps shared libraries in. check_libs.py and slim_layer.py use both.
"""

import struct

PT_LOAD, PT_DYNAMIC, DT_NEEDED, DT_STRTAB = 1, 2, 1, 5
_EHDR_SIZE, _PHDR_SIZE, _DYN_SIZE = 64, 56, 16


class ElfError(ValueError):
    """A file that starts like a 64-bit ELF file and is not a well-formed one."""


def lib_dirs(multiarch):
    """The directories of a Debian system that hold shared libraries, for its multiarch triplet
    (for example x86_64-linux-gnu: rules/private/platforms.bzl)."""
    return ["lib", "lib64", "usr/lib", "usr/lib64", "lib/" + multiarch, "usr/lib/" + multiarch]


def needed(data, name="the file"):
    """The DT_NEEDED names of a 64-bit little-endian ELF file ([] for anything else).

    Raises ElfError naming `name` when a header, the dynamic section or a name lies past the end
    of the file or is not text: such a file would not load, and a tool must not guess."""

    def bad(what):
        return ElfError("%s is not a well-formed ELF file: %s (%d bytes)" % (name, what, len(data)))

    if data[:4] != b"\x7fELF" or len(data) < 6 or data[4] != 2 or data[5] != 1:
        return []
    if len(data) < _EHDR_SIZE:
        raise bad("its ELF header is cut short")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    if phnum and (phentsize < _PHDR_SIZE or phoff + phnum * phentsize > len(data)):
        raise bad("its %d program headers of %d bytes at offset %d lie past its end" % (phnum, phentsize, phoff))
    loads, dynamic = [], None
    for i in range(phnum):
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if not dynamic:
        return []
    if dynamic[0] + dynamic[1] > len(data):
        raise bad("its dynamic section (%d bytes at offset %d) lies past its end" % (dynamic[1], dynamic[0]))
    entries, strtab = [], None
    for off in range(dynamic[0], dynamic[0] + dynamic[1] - _DYN_SIZE + 1, _DYN_SIZE):
        tag, val = struct.unpack_from("<qQ", data, off)
        if tag == 0:
            break
        if tag == DT_NEEDED:
            entries.append(val)
        elif tag == DT_STRTAB:
            strtab = val
    if not entries:
        return []
    base = None if strtab is None else next(
        (off + strtab - vaddr for vaddr, off, size in loads if vaddr <= strtab < vaddr + size), None)
    if base is None:
        raise bad("it needs libraries but its string table is in no loaded segment")
    names = []
    for e in entries:
        end = data.find(b"\0", base + e)
        if base + e >= len(data) or end < 0:
            raise bad("the name of a needed library lies past its end")
        try:
            names.append(data[base + e:end].decode())
        except UnicodeDecodeError:
            raise bad("the name of a needed library is not text: %r" % data[base + e:end][:64]) from None
    return names
