"""Checks a Bazel HTTP cache directory (DIR/cas/<sha256>, DIR/ac/<sha256>) for corruption:
every CAS blob hashes to its name, and every action-cache entry is a complete ActionResult
whose output files, directory trees and stdout/stderr blobs are all in the CAS with their sizes.

  check_http_cache.py DIR      prints a summary; exits 1 listing what is wrong
"""

import hashlib
import os
import sys


def fields(buf):
    """Decodes one protobuf message into (field number, wire type, value) triples."""
    out, i = [], 0

    def varint():
        nonlocal i
        shift = value = 0
        while True:
            if i >= len(buf):
                raise ValueError("truncated varint")
            b = buf[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value

    while i < len(buf):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            out.append((number, wire, varint()))
        elif wire == 2:
            n = varint()
            if i + n > len(buf):
                raise ValueError("truncated field %d" % number)
            out.append((number, wire, buf[i:i + n]))
            i += n
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("wire type %d" % wire)
    if i != len(buf):
        raise ValueError("trailing bytes")
    return out


def digest(msg):
    """A REAPI Digest: (hash, size_bytes)."""
    d = {n: v for n, _, v in fields(msg)}
    return d.get(1, b"").decode(), d.get(2, 0)


def referenced(result):
    """The CAS digests an ActionResult points at, as (is_tree, hash, size)."""
    refs = []
    for number, wire, value in fields(result):
        if number == 2 and wire == 2:  # OutputFile: path = 1, digest = 2
            refs += [(False,) + digest(v) for n, _, v in fields(value) if n == 2]
        elif number == 3 and wire == 2:  # OutputDirectory: path = 1, tree_digest = 3
            refs += [(True,) + digest(v) for n, _, v in fields(value) if n == 3]
        elif number in (6, 8) and wire == 2:  # stdout_digest, stderr_digest
            refs.append((False,) + digest(value))
    return refs


def tree_files(tree):
    """The file digests of a Tree (root = 1 and children = 2 are Directory messages, whose
    FileNodes (field 1) carry their digest in field 2)."""
    refs = []
    for number, _, directory in fields(tree):
        if number in (1, 2):
            for n, _, node in fields(directory):
                if n == 1:
                    refs += [digest(v) for m, _, v in fields(node) if m == 2]
    return refs


def main(root):
    problems = []
    cas = os.path.join(root, "cas")
    names = os.listdir(cas) if os.path.isdir(cas) else []
    sizes = {}
    for name in names:
        data = open(os.path.join(cas, name), "rb").read()
        if hashlib.sha256(data).hexdigest() != name:
            problems.append("cas/%s: its content hashes to %s" % (name, hashlib.sha256(data).hexdigest()))
        sizes[name] = len(data)
    ac = os.path.join(root, "ac")
    entries = os.listdir(ac) if os.path.isdir(ac) else []
    for name in entries:
        try:
            refs = referenced(open(os.path.join(ac, name), "rb").read())
        except ValueError as e:
            problems.append("ac/%s: not a complete ActionResult (%s)" % (name, e))
            continue
        trees = []
        for is_tree, h, size in refs:
            if size == 0:
                continue  # the empty blob is never stored
            if h not in sizes:
                problems.append("ac/%s: points at cas/%s, which is missing" % (name, h))
            elif sizes[h] != size:
                problems.append("ac/%s: cas/%s has %d bytes, not %d" % (name, h, sizes[h], size))
            elif is_tree:
                trees.append(h)
        for h in trees:  # an output directory's Tree: every file in it must be there too
            try:
                files = tree_files(open(os.path.join(cas, h), "rb").read())
            except (ValueError, UnicodeDecodeError) as e:
                problems.append("ac/%s: cas/%s is not a Tree (%s)" % (name, h, e))
                continue
            for fh, size in files:
                if size and sizes.get(fh) != size:
                    problems.append("ac/%s: tree cas/%s lists cas/%s (%d bytes), which is missing" % (name, h, fh, size))
    leftovers = [os.path.join(dp, f) for dp, _, fs in os.walk(root) for f in fs
                 if os.path.basename(dp) not in ("cas", "ac")]
    problems += ["stray file %s" % p for p in leftovers]
    if problems:
        sys.exit("FAIL: the cache at %s is corrupt:\n  %s" % (root, "\n  ".join(problems[:20])))
    print("ok: cache intact: %d CAS blobs hash to their names, %d action results complete" % (len(names), len(entries)))


if __name__ == "__main__":
    main(sys.argv[1])
