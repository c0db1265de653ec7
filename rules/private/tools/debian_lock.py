"""Resolves a list of Debian packages into a lock with apt's own resolver, and checks a lock.

In:  a package list (one name a line, `#` comments), the release (e.g. bookworm) and architecture;
     the mirrors: this machine's apt configuration (its Debian URIs and keyrings), or
     PYIMAGE_DEBIAN_MIRROR / PYIMAGE_DEBIAN_SECURITY_MIRROR.
Out: `update` writes the lock (JSON: every package with its dependencies, each with name, version,
     architecture, sha256, size, path in the archive and suite) through a temporary name, and prints
     what changed (old -> new, security updates marked). `check` fails, naming the update command,
     when the lock does not match the list or when apt would now resolve other versions.

apt runs with a private configuration and state directory (an empty dpkg status), so the host's
installed packages play no part: the resolution is that of an empty system of that release.

Usage: debian_lock.py update|check --list FILE --lock FILE --release R --arch A --update-command CMD
"""

import argparse
import os
import sys

from rules.private.tools.apt_lock import LockError, changes, list_digest, read_list, read_lock, resolve_lock, write_json_atomic


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["update", "check"])
    parser.add_argument("--list", required=True)
    parser.add_argument("--lock", required=True)
    parser.add_argument("--release", required=True)
    parser.add_argument("--arch", required=True)
    parser.add_argument("--update-command", required=True)
    args = parser.parse_args(argv)

    base = os.environ.get("BUILD_WORKSPACE_DIRECTORY", "") if args.mode == "update" else ""
    list_path = os.path.join(base, args.list)
    lock_path = os.path.join(base, args.lock)
    fix = "Run: " + args.update_command
    try:
        names, excluded = read_list(list_path)
        old = read_lock(lock_path)
        if args.mode == "check":
            if old is None:
                raise LockError("%s is missing or empty. %s" % (args.lock, fix))
            if old.get("input_digest") != list_digest(names, excluded, args.release, args.arch):
                raise LockError("%s does not match %s (a package was added or removed, or the "
                                "release changed). %s" % (args.lock, args.list, fix))
        new = resolve_lock(names, excluded, args.release, args.arch)
    except LockError as err:
        message = str(err)
        sys.exit("ERROR: " + (message if fix in message else "%s. %s" % (message, fix)))

    diff = changes(old, new)
    if args.mode == "update":
        write_json_atomic(lock_path, new)
        print("%s: %d packages for Debian %s/%s" % (args.lock, len(new["packages"]), args.release, args.arch))
        print("\n".join(diff) if diff else "  no changes")
        return
    if diff:
        print("%s is stale: apt now resolves %s differently:" % (args.lock, args.list))
        print("\n".join(diff))
        sys.exit("ERROR: stale lock %s. %s" % (args.lock, fix))
    print("%s is up to date (%d packages)" % (args.lock, len(new["packages"])))


if __name__ == "__main__":
    main()
