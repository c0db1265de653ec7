"""Which CPython releases Debian's archive vouches for, and which of them this machine can fetch.

A release's sha256 is taken only from text that a signature in Debian's archive covers:

- `listed()`: Debian's python3.X source packages in SOURCE_SUITES. apt-get update checks each
  suite's InRelease against the archive keyring; the Sources index it vouches for gives the
  sha256 of each upstream tarball (`python3.X_VERSION.orig.tar.*`).
- `from_dsc()`: a release that no suite lists any more (the pool keeps older uploads). Its
  upload's `.dsc` is signed by the Debian developer who uploaded it; gpgv checks that signature
  against the keyrings of the `debian-keyring` package (a .deb that apt fetched and checked
  through the same signed Release), and the sha256 is read from the signed text only.

Debian's orig tarball of CPython is python.org's release tarball, byte for byte (checked for
every release in toolchains/versions.bzl against python.org's published sha256); the table
records python.org's URL with that hash, so where python.org is reachable Bazel fetches it from
there and refuses any other bytes.

`served()` asks the pool whether it serves a tarball (HEAD): a release can be listed (vouched
for) and still not be served by this machine's mirror.

Used by outdated.py (the report) and cpython_versions.py (`bazel run //toolchains:versions.update`).
The mirror is the first Debian archive URI of this machine's apt configuration
(PYIMAGE_DEBIAN_MIRROR over it).
"""

import collections
import glob
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request

from rules.private.tools import apt_lock, apt_sources

SOURCE_SUITES = ["oldstable", "stable", "testing", "unstable"]

# The suite whose debian-keyring verifies uploads: stable carries the keys of today's developers.
KEYRING_SUITE = "stable"

# How many Debian revisions of one upstream release from_dsc() tries (python3.X_V-1.dsc, -2, ...).
MAX_REVISION = 9

# A CPython release as python.org spells it: 3.14.7, 3.15.0rc1, 3.15.0b4, 3.15.0a2.
_VERSION = re.compile(r"^(3)\.(\d+)\.(\d+)(?:(a|b|rc)(\d+))?$")

Release = collections.namedtuple("Release", [
    "version",     # python.org's spelling: "3.15.0rc1"
    "minor",       # "3.15"
    "orig",        # the tarball's path in Debian's pool: "pool/main/p/python3.15/python3.15_3.15.0~rc1.orig.tar.xz"
    "sha256",      # its sha256, as the signed text gives it
    "evidence",    # what vouches for the sha256, one line
])


class ReleaseError(Exception):
    pass


class NotServed(ReleaseError):
    """The mirror answered 404 (or 410): it does not have the file."""


def parse_version(version):
    """(major, minor, micro, stage, serial) of a python.org version; stage "final" sorts last."""
    m = _VERSION.match(version)
    if not m:
        raise ReleaseError("'%s' is not a CPython release such as 3.14.7 or 3.15.0rc1" % version)
    major, minor, micro, stage, serial = m.groups()
    return (int(major), int(minor), int(micro), stage or "final", int(serial or 0))


def version_key(version):
    """A sort key: 3.15.0a1 < 3.15.0b1 < 3.15.0rc1 < 3.15.0 < 3.15.1."""
    major, minor, micro, stage, serial = parse_version(version)
    return (major, minor, micro, ["a", "b", "rc", "final"].index(stage), serial)


def minor_of(version):
    major, minor = parse_version(version)[:2]
    return "%d.%d" % (major, minor)


def newest_of(versions, minor):
    """The newest of `versions` in the line `minor`, or None."""
    return max((v for v in versions if minor_of(v) == minor), key=version_key, default=None)


def minor_key(minor):
    """A sort key of a line: "3.9" < "3.14"."""
    return version_key(minor + ".0")


def debian_upstream(version):
    """Debian's upstream version of a python.org version: 3.15.0rc1 -> 3.15.0~rc1."""
    return re.sub(r"(a|b|rc)(\d+)$", r"~\1\2", version)


def python_org(debian):
    """The python.org version of a Debian upstream version, or None: 3.15.0~rc1 -> 3.15.0rc1."""
    version = debian.replace("~", "")
    return version if _VERSION.match(version) else None


def python_org_url(version, orig):
    """python.org's URL of the tarball that Debian's `orig` (.tar.xz or .tar.gz) is a copy of."""
    base = "%d.%d.%d" % parse_version(version)[:3]
    name = "Python-%s.tar.xz" % version if orig.endswith(".tar.xz") else "Python-%s.tgz" % version
    return "https://www.python.org/ftp/python/%s/%s" % (base, name)


def mirror():
    archive = apt_sources.mirrors()[0]
    if not archive:
        raise ReleaseError("no Debian archive in this machine's apt configuration; "
                           "set PYIMAGE_DEBIAN_MIRROR=URL")
    return archive[0]


def _records(text):
    for stanza in re.split(r"\n\s*\n", text):
        fields, key = {}, None
        for line in stanza.splitlines():
            if line[:1] in (" ", "\t") and key:
                fields[key] += "\n" + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip()
                fields[key] = value.strip()
        if fields:
            yield fields


def _orig_sha256(fields, upstream):
    """(file name, sha256) of the orig tarball in a Sources or .dsc record, or None."""
    for line in fields.get("Checksums-Sha256", "").splitlines():
        parts = line.split()
        if len(parts) == 3 and re.match(r"^python3\.\d+_%s\.orig\.tar\.(xz|gz)$" % re.escape(upstream), parts[2]):
            if not re.match(r"^[0-9a-f]{64}$", parts[0]):
                raise ReleaseError("the sha256 of %s in Debian's index is not 64 hex digits: %r" % (parts[2], parts[0]))
            return parts[2], parts[0]
    return None


def releases_in_sources(text, evidence):
    """[Release] of the python3.X records of one Sources index's text."""
    found = []
    for fields in _records(text):
        m = re.match(r"^python(3\.\d+)$", fields.get("Package", ""))
        version_field = fields.get("Version", "")
        if not m:
            continue
        upstream = re.sub(r"^\d+:", "", version_field).rsplit("-", 1)[0]
        version = python_org(upstream)
        if not version or minor_of(version) != m.group(1):
            continue
        orig = _orig_sha256(fields, upstream)
        if not orig:
            continue
        directory = fields.get("Directory", "pool/main/p/" + fields["Package"])
        found.append(Release(version, m.group(1), "%s/%s" % (directory, orig[0]), orig[1],
                             evidence % ("%s %s" % (fields["Package"], version_field))))
    return found


def listed():
    """{version: Release} of every CPython release Debian's SOURCE_SUITES list (signed indexes)."""
    found = {}
    with tempfile.TemporaryDirectory(prefix="pyimage-cpython-src.") as root:
        apt = apt_lock.PrivateApt(root, "", "amd64", source_suites=SOURCE_SUITES)
        out = apt.run("update", "-q")
        if out.returncode != 0 or re.search(r"^E: ", out.stdout, re.M):
            raise ReleaseError("apt-get update of Debian's source indexes failed:\n%s" % out.stdout[-1500:])
        lists = os.path.join(root, "var/lib/apt/lists")
        for name in sorted(os.listdir(lists)):
            if not name.endswith("_Sources"):
                continue
            suite = re.search(r"_dists_([^_]+)_", name)
            with open(os.path.join(lists, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            evidence = "Debian's Sources index of %s (signed Release): %%s" % (suite.group(1) if suite else name)
            for release in releases_in_sources(text, evidence):
                found.setdefault(release.version, release)
    return found


def _http(url, method="GET"):
    try:
        return urllib.request.urlopen(urllib.request.Request(url, method=method), timeout=120)
    except urllib.error.HTTPError as err:
        if err.code in (404, 410):
            raise NotServed("%s: HTTP %s" % (url, err.code)) from err
        raise ReleaseError("%s: HTTP %s" % (url, err.code)) from err
    except OSError as err:
        raise ReleaseError("%s: %s" % (url, err)) from err


def exists(path, base=None):
    """True when the mirror serves `path` (a path in the archive such as a pool file)."""
    try:
        with _http("%s/%s" % (base or mirror(), path), "HEAD"):
            return True
    except NotServed:
        return False


def served(release, base=None):
    """True when the mirror serves the release's orig tarball."""
    return exists(release.orig, base)


def download(url, dest):
    """Downloads url to dest; returns its sha256."""
    digest = hashlib.sha256()
    with _http(url) as resp, open(dest, "wb") as out:
        try:
            for chunk in iter(lambda: resp.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
        except OSError as err:
            raise ReleaseError("%s: %s" % (url, err)) from err
    return digest.hexdigest()


def upload_keyrings(root):
    """The keyrings of Debian's uploaders, from the debian-keyring package, fetched and checked by apt."""
    apt = apt_lock.PrivateApt(os.path.join(root, "apt"), KEYRING_SUITE, "amd64")
    apt.update()
    debs = os.path.join(root, "debs")
    os.makedirs(debs)
    out = apt.run("download", "-q", "debian-keyring", cwd=debs)
    found = glob.glob(os.path.join(debs, "debian-keyring_*.deb"))
    if out.returncode != 0 or len(found) != 1:
        raise ReleaseError("apt-get download debian-keyring (Debian %s) failed:\n%s" % (KEYRING_SUITE, out.stdout[-1500:]))
    tree = os.path.join(root, "keyring")
    out = subprocess.run(["dpkg-deb", "-x", found[0], tree], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        raise ReleaseError("dpkg-deb -x %s failed: %s" % (os.path.basename(found[0]), out.stdout))
    keyrings = [os.path.join(tree, "usr/share/keyrings", k) for k in ("debian-keyring.gpg", "debian-maintainers.gpg")]
    keyrings = [k for k in keyrings if os.path.exists(k)]
    if not keyrings:
        raise ReleaseError("%s holds no debian-keyring.gpg" % os.path.basename(found[0]))
    return keyrings, os.path.basename(found[0])


def verify_clearsigned(path, keyrings):
    """The text of a clearsigned file that gpgv verified against the keyrings, and the signer."""
    gpgv = shutil.which("gpgv")
    if not gpgv:
        raise ReleaseError("gpgv is not installed (Debian's package gpgv); it checks the .dsc's signature")
    signed = path + ".verified"
    cmd = [gpgv, "--output", signed] + [a for k in keyrings for a in ("--keyring", k)] + [path]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        raise ReleaseError("gpgv refused the signature of %s:\n%s" % (os.path.basename(path), out.stdout.strip()))
    signer = re.search(r'Good signature from "([^"<]+)', out.stdout)
    with open(signed, encoding="utf-8") as f:
        return f.read(), signer.group(1).strip() if signer else "a key of debian-keyring"


def from_dsc(version, work, keyrings=None, base=None):
    """The Release of `version` from its upload's signed .dsc in the pool, or None when the pool has none.

    `keyrings` is (paths, what) from upload_keyrings(); fetched into `work` when None."""
    base = base or mirror()
    minor = minor_of(version)
    upstream = debian_upstream(version)
    pool = "pool/main/p/python%s" % minor
    for revision in range(1, MAX_REVISION + 1):
        name = "python%s_%s-%d.dsc" % (minor, upstream, revision)
        dest = os.path.join(work, name)
        try:
            download("%s/%s/%s" % (base, pool, name), dest)
        except NotServed:
            continue
        if keyrings is None:
            keyrings = upload_keyrings(os.path.join(work, "keyring"))
        text, signer = verify_clearsigned(dest, keyrings[0])
        fields = next(_records(text), {})
        if fields.get("Source") != "python" + minor or fields.get("Version") != "%s-%d" % (upstream, revision):
            raise ReleaseError("%s is signed but describes %s %s" % (name, fields.get("Source"), fields.get("Version")))
        orig = _orig_sha256(fields, upstream)
        if not orig:
            raise ReleaseError("%s names no python%s_%s.orig.tar.* tarball" % (name, minor, upstream))
        return Release(version, minor, "%s/%s" % (pool, orig[0]), orig[1],
                       "%s, signed by %s (%s)" % (name, signer, keyrings[1]))
    return None


def dsc_paths(version):
    """The pool paths where the .dsc of an upload of `version` would be (revisions 1 to MAX_REVISION)."""
    minor = minor_of(version)
    return ["pool/main/p/python%s/python%s_%s-%d.dsc" % (minor, minor, debian_upstream(version), r)
            for r in range(1, MAX_REVISION + 1)]


def orig_paths(version):
    """The pool paths where Debian's copy of python.org's tarball of `version` would be."""
    minor = minor_of(version)
    return ["pool/main/p/python%s/python%s_%s.orig.tar.%s" % (minor, minor, debian_upstream(version), ext)
            for ext in ("xz", "gz")]


def candidates(minor, above, upto):
    """The versions of `minor` newer than `above` (None: any) and not newer than `upto`, newest first.

    Pre-releases are candidates only for the line's first release (MINOR.0a1 to MINOR.0rc3)."""
    top = parse_version(upto)
    found = []
    for micro in range(top[2], -1, -1):
        found.append("%s.%d" % (minor, micro))
        if micro == 0:
            found += ["%s.0%s%d" % (minor, stage, n) for stage, last in (("rc", 3), ("b", 4), ("a", 7))
                      for n in range(last, 0, -1)]
    return [v for v in found if version_key(v) <= version_key(upto) and
            (above is None or version_key(v) > version_key(above))]


def newest_listed(listed):
    """{minor: newest release Debian lists} (finals; pre-releases where a line has no final yet)."""
    lines = {}
    for version in listed:
        minor = minor_of(version)
        if minor not in lines or version_key(version) > version_key(lines[minor]):
            lines[minor] = version
    return lines


def followed_lines(versions, listed):
    """The lines to look for releases of, oldest first: those of `versions` (a version table's)
    and every newer line Debian lists."""
    lines = {minor_of(v) for v in versions}
    top = max(lines, key=minor_key)
    lines |= {m for m in newest_listed(listed) if minor_key(m) > minor_key(top)}
    return sorted(lines, key=minor_key)


Servable = collections.namedtuple("Servable", [
    "version",      # the newest release of the line that the mirror serves and a .dsc or Sources vouches for, or None
    "not_served",   # newer releases Debian lists whose tarball the mirror does not serve
    "not_vouched",  # newer releases whose tarball is served, with no signed .dsc or Sources record of them
])


def servable(minor, above, listed, base):
    """The Servable of `minor` above the release `above` (None: any release of the line)."""
    upto = newest_listed(listed).get(minor)
    not_served, not_vouched = [], []
    for version in candidates(minor, above, upto) if upto else []:
        if not any(exists(p, base) for p in orig_paths(version)):
            if version in listed:
                not_served.append(version)
            continue
        if version in listed or any(exists(p, base) for p in dsc_paths(version)):
            return Servable(version, not_served, not_vouched)
        not_vouched.append(version)
    return Servable(None, not_served, not_vouched)
