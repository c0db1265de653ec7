"""Compares an image's digests with the committed ones: the same commit, the same image, anywhere.

In:  an OCI image layout (as py_image builds it) and the committed digests file. The layers are
     named as the image's config history names them (`rules_pyimage: NAME`: base, python, venv,
     one per package or group, app), or by --layer-names.
Out: `check` passes when the manifest, config and every layer (compressed and uncompressed) have
     the committed digests; otherwise it names the layers and fields that differ and the command
     that records new digests on purpose, and exits 1. `update` rewrites the file (under
     BUILD_WORKSPACE_DIRECTORY). `list` prints what `update` would write.

Usage: image_digests.py list|check|update --layout DIR --digests FILE [--layer-names a,b,c]
                        [--label LABEL] [--update-command CMD]
"""

import argparse
import json
import os
import sys

HEADER = """# The digests of {label}, the same on every machine that builds this commit (see
# docs/team.md, "The same digest everywhere"). A build that gives others fails the test; record new
# ones on purpose, after a change that should alter the image, with:
#   {command}
"""


def blob(layout, digest):
    algo, _, hexdigest = digest.partition(":")
    with open(os.path.join(layout, "blobs", algo, hexdigest), "rb") as f:
        return json.load(f)


def digests(layout, names):
    """[(key, value)] of the image: manifest, config, then each layer's blob and diff_id."""
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    if len(index.get("manifests", [])) != 1:
        raise ValueError("%s/index.json should list one manifest" % layout)
    manifest_digest = index["manifests"][0]["digest"]
    manifest = blob(layout, manifest_digest)
    config_digest = manifest["config"]["digest"]
    config = blob(layout, config_digest)
    layers = [l["digest"] for l in manifest["layers"]]
    diff_ids = config["rootfs"]["diff_ids"]
    if not names:
        prefix = "rules_pyimage: "
        names = [h.get("created_by", "") for h in config.get("history", [])]
        if not all(n.startswith(prefix) for n in names):
            raise ValueError("its config's history does not name every layer (give --layer-names)")
        names = [n[len(prefix):] for n in names]
    if len(layers) != len(names) or len(diff_ids) != len(names):
        raise ValueError("%s has %d layers, but %d names were given (%s)" % (layout, len(layers), len(names), ",".join(names)))
    out = [("manifest", manifest_digest), ("config", config_digest)]
    for name, layer, diff_id in zip(names, layers, diff_ids):
        out.append(("layer %s gzip" % name, layer))
        out.append(("layer %s tar" % name, diff_id))
    return out


def read(path):
    got = []
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                key, _, value = line.rpartition(" ")
                got.append((key, value))
    return got


def render(entries, label, command):
    return HEADER.format(label=label, command=command) + "".join("%s %s\n" % e for e in entries)


def main(argv=None):
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("mode", choices=["list", "check", "update"])
    parser.add_argument("--layout", required=True)
    parser.add_argument("--digests", required=True)
    parser.add_argument("--layer-names", default="", help="default: the names in the config's history")
    parser.add_argument("--label", default="the image")
    parser.add_argument("--update-command", default="")
    args = parser.parse_args(argv)
    try:
        got = digests(args.layout, [n for n in args.layer_names.split(",") if n])
    except (OSError, ValueError, KeyError) as err:
        sys.exit("ERROR: %s: not an image layout py_image made: %s" % (args.layout, err))
    if args.mode == "list":
        sys.stdout.write(render(got, args.label, args.update_command))
        return 0
    if args.mode == "check":
        try:
            want = dict(read(args.digests))
        except OSError as err:
            sys.exit("ERROR: cannot read %s (%s); write it with: %s" % (args.digests, err, args.update_command))
        differ = [(k, want.get(k, "(none)"), v) for k, v in got if want.get(k) != v]
        if not differ:
            print("ok: %s has the committed digests of %s: manifest %s" % (args.label, args.digests, got[0][1]))
            return 0
        for key, old, new in differ:
            print("  %s: committed %s, built %s" % (key, old, new))
        layers = sorted({k.split(" ")[1] for k, _, _ in differ if k.startswith("layer ")})
        print("ERROR: %s differs from the digests committed in %s: %s. The same commit must give the same "
              "image on every machine; if this change is intended, record the new digests with: %s" % (
                  args.label, args.digests,
                  ("the %s layer%s" % (", ".join(layers), "s" if len(layers) > 1 else "")) if layers else "the config",
                  args.update_command))
        return 1
    path = os.path.join(os.environ.get("BUILD_WORKSPACE_DIRECTORY", ""), args.digests)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(render(got, args.label, args.update_command))
    os.replace(tmp, path)
    print("wrote %s: manifest %s" % (path, got[0][1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
