"""Checks the hardening of ELF files built here, like checksec or Debian's hardening-check.

In:  a directory tree, or a tar or wheel, holding ELF files (the interpreter, extension modules);
     which properties each file must have.
Out: one line per ELF file with what it has (+), lacks (-) or shows no sign of either (?):
     RELRO, BIND_NOW, PIE, NX stack, stack protector, fortified functions, IBT; exit 1, naming each file and what it lacks, when one misses a required
     property. Nothing is written.

What is read, from the ELF file alone (64-bit little-endian, as on x86_64):
  relro    a PT_GNU_RELRO segment                      (-Wl,-z,relro)
  now      DF_BIND_NOW / DF_1_NOW / DT_BIND_NOW         (-Wl,-z,now: with relro, "full RELRO")
  pie      an executable is ET_DYN, not ET_EXEC         (-fPIE -pie, gcc's default on Debian)
  nx       PT_GNU_STACK without the execute bit
  canary   it imports __stack_chk_fail                  (-fstack-protector-strong)
  fortify  it imports a __*_chk function                (-D_FORTIFY_SOURCE=2 or 3 with -O)
  ibt      x86_64 only: every function it exports       (-fcf-protection)
           begins with ENDBR64, the landing pad of Intel's indirect branch tracking (but
           _start, _init and _fini, the C runtime's startup code from libc6-dev)
A stack protector or fortified call appears only in code that has something to protect: a
small module with no local array, or no call that fortify rewrites, has neither, built with the
flags or not. So `canary`, `fortify` and `ibt` are required of the files named with --core (the
interpreter), where their absence can only mean the flags were missing; every ELF file must
have relro, now, pie (executables) and nx. Not seen in the file: the IBT/SHSTK property notes
(bookworm's crt1.o and crti.o lack them, so the linker drops them from every program),
-fstack-clash-protection and the difference between _FORTIFY_SOURCE levels 2 and 3; the
interpreter's own record of its flags (sysconfig's CONFIGURE_CFLAGS) is tested for those.

Usage: hardening.py [--core GLOB ...] [--skip GLOB ...] [--quiet] TREE|FILE.tar|FILE.whl|ELF ...
"""

import argparse
import fnmatch
import os
import struct
import sys
import tarfile
import zipfile

ET_EXEC, ET_DYN = 2, 3
PT_INTERP, PT_DYNAMIC, PT_GNU_STACK, PT_GNU_RELRO = 3, 2, 0x6474E551, 0x6474E552
PF_X = 1
DT_NULL, DT_BIND_NOW, DT_FLAGS, DT_FLAGS_1 = 0, 24, 30, 0x6FFFFFFB
DF_BIND_NOW, DF_1_NOW, DF_1_PIE = 0x8, 0x1, 0x08000000
SHT_DYNSYM = 11
PT_LOAD, EM_X86_64, STT_FUNC, SHN_UNDEF = 1, 62, 2, 0
ENDBR64 = b"\xf3\x0f\x1e\xfa"
# The C runtime's startup code (crt1.o, crti.o), linked from libc6-dev, not compiled here; the
# kernel jumps to _start, no indirect branch does.
CRT_FUNCTIONS = {"_start", "_init", "_fini"}


class NotElf(Exception):
    pass


def properties(data):
    """{property: bool} of one ELF file's bytes, and whether it is an executable."""
    if data[:4] != b"\x7fELF":
        raise NotElf()
    if data[4] != 2 or data[5] != 1:
        raise ValueError("only 64-bit little-endian ELF files are read")
    (e_type, e_machine, _, _, e_phoff, e_shoff, _, _, e_phentsize, e_phnum,
     e_shentsize, e_shnum, _) = struct.unpack_from("<HHIQQQIHHHHHH", data, 16)
    segments = [struct.unpack_from("<IIQQQQQQ", data, e_phoff + i * e_phentsize) for i in range(e_phnum)]
    kinds = {s[0]: s for s in segments}
    dyn_flags = dyn_flags_1 = 0
    bind_now = False
    if PT_DYNAMIC in kinds:
        _, _, offset, _, _, size, _, _ = kinds[PT_DYNAMIC]
        for i in range(size // 16):
            tag, value = struct.unpack_from("<qQ", data, offset + i * 16)
            if tag == DT_NULL:
                break
            if tag == DT_FLAGS:
                dyn_flags |= value
            elif tag == DT_FLAGS_1:
                dyn_flags_1 |= value
            elif tag == DT_BIND_NOW:
                bind_now = True
    names = set()
    exported = []  # the file offsets of the functions it defines and exports
    loads = [(s[3], s[2], s[5]) for s in segments if s[0] == PT_LOAD]  # (vaddr, offset, filesz)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, e_shoff + i * e_shentsize) for i in range(e_shnum)] if e_shoff else []
    for sh in sections:
        if sh[1] != SHT_DYNSYM:
            continue
        strtab = sections[sh[6]]
        str_off = strtab[4]
        for i in range(sh[5] // 24):
            st_name, st_info, _, st_shndx, st_value, _ = struct.unpack_from("<IBBHQQ", data, sh[4] + i * 24)
            end = data.index(b"\0", str_off + st_name)
            symbol = data[str_off + st_name:end].decode("ascii", "replace")
            names.add(symbol)
            if st_info & 0xF == STT_FUNC and st_shndx != SHN_UNDEF and st_value and symbol not in CRT_FUNCTIONS:
                exported.extend((symbol, off + st_value - vaddr) for vaddr, off, size in loads if vaddr <= st_value < vaddr + size)
    executable = PT_INTERP in kinds
    stack = kinds.get(PT_GNU_STACK)
    result = {
        "relro": PT_GNU_RELRO in kinds,
        "now": bool(dyn_flags & DF_BIND_NOW or dyn_flags_1 & DF_1_NOW or bind_now),
        "pie": e_type == ET_DYN if executable else True,
        "nx": stack is not None and not stack[1] & PF_X,
        "canary": "__stack_chk_fail" in names,
        "fortify": any(n.startswith("__") and n.endswith("_chk") and n != "__stack_chk_fail" for n in names),
    }
    if e_machine == EM_X86_64:
        # None: no exported function to look at (an executable linked without -export-dynamic).
        result["ibt"] = None if not exported else not [n for n, o in exported if data[o:o + 4] != ENDBR64]
        result["no_endbr64"] = sorted(n for n, o in exported if data[o:o + 4] != ENDBR64)
    return result, executable


def elf_files(path):
    """Yields (name, bytes) of the files under a directory, in a tar or in a wheel."""
    if os.path.isdir(path):
        for dirpath, _, filenames in os.walk(path):
            for name in sorted(filenames):
                full = os.path.join(dirpath, name)
                if os.path.isfile(full) and not os.path.islink(full):
                    with open(full, "rb") as f:
                        yield os.path.relpath(full, path), f.read()
    elif not tarfile.is_tarfile(path) and not zipfile.is_zipfile(path):
        with open(path, "rb") as f:
            yield os.path.basename(path), f.read()
    elif path.endswith(".whl"):
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                yield name, z.read(name)
    else:
        with tarfile.open(path) as tar:
            for m in tar:
                if m.isreg():
                    yield m.name, tar.extractfile(m).read()


def check(paths, core, skip):
    """(report lines, problems) over every ELF file of paths."""
    lines, problems = [], []
    for path in paths:
        for name, data in elf_files(path):
            if any(fnmatch.fnmatchcase(name, g) for g in skip):
                continue
            try:
                props, _ = properties(data)
            except NotElf:
                continue
            except (ValueError, struct.error, IndexError) as err:
                problems.append("%s: %s: not a readable ELF file (%s)" % (path, name, err))
                continue
            no_endbr64 = props.pop("no_endbr64", [])
            required = ["relro", "now", "pie", "nx"]
            if any(fnmatch.fnmatchcase(name, g) for g in core):
                required += ["canary", "fortify"] + (["ibt"] if "ibt" in props else [])
            marks = {True: "+", False: "-", None: "?"}
            lines.append("%s: %s" % (name, " ".join(marks[props[p]] + p for p in sorted(props))))
            missing = [p for p in required if not props[p]]
            if "ibt" in missing and no_endbr64:
                missing[missing.index("ibt")] = "ibt (%d exported functions do not begin with ENDBR64: %s)" % (
                    len(no_endbr64), ", ".join(no_endbr64[:10]))
            if missing:
                problems.append("%s: %s lacks %s" % (os.path.basename(path), name, ", ".join(missing)))
    return lines, problems


def main(argv=None):
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("--core", action="append", default=[], help="glob of files that must also have canary, fortify and (x86_64) ibt")
    parser.add_argument("--skip", action="append", default=[], help="glob of files not built here (vendored libraries)")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    lines, problems = check(args.paths, args.core, args.skip)
    if not args.quiet:
        print("\n".join(lines))
    if not lines:
        print("hardening: no ELF file in %s" % ", ".join(args.paths))
    if problems:
        print("ERROR: these ELF files were built without the hardening flags (rules/private/common.bzl, "
              "HARDENING): " + "; ".join(problems), file=sys.stderr)
        return 1
    print("hardening: %d ELF files, all with relro, now, pie, nx%s" % (
        len(lines), " (and canary, fortify, ibt where required)" if args.core else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
