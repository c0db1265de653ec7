"""Assembles an OCI image from layer tars: gzip layers, config, manifest, index, docker-archive.

In:  the layers' uncompressed tars (base first) and their gzipped blobs (made by `gzip` mode, one
     action per layer so that an unchanged layer is a cache hit), the config values as JSON
     (`config`, `annotations`, `layer_names`, and the platform's `os` and `architecture`).
Out: an OCI image layout directory (oci-layout, index.json, blobs/sha256/...) and a docker-archive
     tar (manifest.json, config, layers) that `docker load` and `podman load` take. Everything is
     deterministic: the creation time is fixed, JSON keys sorted, gzip without name or mtime.

Usage: make_image.py gzip TAR OUT.tar.gz
       make_image.py image --config-json F --layout DIR --archive F.tar --repo-tag NAME:TAG --ref-name TAG
                     --layer TAR=GZ [--layer ...]
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

from rules.private.tools.oci import canonical, sha256_file

EPOCH_ISO = "1980-01-01T00:00:00Z"
LAYER_MEDIA = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_MEDIA = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA = "application/vnd.oci.image.manifest.v1+json"


def gzip_layer(src, dest):
    tmp = dest + ".tmp"
    with open(src, "rb") as fin, open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz:
            shutil.copyfileobj(fin, gz, 1 << 20)
    os.replace(tmp, dest)


def read_status(paths):
    """Bazel's workspace status files (KEY VALUE lines), merged."""
    status = {}
    for path in paths:
        with open(path) as f:
            for line in f:
                key, _, value = line.rstrip("\n").partition(" ")
                status[key] = value
    return status


def build(args):
    with open(args.config_json) as f:
        spec = json.load(f)
    created = EPOCH_ISO
    if args.stamp_file:  # only with --stamp: the revision and the build time
        import datetime
        status = read_status(args.stamp_file)
        labels = spec["config"].setdefault("Labels", {})
        revision = status.get("STABLE_BUILD_SCM_REVISION")
        if revision:
            labels["org.opencontainers.image.revision"] = revision
        if status.get("BUILD_TIMESTAMP"):
            created = datetime.datetime.fromtimestamp(int(status["BUILD_TIMESTAMP"]), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            labels["org.opencontainers.image.created"] = created
    layers = []
    for pair in args.layer:
        tar, gz = pair.split("=", 1)
        layers.append({"diff_id": "sha256:" + sha256_file(tar), "digest": "sha256:" + sha256_file(gz),
                       "size": os.path.getsize(gz), "path": gz, "name": spec["layer_names"][len(layers)]})
    config = {
        "architecture": spec["architecture"],
        "os": spec["os"],
        "created": created,
        "config": spec["config"],
        "rootfs": {"type": "layers", "diff_ids": [l["diff_id"] for l in layers]},
        "history": [{"created": EPOCH_ISO, "created_by": "rules_pyimage: " + l["name"]} for l in layers],
    }
    config_bytes = canonical(config)
    config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA,
        "config": {"mediaType": CONFIG_MEDIA, "digest": config_digest, "size": len(config_bytes)},
        "layers": [{"mediaType": LAYER_MEDIA, "digest": l["digest"], "size": l["size"]} for l in layers],
        "annotations": spec.get("annotations", {}),
    }
    manifest_bytes = canonical(manifest)
    manifest_digest = "sha256:" + hashlib.sha256(manifest_bytes).hexdigest()
    index = {
        "schemaVersion": 2,
        "manifests": [{"mediaType": MANIFEST_MEDIA, "digest": manifest_digest, "size": len(manifest_bytes),
                       "annotations": {"org.opencontainers.image.ref.name": args.ref_name}}],
    }

    blobs = os.path.join(args.layout, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    with open(os.path.join(args.layout, "oci-layout"), "wb") as f:
        f.write(canonical({"imageLayoutVersion": "1.0.0"}))
    with open(os.path.join(args.layout, "index.json"), "wb") as f:
        f.write(canonical(index))
    for digest, data in [(config_digest, config_bytes), (manifest_digest, manifest_bytes)]:
        with open(os.path.join(blobs, digest.split(":")[1]), "wb") as f:
            f.write(data)
    for l in layers:
        shutil.copyfile(l["path"], os.path.join(blobs, l["digest"].split(":")[1]))

    # docker-archive: the same config and (gzipped) layers, with Docker's manifest.json.
    docker_manifest = [{"Config": "blobs/sha256/" + config_digest.split(":")[1],
                        "RepoTags": [args.repo_tag],
                        "Layers": ["blobs/sha256/" + l["digest"].split(":")[1] for l in layers]}]
    tmp = args.archive + ".tmp"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        def add(name, data=None, path=None):
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = 0, 0, 0, "", "", 0o644
            if path:
                info.size = os.path.getsize(path)
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        add("blobs/sha256/" + config_digest.split(":")[1], config_bytes)
        for l in layers:
            add("blobs/sha256/" + l["digest"].split(":")[1], path=l["path"])
        add("manifest.json", canonical(docker_manifest))
    os.replace(tmp, args.archive)
    with open(args.digest, "w") as f:
        f.write(manifest_digest + "\n")
    print("%s: %s, %d layers" % (args.repo_tag, manifest_digest, len(layers)))


def push_ref(layout, manifest_out, digest_out):
    """The manifest blob of the layout's one image, and its digest, as files of their own."""
    with open(os.path.join(layout, "index.json")) as f:
        (entry,) = json.load(f)["manifests"]
    with open(os.path.join(layout, "blobs", "sha256", entry["digest"].split(":", 1)[1]), "rb") as f:
        data = f.read()
    if "sha256:" + hashlib.sha256(data).hexdigest() != entry["digest"]:
        sys.exit("ERROR: %s: the manifest blob does not hash to %s" % (layout, entry["digest"]))
    with open(manifest_out, "wb") as f:
        f.write(data)
    with open(digest_out, "w") as f:
        f.write(entry["digest"] + "\n")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "gzip":
        gzip_layer(argv[1], argv[2])
        return
    if argv and argv[0] == "push-ref":
        push_ref(argv[1], argv[2], argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["image"])
    parser.add_argument("--config-json", required=True)
    parser.add_argument("--layout", required=True)
    parser.add_argument("--archive", required=True)
    parser.add_argument("--digest", required=True)
    parser.add_argument("--repo-tag", required=True)
    parser.add_argument("--ref-name", required=True, help="the layout's tag (org.opencontainers.image.ref.name)")
    parser.add_argument("--layer", action="append", required=True)
    parser.add_argument("--stamp-file", action="append", default=[])
    build(parser.parse_args(argv))


if __name__ == "__main__":
    main()
