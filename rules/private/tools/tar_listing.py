"""Lists a tar's entries, one line each, to compare with a committed listing.

In:  a tar. Out: lines `path type mode uid:gid size sha256` (sha256 of a file's content, `-` for
others; a symlink shows `-> target`), sorted as in the tar.

Usage: tar_listing.py list TAR                    prints the listing
       tar_listing.py check TAR GOLDEN CMD        fails with a diff and CMD when they differ
       tar_listing.py update TAR GOLDEN           rewrites GOLDEN (under BUILD_WORKSPACE_DIRECTORY)
"""

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
    if len(argv) >= 2 and argv[0] == "list":
        print("\n".join(listing(argv[1])))
        return 0
    if len(argv) == 4 and argv[0] == "check":
        tar, golden, command = argv[1:]
        with open(golden) as f:
            want = f.read().splitlines()
        got = listing(tar)
        if got == want:
            print("%s matches %s (%d entries)" % (tar, golden, len(got)))
            return 0
        sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(want, got, golden, "built", n=0))
        print("ERROR: the layer differs from %s (diff above). If the change is intended, run: %s" % (golden, command))
        return 1
    if len(argv) == 3 and argv[0] == "update":
        tar, golden = argv[1:]
        golden = os.path.join(os.environ.get("BUILD_WORKSPACE_DIRECTORY", ""), golden)
        tmp = golden + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(listing(tar)) + "\n")
        os.replace(tmp, golden)
        print("wrote %s" % golden)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
