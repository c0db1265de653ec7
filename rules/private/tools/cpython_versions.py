"""Adds CPython releases to the version table (toolchains/versions.bzl), verified through Debian's archive.

`bazel run //toolchains:versions.update [-- RELEASE_OR_LINE ...]`

In:  the table; releases (3.14.7, 3.15.0rc1) or lines (3.14: its newest release that can be
     fetched and verified here); no argument: every line of the table and every newer line that
     Debian lists. This machine's apt configuration gives the archive.
Out: one line per new release in the table: python.org's URL, the sha256, the tarball's path in
     Debian's pool (`debian_orig`, where tools/mirror_cpython.py fetches it from) and what
     vouched for the hash. The table is rewritten newest first (a line's newest release first),
     in one rename; nothing is written unless every release asked for was verified.

A release is written only when (1) its sha256 comes from text a Debian signature covers
(cpython_releases: the signed Sources index, or the upload's .dsc signed by its uploader) and
(2) the tarball that this machine's mirror serves has that sha256. What Debian lists but the
mirror does not serve is named ("listed, not served here") and not written. No hash is typed.

`check` instead verifies the table as it is (`bazel test //toolchains:versions_test`): the hash
of every entry that names a Debian copy (`debian_orig`) must be the one a signature vouches for,
and the mirror must serve that file.

Run from a workspace that uses the rules (`bazel run @rules_pyimage//toolchains:versions.update`),
it verifies the same way against rules_pyimage's table and prints the entries for that
workspace's `extra_versions` (module) or `cpython_versions` (WORKSPACE) instead of writing.

Usage: cpython_versions.py update|check --table FILE [--update-command CMD] [--dry-run] [RELEASE_OR_LINE ...]
"""

import argparse
import ast
import datetime
import json
import os
import re
import sys
import tempfile

from rules.private.tools import cpython_releases as cr

_TABLE = re.compile(r"^CPYTHON_VERSIONS = (\{.*?^\})", re.S | re.M)
_FIELDS = ["url", "sha256", "debian_orig", "confirmed"]


def read_table(path):
    with open(path) as f:
        text = f.read()
    match = _TABLE.search(text)
    if not match:
        raise cr.ReleaseError("%s has no CPYTHON_VERSIONS = {...} table" % path)
    return text, match, ast.literal_eval(match.group(1))


def render(table):
    """The table's text, newest release first, one line per release."""
    lines = ["CPYTHON_VERSIONS = {"]
    for version in sorted(table, key=cr.version_key, reverse=True):
        entry = table[version]
        keys = [k for k in _FIELDS if k in entry] + sorted(k for k in entry if k not in _FIELDS)
        fields = ", ".join("%s: %s" % (json.dumps(k), json.dumps(entry[k])) for k in keys)
        lines.append("    %s: {%s}," % (json.dumps(version), fields))
    return "\n".join(lines + ["}"])


def write_table(path, text, match, table):
    new = text[:match.start()] + render(table) + text[match.end():]
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".versions.bzl.")
    with os.fdopen(fd, "w") as f:
        f.write(new)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def vouched(version, listed, work, keyrings, base):
    """The Release of `version` from a signed Sources index or its signed .dsc, or None.

    `keyrings` is a one-item list: the uploaders' keyrings, fetched into it at the first need."""
    release = listed.get(version)
    if release is None:
        if keyrings[0] is None:
            keyrings[0] = cr.upload_keyrings(os.path.join(work, "keyring"))
        release = cr.from_dsc(version, work, keyrings[0], base)
    return release


def verify(version, listed, work, keyrings, base):
    """The Release of `version`, its hash vouched for by a signature and matched by the mirror's file."""
    release = vouched(version, listed, work, keyrings, base)
    if release is None:
        raise cr.ReleaseError("CPython %s: no Debian Sources index lists it and the pool has no signed "
                              ".dsc of it (%s); nothing vouches for a hash, so it is not written"
                              % (version, ", ".join(os.path.basename(p) for p in cr.dsc_paths(version)[:2]) + ", ..."))
    dest = os.path.join(work, os.path.basename(release.orig))
    try:
        got = cr.download("%s/%s" % (base, release.orig), dest)
    except cr.NotServed as err:
        raise cr.ReleaseError("CPython %s: listed, not served here (%s); it builds where python.org is "
                              "reachable, but this machine cannot fetch it" % (version, err)) from err
    if got != release.sha256:
        raise cr.ReleaseError("CPython %s: the mirror's %s has sha256 %s, but %s says %s: refused" %
                              (version, release.orig, got, release.evidence, release.sha256))
    os.unlink(dest)
    return release


def check(table, listed, work, base):
    """Problems of the table's entries against what Debian's signatures vouch for ([] when none)."""
    problems, keyrings = [], [None]
    for version in sorted(table, key=cr.version_key, reverse=True):
        orig = table[version].get("debian_orig")
        if not orig:
            print("CPython %s: no debian_orig, not checked" % version)
            continue
        release = vouched(version, listed, work, keyrings, base)
        if release is None:
            problems.append("CPython %s: nothing in Debian's archive vouches for its hash any more" % version)
        elif (release.sha256, release.orig) != (table[version]["sha256"], orig):
            problems.append("CPython %s: the table has %s at %s; %s says %s at %s" % (
                version, table[version]["sha256"], orig, release.evidence, release.sha256, release.orig))
        elif not cr.served(release, base):
            problems.append("CPython %s: this machine's mirror no longer serves %s" % (version, orig))
        else:
            print("CPython %s: sha256 %s vouched for by %s; served" % (version, release.sha256, release.evidence))
    return problems


def entry(release, today):
    return {
        "url": cr.python_org_url(release.version, release.orig),
        "sha256": release.sha256,
        "debian_orig": release.orig,
        "confirmed": "sha256 from %s; the mirror's %s matched, %s" % (
            release.evidence, os.path.basename(release.orig), today),
    }


def pick(want, table, listed, base, notes):
    """The release to verify for `want` (a release, or a line: its newest servable), or None;
    what it passes over goes to `notes`."""
    if not re.match(r"^3\.\d+$", want):
        cr.parse_version(want)
        if want in table:
            notes.append("CPython %s: already in the table" % want)
            return None
        return want
    above = cr.newest_of(table, want)
    found = cr.servable(want, above, listed, base)
    notes += ["CPython %s: listed by Debian, not served here (the mirror has no %s)" %
              (v, os.path.basename(cr.orig_paths(v)[0])) for v in found.not_served]
    notes += ["CPython %s: served, but no signed .dsc in the pool vouches for it; not written" % v
              for v in found.not_vouched]
    if found.version is None:
        notes.append("CPython %s: nothing newer than %s that this machine can fetch and verify" % (want, above or "nothing"))
    return found.version


def consumer_entries(releases, table):
    """What a workspace that uses the rules adds to its own toolchains' declaration."""
    return ("This workspace has no version table of its own; rules_pyimage's is left as it is. To build "
            "these releases here, add them to your toolchains' declaration:\n"
            "  MODULE.bazel: pyimage.toolchains(..., extra_versions = {%s})\n"
            "  WORKSPACE:    pyimage_register_toolchains(..., cpython_versions = dict(CPYTHON_VERSIONS, **{%s}))" % (
                ", ".join('"%s": ["%s", "%s"]' % (r.version, table[r.version]["url"], r.sha256) for r in releases),
                ", ".join('"%s": {"url": "%s", "sha256": "%s"}' % (r.version, table[r.version]["url"], r.sha256)
                          for r in releases)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["update", "check"],
                        help="update: add releases to the table; check: verify the table's entries, add nothing")
    parser.add_argument("wanted", nargs="*", metavar="RELEASE_OR_LINE",
                        help="3.14.7 or 3.15.0rc1 (that release), 3.14 (its newest that verifies here); "
                             "none: every line of the table and every newer line Debian lists")
    parser.add_argument("--table", required=True,
                        help="the table (update: relative to the workspace `bazel run` started in)")
    parser.add_argument("--update-command", default="bazel run //toolchains:versions.update",
                        help="the command that updates the table, for messages")
    parser.add_argument("--dry-run", action="store_true", help="verify and print, write nothing")
    args = parser.parse_intermixed_args(argv)
    path = args.table
    if args.mode == "update":
        path = os.path.join(os.environ.get("BUILD_WORKSPACE_DIRECTORY", ""), args.table)
    today = datetime.date.today().isoformat()
    try:
        # Run in a workspace that uses the rules (no table of its own): verify against rules_pyimage's
        # table, in this tool's runfiles, and print the entries for that workspace; write nothing.
        consumer = not os.path.exists(path)
        if consumer:
            path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", args.table)
        text, match, table = read_table(path)
        base = cr.mirror()
        print("Reading which CPython releases Debian lists (signed Sources indexes of %s) ..." %
              ", ".join(cr.SOURCE_SUITES), file=sys.stderr)
        listed = cr.listed()
        with tempfile.TemporaryDirectory(prefix="pyimage-versions.") as work:
            if args.mode == "check":
                problems = check(table, listed, work, base)
                for problem in problems:
                    print(problem, file=sys.stderr)
                if problems:
                    print("Fix the table with: %s" % args.update_command, file=sys.stderr)
                return 1 if problems else 0
            notes, releases, keyrings = [], [], [None]
            for want in args.wanted or cr.followed_lines(table, listed):
                version = pick(want, table, listed, base, notes)
                if version:
                    print("Verifying CPython %s ..." % version, file=sys.stderr)
                    releases.append(verify(version, listed, work, keyrings, base))
        for release in releases:
            table[release.version] = entry(release, today)
            print("CPython %s: %s\n  sha256 %s, from %s" % (release.version, table[release.version]["url"],
                                                         release.sha256, release.evidence))
        print("\n".join(notes))
        if not releases:
            print("Nothing to add: %s is up to date with what this machine can fetch and verify." % args.table)
        elif consumer:
            print(consumer_entries(releases, table))
        elif not args.dry_run:
            write_table(path, text, match, table)
            print("Wrote %s. Build a new release with python_versions (WORKSPACE, MODULE.bazel); on a "
                  "machine without python.org, seed its tarball with: python3 tools/mirror_cpython.py "
                  "--versions %s" % (path, " ".join(r.version for r in releases)))
    except (cr.ReleaseError, OSError) as err:
        print("versions.update: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
