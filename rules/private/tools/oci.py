"""What the image tools share about OCI blobs (a library: no entry point): the sha256 of a file,
read in chunks, and the canonical JSON of a config, manifest or index (sorted keys, no spaces),
whose bytes the digests are taken of. make_image.py and make_sbom.py use both."""

import hashlib
import json


def sha256_file(path):
    """The hex sha256 of the file at path."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def canonical(obj):
    """obj as canonical JSON bytes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
