"""Assembles Debian packages into one deterministic root-filesystem tar, without running them.

In:  .deb files (each checked against the lock by Bazel when it was fetched), the user to create,
     the filters of what to leave out, a fixed mtime.
Out: one tar: every package's files (no maintainer script runs), minus the filtered paths, plus
     what those scripts would have made and an image needs: /etc/ssl/certs/ca-certificates.crt,
     /etc/passwd and /etc/group with root and the unprivileged user and its home, /etc/nsswitch.conf
     (files, then DNS for hosts), /etc/os-release
     (from base-files, or written), /tmp, and one dpkg status entry per package in
     /var/lib/dpkg/status.d/ (with its md5sums) so that scanners can read what is installed.
     Entries are sorted, owned by root (the user's home by the user), with the given mtime;
     setuid and setgid bits are removed.

Usage: debian_rootfs.py --output F.tar --mtime N --user NAME --uid N --gid N
                        [--exclude GLOB ...] [--keep GLOB ...] DEB...
"""

import argparse
import fnmatch
import lzma
import os
import posixpath
import re
import sys
import tarfile

from rules.private.tools import dtar
from rules.private.tools.deb import DebError, field, read_deb


def matches(path, patterns):
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, p.rstrip("/*")) for p in patterns)


# Debian policy 5.6.7: lower case letters, digits, + - . ; at least two, a letter or digit first.
PACKAGE_NAME = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")


def assemble(debs, mtime, user, uid, gid, exclude, keep):
    """[(TarInfo, data)] of the root filesystem."""
    tree = {}
    hardlinks = []
    packages = []
    shipped = {}  # every regular file of every package, left out or not: what a hard link copies
    for path in debs:
        control, md5sums, files = read_deb(path)
        name = field(control, "Package")
        if not PACKAGE_NAME.match(name or ""):
            raise DebError("%s: its control file names the package %r, which is not a Debian package name "
                           "(lower case letters, digits, + - .); the .deb is refused" % (path, name))
        packages.append(name)
        for info, data in files:
            if info.isreg():
                shipped[info.name] = (info, data)
            if matches(info.name, exclude) and not matches(info.name, keep):
                continue
            if info.islnk():
                hardlinks.append((path, info))
                continue
            if not (info.isreg() or info.isdir() or info.issym()):
                raise DebError("%s: %s is a %s; only files, directories and symlinks go in a layer" %
                               (path, info.name, info.type))
            if info.name in tree and not info.isdir() and not tree[info.name][0].isdir():
                raise DebError("%s and an earlier package both ship %s" % (name, info.name))
            info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, 0, 0, "", ""
            info.mode &= 0o1777  # no setuid or setgid in an image
            tree[info.name] = (info, data)
        status = control.rstrip("\n") + "\nStatus: install ok installed\n"
        tree["var/lib/dpkg/status.d/" + name] = dtar.entry(
            "var/lib/dpkg/status.d/" + name, tarfile.REGTYPE, 0o644, mtime, status.encode())
        if md5sums:
            tree["var/lib/dpkg/status.d/%s.md5sums" % name] = dtar.entry(
                "var/lib/dpkg/status.d/%s.md5sums" % name, tarfile.REGTYPE, 0o644, mtime, md5sums.encode())
    for path, info in hardlinks:  # a hard link becomes a copy of its target, kept or left out
        target = posixpath.normpath(info.linkname).lstrip("/")
        if target not in shipped:
            raise DebError("%s: %s is a hard link to %s, which no package ships as a file; the .deb is refused" %
                           (path, info.name, info.linkname))
        src, data = tree.get(target, shipped[target])
        copy = tarfile.TarInfo(info.name)
        copy.type, copy.mode, copy.mtime = tarfile.REGTYPE, src.mode & 0o1777, mtime
        copy.uid = copy.gid = 0
        tree[info.name] = (copy, data)

    certs = sorted(n for n in tree if n.startswith("usr/share/ca-certificates/") and n.endswith(".crt"))
    if certs:
        bundle = b"".join(tree[n][1].rstrip(b"\n") + b"\n" for n in certs)
        tree["etc/ssl/certs/ca-certificates.crt"] = dtar.entry(
            "etc/ssl/certs/ca-certificates.crt", tarfile.REGTYPE, 0o644, mtime, bundle)
        # Where OpenSSL looks by default (OPENSSLDIR is /usr/lib/ssl on Debian); the openssl
        # package, which makes these links, is not needed otherwise.
        for link, target in [("usr/lib/ssl/cert.pem", "/etc/ssl/certs/ca-certificates.crt"),
                             ("usr/lib/ssl/certs", "/etc/ssl/certs")]:
            if link not in tree:
                tree[link] = dtar.entry(link, tarfile.SYMTYPE, 0o777, mtime, linkname=target)

    home = "home/" + user
    tree["etc/passwd"] = dtar.entry("etc/passwd", tarfile.REGTYPE, 0o644, mtime, (
        "root:x:0:0:root:/root:/sbin/nologin\n"
        "%s:x:%d:%d:%s:/%s:/sbin/nologin\n" % (user, uid, gid, user, home)).encode())
    tree["etc/group"] = dtar.entry("etc/group", tarfile.REGTYPE, 0o644, mtime, (
        "root:x:0:\n%s:x:%d:\n" % (user, gid)).encode())
    tree[home] = dtar.entry(home, tarfile.DIRTYPE, 0o700, mtime, uid=uid, gid=gid)
    # What glibc reads to look up users, groups and hosts (base-files does not ship it; without
    # it glibc falls back to defaults that try services the image does not have).
    if "etc/nsswitch.conf" not in tree:
        tree["etc/nsswitch.conf"] = dtar.entry("etc/nsswitch.conf", tarfile.REGTYPE, 0o644, mtime, (
            "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\n"
            "protocols: files\nservices: files\nethers: files\nrpc: files\n").encode())
    tree["root"] = dtar.entry("root", tarfile.DIRTYPE, 0o700, mtime)
    tree["tmp"] = dtar.entry("tmp", tarfile.DIRTYPE, 0o1777, mtime)
    if "etc/os-release" not in tree and "usr/lib/os-release" not in tree:
        raise DebError("no /etc/os-release: add base-files to the package list")

    dtar.add_parents(tree, mtime)
    return list(tree.values()), packages


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--mtime", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--uid", type=int, required=True)
    parser.add_argument("--gid", type=int, required=True)
    parser.add_argument("--exclude", action="append", default=[])
    parser.add_argument("--keep", action="append", default=[])
    parser.add_argument("debs", nargs="+")
    args = parser.parse_args(argv)
    try:
        entries, packages = assemble(sorted(args.debs), args.mtime, args.user, args.uid, args.gid,
                                     args.exclude, args.keep)
        dtar.write_entries(args.output, entries)
    except (DebError, ValueError, OSError, tarfile.TarError, lzma.LZMAError) as err:
        sys.exit("ERROR: debian_rootfs: %s" % err)
    print("%s: %d packages, %d entries" % (os.path.basename(args.output), len(packages), len(entries)))


if __name__ == "__main__":
    main()
