"""Writes a directory tree as a deterministic tar.

In:  a root directory (its entries become the tar's entries, relative to it), a fixed mtime.
Out: one uncompressed tar, byte-identical for identical trees: entries sorted by path, parent
     directories included, owner uid/gid 0 with no user or group names, the given mtime, modes
     normalised (directories and executables 0755, other files 0644, symlinks kept as symlinks),
     PAX headers only where a path is too long for ustar.

Usage: dtar.py --root DIR --mtime EPOCH --output FILE.tar
"""

import argparse
import io
import os
import posixpath
import stat
import sys
import tarfile


def tar_entries(root):
    """Yields (relative path, absolute path) for every entry below root, sorted by path."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            found.append((os.path.relpath(full, root), full))
    found.sort(key=lambda entry: entry[0].encode("utf-8", "surrogateescape"))
    return found


def tar_info(rel, full, mtime):
    """The normalised TarInfo for one entry."""
    st = os.lstat(full)
    info = tarfile.TarInfo(rel)
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if stat.S_ISLNK(st.st_mode):
        info.type = tarfile.SYMTYPE
        info.linkname = os.readlink(full)
        info.mode = 0o777
    elif stat.S_ISDIR(st.st_mode):
        info.type = tarfile.DIRTYPE
        info.mode = 0o755
    elif stat.S_ISREG(st.st_mode):
        info.type = tarfile.REGTYPE
        info.size = st.st_size
        info.mode = 0o755 if st.st_mode & 0o111 else 0o644
    else:
        raise ValueError("%s: only files, directories and symlinks can go in a layer" % full)
    return info


def entry(name, kind, mode, mtime, data=None, linkname="", uid=0, gid=0):
    """(TarInfo, data) of one normalised entry made from nothing (no user or group names)."""
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, mtime
    info.uid, info.gid, info.uname, info.gname = uid, gid, "", ""
    info.linkname = linkname
    return info, data


def add_parents(tree, mtime):
    """Adds to {path: (TarInfo, data)} every missing parent directory, owned by root, mode 0755."""
    for name in list(tree):
        parent = posixpath.dirname(name)
        while parent and parent not in tree:
            tree[parent] = entry(parent, tarfile.DIRTYPE, 0o755, mtime)
            parent = posixpath.dirname(parent)


# The pax records that stand for a TarInfo field (tarfile's own names for them).
_PAX_FIELDS = ("path", "linkpath", "size", "mtime", "uid", "gid", "uname", "gname")


def write_entries(output, entries):
    """Writes (TarInfo, bytes or None) entries, sorted by path, as a tar at output.

    The caller has normalised each TarInfo; this adds nothing but the order. A name that is
    absolute or has a `..` component is refused (whoever made it, a .deb's control file say). It
    writes through a temporary name, so a failure leaves no half-written tar."""
    tmp = output + ".tmp"
    ordered = sorted(entries, key=lambda e: e[0].name.encode("utf-8", "surrogateescape"))
    names = [e[0].name for e in ordered]
    for name in names:
        if not name or name.startswith("/") or ".." in name.split("/"):
            raise ValueError("the tar entry %r is absolute or climbs out with ..; a layer holds only relative paths inside it" % name)
    dupes = sorted(set(n for n, m in zip(names, names[1:]) if n == m))
    if dupes:
        raise ValueError("duplicate tar entries: %s" % ", ".join(dupes[:5]))
    try:
        with open(tmp, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for info, data in ordered:
                    # A TarInfo read from a tar keeps the pax records it came with, and tarfile
                    # writes those over the fields: a long name renamed by the caller (a .pyc
                    # moved out of __pycache__) would be written under its old name. The fields
                    # are the truth; tarfile makes the records again where a field needs one.
                    for key in _PAX_FIELDS:
                        info.pax_headers.pop(key, None)
                    if info.isreg():
                        info.size = len(data)
                        tar.addfile(info, io.BytesIO(data))
                    else:
                        tar.addfile(info)
        os.replace(tmp, output)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_tar(root, output, mtime):
    """Writes root as a deterministic tar at output."""
    entries = []
    for rel, full in tar_entries(root):
        info = tar_info(rel, full, mtime)
        data = None
        if info.isreg():
            with open(full, "rb") as f:
                data = f.read()
        entries.append((info, data))
    write_entries(output, entries)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="directory whose contents become the tar")
    parser.add_argument("--mtime", required=True, type=int, help="mtime of every entry (seconds)")
    parser.add_argument("--output", required=True, help="the tar to write")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.root):
        sys.exit("dtar: --root %s is not a directory" % args.root)
    try:
        write_tar(args.root, args.output, args.mtime)
    except (OSError, ValueError) as err:
        sys.exit("dtar: %s" % err)


if __name__ == "__main__":
    main()
