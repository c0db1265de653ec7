#!/usr/bin/env python3
"""Assembles the hermetic builder's root filesystem from locked Debian packages, as one tar.

In:  the builder's .deb files (Bazel checked each against builder.lock.json's sha256 when it was
     fetched), paths to leave out (documentation, manuals, translations), the links that
     maintainer scripts and update-alternatives would have made (`--link usr/bin/awk=mawk`),
     and a fixed mtime.
Out: one uncompressed tar of the whole builder: every package's files (no maintainer script
     runs), those links, /etc/passwd and /etc/group with root, an empty /tmp, /build and /root.
     Entries are sorted, owned by root, with the given mtime; hard links become copies.

It runs on the host's python3 (the standard library only), because it makes the filesystem that
the compiled interpreter is itself compiled in. The tar depends only on the .deb files and the
arguments.

Usage: builder_rootfs.py --output F.tar --mtime N [--exclude GLOB ...] [--link PATH=TARGET ...] DEB...
"""

import argparse
import fnmatch
import lzma
import os
import posixpath
import sys
import tarfile

from rules.private.tools import deb, dtar


def assemble(debs, mtime, exclude, links):
    """[(TarInfo, data)] of the builder's root filesystem."""
    tree, hardlinks = {}, []
    for path in debs:
        control, _, files = deb.read_deb(path)
        name = deb.field(control, "Package")
        for info, data in files:
            if any(fnmatch.fnmatchcase(info.name, p) for p in exclude):
                continue
            if info.islnk():
                hardlinks.append((name, info))
                continue
            if not (info.isreg() or info.isdir() or info.issym()):
                raise deb.DebError("%s: %s is neither a file, a directory nor a symlink" % (path, info.name))
            old = tree.get(info.name)
            if old and not (info.isdir() and old[0].isdir()):
                same = old[0].type == info.type and old[1] == data and old[0].linkname == info.linkname
                if not same:
                    raise deb.DebError("%s and an earlier package both ship %s, with different contents" % (name, info.name))
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            info.mode &= 0o777  # no setuid, setgid or sticky bit: nothing here runs privileged
            tree[info.name] = (info, data)
    for name, info in hardlinks:
        target = deb.member_name(info.linkname, name)
        if target not in tree or not tree[target][0].isreg():
            raise deb.DebError("%s: the hard link %s points at %s, which no package ships as a file" % (name, info.name, info.linkname))
        src = tree[target][0]
        tree[info.name] = dtar.entry(info.name, tarfile.REGTYPE, src.mode, mtime, tree[target][1])

    for spec in links:
        path, sep, target = spec.partition("=")
        path = deb.member_name(path, "--link")
        if not sep or not path or not target:
            raise ValueError("--link %s: expected PATH=TARGET" % spec)
        if path in tree:
            raise ValueError("--link %s: a package already ships %s; drop the link" % (spec, path))
        resolved = posixpath.normpath(target if target.startswith("/") else posixpath.join("/", posixpath.dirname(path), target)).lstrip("/")
        if resolved not in tree:
            raise ValueError("--link %s: the target %s is not in the builder; add the package that ships it to builder.txt" % (spec, resolved))
        tree[path] = dtar.entry(path, tarfile.SYMTYPE, 0o777, mtime, linkname=target)

    tree["etc/passwd"] = dtar.entry("etc/passwd", tarfile.REGTYPE, 0o644, mtime,
                               b"root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
    tree["etc/group"] = dtar.entry("etc/group", tarfile.REGTYPE, 0o644, mtime, b"root:x:0:\nnogroup:x:65534:\n")
    for d, mode in [("tmp", 0o1777), ("root", 0o700), ("build", 0o755), ("proc", 0o555), ("dev", 0o755)]:
        tree.setdefault(d, dtar.entry(d, tarfile.DIRTYPE, mode, mtime))
    dtar.add_parents(tree, mtime)
    return list(tree.values())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--mtime", type=int, required=True)
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("--link", action="append", default=[])
    parser.add_argument("debs", nargs="+")
    args = parser.parse_args(argv)
    try:
        entries = assemble(sorted(args.debs), args.mtime, args.exclude, args.link)
        dtar.write_entries(args.output, entries)
    except (deb.DebError, ValueError, OSError, tarfile.TarError, lzma.LZMAError) as err:
        sys.exit("ERROR: builder_rootfs: %s" % err)
    print("%s: %d packages, %d entries" % (os.path.basename(args.output), len(args.debs), len(entries)))


if __name__ == "__main__":
    main()
