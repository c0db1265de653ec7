#!/usr/bin/env python3
"""Seeds Bazel's repository cache with CPython release tarballs from a mirror.

python.org may be out of reach (air-gapped hosts, CI behind a proxy). Bazel serves a download
from its repository cache when the sha256 matches, so the version table can keep python.org's URL
and hash while this script puts the identical file in the cache.

In:  toolchains/versions.bzl (version, python.org sha256, path in Debian's source pool); the
     mirror: --mirror URL (URL/<python.org file name>), else Debian's source pool under the
     Debian URIs of this machine's apt configuration.
Out: <repository cache>/content_addressable/sha256/<sha256>/file for each version, written only
     after its sha256 matched the table (a file with another hash is refused, nothing written).

Usage: python3 tools/mirror_cpython.py [--versions 3.13.15 3.11.2] [--repository-cache DIR]
Runs on the host's python3: it has to work before any interpreter is built.
"""

import argparse
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from rules.private.tools import apt_sources, cpython_releases, cpython_versions  # noqa: E402  (one reader of each)


def debian_uris():
    """The Debian archive URIs of this machine's apt configuration (not -security ones)."""
    return apt_sources.host_mirrors()[0]

def repository_cache():
    try:
        out = subprocess.run(["bazel", "info", "repository_cache"], cwd=ROOT, check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    except (OSError, subprocess.CalledProcessError) as err:
        raise SystemExit("mirror_cpython: could not ask bazel for its repository cache (%s); "
                         "pass --repository-cache DIR" % err) from err
    return out.stdout.strip()


def fetch(url, dest):
    """Downloads url to dest; returns its sha256, or None when the mirror does not have it."""
    try:
        return cpython_releases.download(url, dest)
    except cpython_releases.ReleaseError as err:
        print("  %s" % err, file=sys.stderr)
        return None


def seed(version, entry, candidates, cache):
    sha = entry["sha256"]
    target = os.path.join(cache, "content_addressable", "sha256", sha, "file")
    name = entry["url"].rsplit("/", 1)[-1]
    if os.path.exists(target):
        print("CPython %s: %s is already in the repository cache" % (version, name))
        return True
    os.makedirs(os.path.dirname(target), exist_ok=True)
    for url in candidates:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".partial-")
        os.close(fd)
        try:
            got = fetch(url, tmp)
            if got is None:
                continue
            if got != sha:
                print("CPython %s: REFUSED %s: sha256 %s, the table pins %s (python.org's)" %
                      (version, url, got, sha), file=sys.stderr)
                continue
            os.replace(tmp, target)
            print("CPython %s: %s seeded from %s (sha256 %s)" % (version, name, url, sha))
            return True
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", nargs="*", help="versions to seed (default: all in the table)")
    parser.add_argument("--mirror", action="append", default=[],
                        help="a base URL serving python.org's file names (repeatable)")
    parser.add_argument("--repository-cache", help="Bazel's repository cache (default: bazel info)")
    args = parser.parse_args(argv)

    table = cpython_versions.read_table(os.path.join(ROOT, "toolchains", "versions.bzl"))[2]
    versions = args.versions or list(table)
    unknown = [v for v in versions if v not in table]
    if unknown:
        raise SystemExit("mirror_cpython: unknown version(s) %s; the table has %s" %
                         (", ".join(unknown), ", ".join(table)))
    cache = args.repository_cache or repository_cache()
    uris = [] if args.mirror else debian_uris()
    failed = []
    for v in versions:
        entry = table[v]
        name = entry["url"].rsplit("/", 1)[-1]
        candidates = [m.rstrip("/") + "/" + name for m in args.mirror]
        if entry.get("debian_orig"):
            candidates += [u + "/" + entry["debian_orig"] for u in uris]
        if not candidates:
            print("CPython %s: no mirror known (no --mirror, no Debian pool path)" % v, file=sys.stderr)
        if not seed(v, entry, candidates, cache):
            failed.append(v)
    if failed:
        raise SystemExit("mirror_cpython: could not seed %s. Pass --mirror URL of a mirror that serves "
                         "the identical python.org tarballs." % ", ".join(failed))


if __name__ == "__main__":
    main()
