"""Lists a tar's entries, one line each, to compare with a committed listing.

In:  a tar. Out: lines `path type mode uid:gid size sha256` (sha256 of a file's content, `-` for
others; a symlink shows `-> target`), sorted as in the tar.

Usage: tar_listing.py list --tar TAR                                       prints the listing
       tar_listing.py check --tar TAR --listing GOLDEN --update-command CMD  fails with a diff and CMD when they differ
       tar_listing.py update --tar TAR --listing GOLDEN                      rewrites GOLDEN (under BUILD_WORKSPACE_DIRECTORY)
"""

import argparse
import difflib
import hashlib
import os
import sys
import tarfile

KINDS = {tarfile.REGTYPE: "file", tarfile.DIRTYPE: "dir", tarfile.SYMTYPE: "link"}


def listing(path):
    lines = []
    with tarfile.open(path) as tar:
        for m in tar:
            digest = "-"
            if m.isreg():
                digest = hashlib.sha256(tar.extractfile(m).read()).hexdigest()
            extra = " -> " + m.linkname if m.issym() else ""
            lines.append("%s %s %04o %d:%d %d %s%s" % (
                m.name, KINDS.get(m.type, repr(m.type)), m.mode, m.uid, m.gid, m.size, digest, extra))
    return lines


def main(argv):
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("mode", choices=["list", "check", "update"])
    parser.add_argument("--tar", required=True)
    parser.add_argument("--listing")
    parser.add_argument("--update-command", default="")
    args = parser.parse_args(argv)
    got = listing(args.tar)
    if args.mode == "list":
        print("\n".join(got))
        return 0
    if not args.listing:
        parser.error("%s needs --listing" % args.mode)
    if args.mode == "check":
        with open(args.listing) as f:
            want = f.read().splitlines()
        if got == want:
            print("%s matches %s (%d entries)" % (args.tar, args.listing, len(got)))
            return 0
        sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(want, got, args.listing, "built", n=0))
        print("ERROR: the layer differs from %s (diff above). If the change is intended, run: %s" % (args.listing, args.update_command))
        return 1
    golden = os.path.join(os.environ.get("BUILD_WORKSPACE_DIRECTORY", ""), args.listing)
    tmp = golden + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(got) + "\n")
    os.replace(tmp, golden)
    print("wrote %s" % golden)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
