"""Reads Debian packages (.deb files) without running anything from them.

A .deb is an ar archive holding control.tar.* (the control paragraph, md5sums, maintainer
scripts) and data.tar.* (the files). Bazel checked each file against its lock's sha256 before an
action could read it. Member names are normalised; one that would land outside the root (`..`,
or a name that is absolute after normalising) is refused, naming the package.
"""

import gzip
import io
import lzma
import posixpath
import tarfile
import zlib


class DebError(Exception):
    """A .deb that cannot go into a root filesystem; the message names it."""


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
        try:
            size = int(header[48:58].decode().strip())
        except (UnicodeDecodeError, ValueError):
            raise DebError("%s is not a .deb (a damaged ar header at byte %d)" % (path, pos)) from None
        members[name] = data[pos + 60:pos + 60 + size]
        pos += 60 + size + (size % 2)
    return members


def open_member(members, stem, path):
    """The tarfile of control.tar.* or data.tar.* in a .deb."""
    for name, blob in members.items():
        if name.startswith(stem):
            if name.endswith(".zst"):
                raise DebError("%s: %s is zstd-compressed, which this tool does not read" % (path, name))
            try:
                if name.endswith(".xz"):
                    blob = lzma.decompress(blob)
                elif name.endswith(".gz"):
                    blob = gzip.decompress(blob)
                return tarfile.open(fileobj=io.BytesIO(blob))
            except (lzma.LZMAError, EOFError, OSError, zlib.error, tarfile.TarError) as err:
                raise DebError("%s: its %s does not unpack (%s: %s); the .deb is refused" % (
                    path, name, type(err).__name__, err)) from err
    raise DebError("%s has no %s" % (path, stem))


def member_name(name, path):
    """The normalised path of a data.tar member below the root ("" for the root itself)."""
    rel = posixpath.normpath(name)
    if rel == ".":
        return ""
    if rel.startswith("/") or rel == ".." or rel.startswith("../"):
        raise DebError("%s: the member '%s' would land outside the root filesystem; the package is refused" % (path, name))
    return rel


def control_members(members, path):
    """(control paragraph text, md5sums text) from the ar members of a .deb."""
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
    return control, md5sums


def read_control(path):
    """The control paragraph text of one .deb, without reading its files."""
    return control_members(ar_members(path), path)[0]


def read_deb(path):
    """(control paragraph text, md5sums text, [(TarInfo, bytes or None)]) of one .deb."""
    members = ar_members(path)
    control, md5sums = control_members(members, path)
    files = []
    with open_member(members, "data.tar", path) as tar:
        try:
            for m in tar.getmembers():
                name = member_name(m.name, path)
                if not name:
                    continue
                m.name = name
                data = tar.extractfile(m).read() if m.isreg() else None
                files.append((m, data))
        except (EOFError, OSError, zlib.error, tarfile.TarError) as err:
            raise DebError("%s: its data.tar does not read to the end (%s: %s); the .deb is refused" % (
                path, type(err).__name__, err)) from err
    return control, md5sums, files


def field(control, key):
    """The value of one field of a control paragraph ("" if absent)."""
    for line in control.splitlines():
        if line.startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    return ""
