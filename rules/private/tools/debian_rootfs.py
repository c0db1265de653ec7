"""Assembles Debian packages into one deterministic root-filesystem tar, without running them.

In:  .deb files (each checked against the lock by Bazel when it was fetched), the user to create,
     the filters of what to leave out, a fixed mtime.
Out: one tar: every package's files (no maintainer script runs), minus the filtered paths, plus
     what those scripts would have made and an image needs: /etc/ssl/certs/ca-certificates.crt,
     /etc/passwd and /etc/group with root and the unprivileged user and its home, /etc/os-release
     (from base-files, or written), /tmp, and one dpkg status entry per package in
     /var/lib/dpkg/status.d/ (with its md5sums) so that scanners can read what is installed.
     Entries are sorted, owned by root (the user's home by the user), with the given mtime;
     setuid and setgid bits are removed.

Usage: debian_rootfs.py --output F.tar --mtime N --user NAME --uid N --gid N
                        [--exclude GLOB ...] [--keep GLOB ...] DEB...
"""

import argparse
import fnmatch
import io
import lzma
import gzip
import os
import posixpath
import sys
import tarfile

from rules.private.tools import dtar


class DebError(Exception):
    pass


def ar_members(path):
    """{name: bytes} of an ar archive (the .deb container)."""
    with open(path, "rb") as f:
        data = f.read()
    if not data.startswith(b"!<arch>\n"):
        raise DebError("%s is not a .deb (no ar header)" % path)
    members, pos = {}, 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        name = header[:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        members[name] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size % 2)
    return members


def open_member(members, stem, path):
    """The tarfile of control.tar.* or data.tar.* in a .deb."""
    for name, blob in members.items():
        if name.startswith(stem):
            if name.endswith(".xz"):
                blob = lzma.decompress(blob)
            elif name.endswith(".gz"):
                blob = gzip.decompress(blob)
            elif name.endswith(".zst"):
                raise DebError("%s: %s is zstd-compressed, which this tool does not read" % (path, name))
            return tarfile.open(fileobj=io.BytesIO(blob))
    raise DebError("%s has no %s" % (path, stem))


def read_deb(path):
    """(control paragraph text, md5sums text, [(TarInfo, bytes or None)]) of one .deb."""
    members = ar_members(path)
    control, md5sums = None, ""
    with open_member(members, "control.tar", path) as tar:
        for m in tar.getmembers():
            name = posixpath.normpath(m.name)
            if name == "control":
                control = tar.extractfile(m).read().decode()
            elif name == "md5sums":
                md5sums = tar.extractfile(m).read().decode()
    if control is None:
        raise DebError("%s has no control file" % path)
    files = []
    with open_member(members, "data.tar", path) as tar:
        for m in tar.getmembers():
            name = posixpath.normpath(m.name).lstrip("/")
            if name in (".", ""):
                continue
            m.name = name
            data = tar.extractfile(m).read() if m.isreg() else None
            files.append((m, data))
    return control, md5sums, files


def field(control, key):
    for line in control.splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    return ""


def matches(path, patterns):
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, p.rstrip("/*")) for p in patterns)


def entry(name, kind, mode, mtime, data=None, linkname="", uid=0, gid=0):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime = kind, mode, mtime
    info.uid, info.gid, info.uname, info.gname = uid, gid, "", ""
    info.linkname = linkname
    return info, data


def assemble(debs, mtime, user, uid, gid, exclude, keep):
    """[(TarInfo, data)] of the root filesystem."""
    tree = {}
    hardlinks = []
    packages = []
    for path in debs:
        control, md5sums, files = read_deb(path)
        name = field(control, "Package")
        packages.append(name)
        for info, data in files:
            if matches(info.name, exclude) and not matches(info.name, keep):
                continue
            if info.islnk():
                hardlinks.append(info)
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
        tree["var/lib/dpkg/status.d/" + name] = entry(
            "var/lib/dpkg/status.d/" + name, tarfile.REGTYPE, 0o644, mtime, status.encode())
        if md5sums:
            tree["var/lib/dpkg/status.d/%s.md5sums" % name] = entry(
                "var/lib/dpkg/status.d/%s.md5sums" % name, tarfile.REGTYPE, 0o644, mtime, md5sums.encode())
    for info in hardlinks:  # a hard link becomes a copy of its target
        target = posixpath.normpath(info.linkname).lstrip("/")
        if target in tree:
            copy = tarfile.TarInfo(info.name)
            src = tree[target][0]
            copy.type, copy.mode, copy.mtime = tarfile.REGTYPE, src.mode, mtime
            copy.uid = copy.gid = 0
            tree[info.name] = (copy, tree[target][1])

    certs = sorted(n for n in tree if n.startswith("usr/share/ca-certificates/") and n.endswith(".crt"))
    if certs:
        bundle = b"".join(tree[n][1].rstrip(b"\n") + b"\n" for n in certs)
        tree["etc/ssl/certs/ca-certificates.crt"] = entry(
            "etc/ssl/certs/ca-certificates.crt", tarfile.REGTYPE, 0o644, mtime, bundle)
        # Where OpenSSL looks by default (OPENSSLDIR is /usr/lib/ssl on Debian); the openssl
        # package, which makes these links, is not needed otherwise.
        for link, target in [("usr/lib/ssl/cert.pem", "/etc/ssl/certs/ca-certificates.crt"),
                             ("usr/lib/ssl/certs", "/etc/ssl/certs")]:
            if link not in tree:
                tree[link] = entry(link, tarfile.SYMTYPE, 0o777, mtime, linkname=target)

    home = "home/" + user
    tree["etc/passwd"] = entry("etc/passwd", tarfile.REGTYPE, 0o644, mtime, (
        "root:x:0:0:root:/root:/sbin/nologin\n"
        "%s:x:%d:%d:%s:/%s:/sbin/nologin\n" % (user, uid, gid, user, home)).encode())
    tree["etc/group"] = entry("etc/group", tarfile.REGTYPE, 0o644, mtime, (
        "root:x:0:\n%s:x:%d:\n" % (user, gid)).encode())
    tree[home] = entry(home, tarfile.DIRTYPE, 0o700, mtime, uid=uid, gid=gid)
    tree["root"] = entry("root", tarfile.DIRTYPE, 0o700, mtime)
    tree["tmp"] = entry("tmp", tarfile.DIRTYPE, 0o1777, mtime)
    if "etc/os-release" not in tree and "usr/lib/os-release" not in tree:
        raise DebError("no /etc/os-release: add base-files to the package list")

    for name in list(tree):  # every parent directory, owned by root
        parent = posixpath.dirname(name)
        while parent and parent not in tree:
            tree[parent] = entry(parent, tarfile.DIRTYPE, 0o755, mtime)
            parent = posixpath.dirname(parent)
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
