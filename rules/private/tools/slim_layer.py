"""Leaves out of an image's layers what its app cannot use.

Two commands, each reading one layer tar and writing a smaller one (entries kept as they were,
in dtar's order, so the result is as deterministic as the input):

  pyc   One .pyc per module, at the optimisation level the entrypoint runs (0, 1 for -O, 2 for
        -OO): CPython's install byte-compiles every stdlib module three times and the interpreter
        only ever reads one of them. With --sourceless the .pyc takes the place of its .py
        (`mod.pyc` beside where `mod.py` was, which CPython imports without the source; a
        traceback then shows file and line but not the line's text). A .py without a .pyc of the
        level stays as it is.

  base  The base layer without the shared libraries that no ELF file of the image needs: the
        closure of DT_NEEDED from every ELF file of the layers above (and the base's own
        executables), through the base's libraries. A plugin (a shared object in a directory
        below a library directory, such as krb5/plugins/preauth/spake.so or
        ossl-modules/legacy.so) is loaded with dlopen by its own package's library: it stays
        exactly when a library of its package stays (then with what it needs); a plugin of a
        package with no library of its own, or of no package, stays. Also left out: glibc's
        gconv modules, which only iconv loads (nothing names them in DT_NEEDED), and the tz
        database's leap-second variants (usr/share/zoneinfo/right, read only for TZ=right/...).
        Never left out: the dynamic loader, libc, libgcc_s (glibc loads it itself for thread
        cancellation and backtraces), NSS modules (loaded by name from nsswitch.conf), and
        whatever matches a --keep pattern (with what it needs in turn). A Debian package whose
        libraries all went goes whole: its other files, its dpkg status and md5sums (so neither
        the SBOM nor a scanner lists it); a package that stays has md5sums that list only what
        it still has. Writes the list of what was left out, with sizes, to --removed.

        With --trim-stdlib it also leaves out what a program in production never reads from the
        standard library: pydoc_data (the texts `help("topic")` shows; help() on an object
        needs none of it, and pydoc says when they are missing) and _pydecimal (decimal's
        pure-Python fallback, imported only when the _decimal extension is missing: it stays
        where there is no _decimal). --optimize all keeps every level (for --trim-stdlib alone).

Usage: slim_layer.py pyc --optimize N|all [--sourceless] [--trim-stdlib] IN.tar OUT.tar
       slim_layer.py base --output OUT.tar --removed LIST.txt --multiarch TRIPLET [--keep GLOB ...]
                          BASE.tar LAYER.tar...
"""

import argparse
import fnmatch
import posixpath
import re
import sys
import tarfile

from rules.private.tools import dtar
from rules.private.tools.elf import lib_dirs, needed

PYC = re.compile(r"^(?P<dir>(?:.*/)?)__pycache__/(?P<mod>[^/.]+)\.(?P<tag>[a-z]+-\d+)(?:\.opt-(?P<level>[12]))?\.pyc$")
LIBRARY = re.compile(r"\.so(\.[0-9.]+)?$")
ALWAYS_KEEP = ["ld-linux*", "libc.so*", "libgcc_s.so*", "libnss_*"]


def read(path):
    """[(TarInfo, bytes or None)] of a tar, in its order."""
    with tarfile.open(path) as tar:
        return [(m, tar.extractfile(m).read() if m.isreg() else None) for m in tar.getmembers()]


def slim_pyc(entries, optimize, sourceless):
    """The entries with one .pyc per module at `optimize`; with sourceless, in place of the .py."""
    names = {info.name for info, _ in entries}
    out = []
    moved = {}
    for info, data in entries:
        match = PYC.match(info.name)
        if not match:
            out.append((info, data))
            continue
        if int(match.group("level") or 0) != optimize:
            continue
        source = match.group("dir") + match.group("mod") + ".py"
        if sourceless and source in names:
            info.name = match.group("dir") + match.group("mod") + ".pyc"
            moved[source] = info.name
        out.append((info, data))
    if sourceless:
        out = [(info, data) for info, data in out if info.name not in moved]
        # __pycache__ directories left empty go too.
        used = {posixpath.dirname(info.name) for info, _ in out}
        out = [(info, data) for info, data in out
               if not (info.isdir() and posixpath.basename(info.name) == "__pycache__" and info.name not in used)]
    return out, len(moved)


STDLIB_UNUSED = re.compile(r"^(?P<lib>(?:.*/)?lib/python3\.\d+t?)/(?:(?P<pydoc>pydoc_data(?:/.*)?)|"
                           r"(?:__pycache__/)?_pydecimal(?:\.pyc?|\.[a-z]+-\d+(?:\.opt-[12])?\.pyc))$")


def trim_stdlib(entries):
    """(kept entries, the names left out): pydoc_data, and _pydecimal where _decimal is."""
    decimal = {posixpath.dirname(posixpath.dirname(info.name)) for info, _ in entries
               if fnmatch.fnmatch(posixpath.basename(info.name), "_decimal.*.so")
               and posixpath.basename(posixpath.dirname(info.name)) == "lib-dynload"}
    out, gone = [], []
    for info, data in entries:
        match = STDLIB_UNUSED.match(info.name)
        if match and (match.group("pydoc") or match.group("lib") in decimal):
            gone.append(info.name)
        else:
            out.append((info, data))
    return out, gone


def _chain(members, info):
    """The entries a path in the base passes through to its file: itself, then each symlink's
    target in turn ([] when a link leaves the base or loops)."""
    chain = [info]
    while info.issym():
        target = info.linkname
        target = target.lstrip("/") if target.startswith("/") else posixpath.join(posixpath.dirname(info.name), target)
        info = members.get(posixpath.normpath(target))
        if info is None or info in chain:
            return []
        chain.append(info)
    return chain


def slim_base(entries, layers, keep, multiarch):
    """(kept entries, removed entries) of the base, given the layers above it as (name, entries)
    pairs (the name is for errors) and the base's multiarch triplet (where its libraries are)."""
    libs = lib_dirs(multiarch)
    gconv_dirs = [d + "/gconv" for d in libs]
    members = {info.name: info for info, _ in entries}
    data_of = {info.name: data for info, data in entries}
    by_soname = {}
    for info, _ in entries:
        if posixpath.dirname(info.name) in libs and (info.isreg() or info.issym()):
            by_soname.setdefault(posixpath.basename(info.name), []).append(info)

    def below(info, dirs):
        return any(info.name == d or info.name.startswith(d + "/") for d in dirs)

    def library(info):
        return not info.isdir() and posixpath.dirname(info.name) in libs and bool(LIBRARY.search(info.name))

    def plugin(info):
        return not info.isdir() and bool(LIBRARY.search(info.name)) and below(info, libs) and \
            posixpath.dirname(info.name) not in libs and not below(info, gconv_dirs)

    def code(info):
        return below(info, gconv_dirs) or library(info) or plugin(info)

    def candidate(info):
        return code(info) or below(info, DATA_LEFT_OUT)

    def pinned(info):
        return any(fnmatch.fnmatch(posixpath.basename(info.name), p) for p in ALWAYS_KEEP) or \
            any(fnmatch.fnmatch(info.name, p.lstrip("/")) for p in keep)

    kept = set()
    queue = []

    def take(info):
        kept.add(info.name)
        chain = _chain(members, info)
        kept.update(i.name for i in chain)
        if chain and chain[-1].isreg() and data_of[chain[-1].name][:4] == b"\x7fELF":
            queue.extend(needed(data_of[chain[-1].name], "/%s (in the base layer)" % chain[-1].name))

    # A plugin's package: its libraries decide whether the plugin stays.
    package_of = {}
    for name in members:
        if name.startswith(STATUS_DIR) and name.endswith(".md5sums"):
            for line in (data_of[name] or b"").decode("utf-8", "surrogateescape").splitlines():
                package_of.setdefault(_md5sums_path(line), name)
    libraries_of = {}
    for info, _ in entries:
        if library(info) and info.name in package_of:
            libraries_of.setdefault(package_of[info.name], []).append(info.name)
    plugins = []
    for info, _ in entries:
        if plugin(info) and not pinned(info) and libraries_of.get(package_of.get(info.name)):
            plugins.append(info)
        elif not candidate(info) or pinned(info):
            take(info)
    for layer_name, layer in layers:
        for info, data in layer:
            if info.isreg() and data[:4] == b"\x7fELF":
                queue.extend(needed(data, "/%s (in %s)" % (info.name, layer_name)))
    seen = set()
    while queue or plugins:
        while queue:
            soname = queue.pop()
            if soname not in seen:
                seen.add(soname)
                for info in by_soname.get(soname, []):
                    take(info)
        # The plugins of packages that keep a library, with what they need in turn (which can
        # keep another package's library, and so its plugins).
        staying = [p for p in plugins if any(lib in kept for lib in libraries_of[package_of[p.name]])]
        if not staying:
            break
        plugins = [p for p in plugins if p not in staying]
        for info in staying:
            take(info)
    gone = _packages_gone(members, data_of, kept, code)
    # A directory stays while anything in it stays.
    for name in list(kept):
        parent = posixpath.dirname(name)
        while parent and parent in members and parent not in kept:
            kept.add(parent)
            parent = posixpath.dirname(parent)
    # A directory that held only what a package left out whole had is left out with it.
    emptied = {posixpath.dirname(name) for name in gone}
    while emptied:
        parent = emptied.pop()
        if parent in kept and members[parent].isdir() and not any(
                posixpath.dirname(name) == parent for name in kept if name != parent):
            kept.discard(parent)
            emptied.add(posixpath.dirname(parent))
    # The md5sums of a package that stays list only the files it still has.
    out = []
    for info, data in entries:
        if info.name not in kept:
            continue
        if info.name.startswith(STATUS_DIR) and info.name.endswith(".md5sums"):
            lines = data.decode("utf-8", "surrogateescape").splitlines(keepends=True)
            still = [line for line in lines if _md5sums_path(line) in kept]
            if len(still) != len(lines):
                data = "".join(still).encode("utf-8", "surrogateescape")
                info = dtar.entry(info.name, tarfile.REGTYPE, info.mode, info.mtime, data)[0]
                info.size = len(data)
        out.append((info, data))
    return out, [(i, d) for i, d in entries if i.name not in kept]


STATUS_DIR = "var/lib/dpkg/status.d/"

# Data in the base that no program reads unless told to by name: left out like an unneeded
# library (a --keep pattern brings it back).
DATA_LEFT_OUT = ["usr/share/zoneinfo/right"]


def _md5sums_path(line):
    """The path of one line of a package's md5sums ("HEX  PATH"), without a leading /."""
    parts = line.rstrip("\n").split(None, 1)
    return parts[1].lstrip("/") if len(parts) == 2 else ""


def _packages_gone(members, data_of, kept, code):
    """Leaves out whole (removes from `kept`) each Debian package of the base whose libraries
    (what `code` takes: libraries, plugins, gconv modules) were all left out: its other files
    (documentation, debugger scripts), its dpkg status and md5sums, so that neither the SBOM nor
    a scanner reading the status lists a package the image does not hold. A package known only
    by its status (no md5sums), or with no library, stays. Returns the names left out this way."""
    gone = set()
    for name in sorted(members):
        if not (name.startswith(STATUS_DIR) and name.endswith(".md5sums")) or name not in kept:
            continue
        lines = (data_of[name] or b"").decode("utf-8", "surrogateescape").splitlines()
        files = [f for f in (_md5sums_path(line) for line in lines) if f in members]
        libraries = [f for f in files if code(members[f])]
        if not libraries or any(f in kept for f in libraries):
            continue
        status = name[:-len(".md5sums")]
        for f in files + [name, status]:
            if f in kept:
                kept.discard(f)
                gone.add(f)
    return gone


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    pyc = sub.add_parser("pyc")
    pyc.add_argument("--optimize", choices=["0", "1", "2", "all"], required=True)
    pyc.add_argument("--sourceless", action="store_true")
    pyc.add_argument("--trim-stdlib", action="store_true")
    pyc.add_argument("input")
    pyc.add_argument("output")
    base = sub.add_parser("base")
    base.add_argument("--output", required=True)
    base.add_argument("--removed", required=True)
    base.add_argument("--keep", action="append", default=[])
    base.add_argument("--multiarch", required=True, help="the base's Debian multiarch triplet, for example x86_64-linux-gnu")
    base.add_argument("base")
    base.add_argument("layers", nargs="*")
    args = parser.parse_args(argv)

    if args.command == "pyc":
        entries = read(args.input)
        if args.optimize != "all":
            entries, _ = slim_pyc(entries, int(args.optimize), args.sourceless)
        elif args.sourceless:
            parser.error("--sourceless needs one level (--optimize 0, 1 or 2)")
        if args.trim_stdlib:
            entries, _ = trim_stdlib(entries)
        dtar.write_entries(args.output, entries)
        return
    layers = [(layer, read(layer)) for layer in args.layers]
    kept, removed = slim_base(read(args.base), layers, args.keep, args.multiarch)
    dtar.write_entries(args.output, kept)
    total = sum(i.size for i, _ in removed if i.isreg())
    lines = ["# left out of the base: %d entries, %d bytes (keep one with py_image's base_keep)" % (len(removed), total)]
    lines += ["%10d  %s" % (i.size if i.isreg() else 0, i.name) for i, _ in removed]
    with open(args.removed, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError, tarfile.TarError) as err:
        sys.exit("slim_layer: %s" % err)
