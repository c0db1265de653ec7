"""The Debian mirrors of this machine's apt configuration: the one place rules_pyimage reads it.

In:  /etc/apt/sources.list and /etc/apt/sources.list.d/*.list (one-line format, options in
     brackets allowed) and /etc/apt/sources.list.d/*.sources (deb822), under --root.
Out: as a module, `host_mirrors()` -> (archive URIs, security URIs, keyring or None); run as a
     program, the same as JSON: {"archive": [...], "security": [...], "keyring": ...}.
     PYIMAGE_DEBIAN_MIRROR and PYIMAGE_DEBIAN_SECURITY_MIRROR, when set, replace what apt names
     (`mirrors()`, and the program).

Used by the Debian repository rule (download.bzl runs this program), debian_lock.py,
tools/mirror_cpython.py, tools/bazel7.sh and the bench scripts.

Usage: apt_sources.py [--root DIR] [--no-env]
"""

import argparse
import glob
import json
import os
import re
import sys

_ONE_LINE = re.compile(r"^\s*(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)")


def entries(root="/"):
    """(type, uri, suites, signed-by) for every source of the apt configuration under `root`."""
    found = []
    etc = os.path.join(root, "etc/apt")
    for path in sorted(glob.glob(os.path.join(etc, "sources.list.d/*.sources"))):
        with open(path) as f:
            text = f.read()
        for stanza in re.split(r"\n\s*\n", text):
            fields = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith((" ", "\t", "#")):
                    key, value = line.split(":", 1)
                    fields[key.strip().lower()] = value.strip()
            if fields.get("enabled", "yes").lower() == "no":
                continue
            for kind in fields.get("types", "").split():
                for uri in fields.get("uris", "").split():
                    found.append((kind, uri, fields.get("suites", ""), fields.get("signed-by") or None))
    for path in [os.path.join(etc, "sources.list")] + sorted(glob.glob(os.path.join(etc, "sources.list.d/*.list"))):
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                m = _ONE_LINE.match(line)
                if not m:
                    continue
                options = dict(o.split("=", 1) for o in (m.group(2) or "").split() if "=" in o)
                found.append((m.group(1), m.group(3), m.group(4), options.get("signed-by")))
    return found


def host_mirrors(root="/"):
    """(archive URIs, security URIs, keyring): the binary (`deb`) sources, first seen first."""
    archive, security, keyring = [], [], None
    for kind, uri, suites, signed_by in entries(root):
        if kind != "deb":
            continue
        uri = uri.rstrip("/")
        target = security if ("security" in suites or "security" in uri) else archive
        if uri not in target:
            target.append(uri)
        keyring = keyring or signed_by
    return archive, security, keyring


def mirrors(root="/", environ=None):
    """host_mirrors(), with PYIMAGE_DEBIAN_MIRROR / PYIMAGE_DEBIAN_SECURITY_MIRROR over it."""
    environ = os.environ if environ is None else environ
    archive, security, keyring = host_mirrors(root)
    if environ.get("PYIMAGE_DEBIAN_MIRROR"):
        archive = [environ["PYIMAGE_DEBIAN_MIRROR"].rstrip("/")]
    if environ.get("PYIMAGE_DEBIAN_SECURITY_MIRROR"):
        security = [environ["PYIMAGE_DEBIAN_SECURITY_MIRROR"].rstrip("/")]
    return archive, security, keyring


def main(argv=None):
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("--root", default="/")
    parser.add_argument("--no-env", action="store_true", help="ignore PYIMAGE_DEBIAN_*MIRROR")
    args = parser.parse_args(argv)
    archive, security, keyring = host_mirrors(args.root) if args.no_env else mirrors(args.root)
    json.dump({"archive": archive, "security": security, "keyring": keyring}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
