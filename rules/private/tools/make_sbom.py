"""Writes an image's SBOM (SPDX 2.3 JSON) and its provenance (an in-toto statement with a SLSA
provenance v1 predicate) from what the image is made of.

In:  the image's manifest digest; the base layer tar as the image holds it, after trim_base (its
     dpkg status entries say which Debian packages it holds), the .deb files it was made from and
     trim_base's list of what it left out (the packages it left out whole are not in the SBOM); the interpreter's runtime tar (its
     sysconfig gives the configure options), version, and source tarball URL and sha256; the venv
     layer tar (its .dist-info directories say which distributions it holds) and the wheels behind
     them, with the sdist each built wheel came from; the locks they were fetched by; the app
     layer tar; for the provenance, rules_pyimage's sources (named by their digest), the
     builder's Debian lock, the rules' tools lock and the CPython version table, and the VCS
     revision a stamped build put in the image config.
Out: the SBOM and the provenance statement, both reproducible: no clock (the creation time is
     SOURCE_DATE_EPOCH), no random identifier (the namespace is made from the image digest), keys
     and lists sorted; and an OCI layout of the two as artifacts attached to the image (OCI 1.1
     manifests with `subject` = the image manifest, `artifactType` application/spdx+json and
     application/vnd.in-toto+json, an empty config), named `sbom` and `provenance` in its
     index.json, which `NAME.push` pushes next to the image.

Every package in the SBOM is one the image holds, found in its layers; a wheel file or .deb
given without a counterpart in the layers, or a layer entry without its file, is an error that
names it.

Usage: make_sbom.py --name NAME --label LABEL --digest FILE --epoch N --rules-version V
                    [--rules-src PATH=FILE ...] [--builder-lock F] [--tools-lock F] [--version-table F]
                    --base TAR [--base-removed LIST] [--deb FILE ...] --python-tar TAR --python-version V
                    --python-source-url URL --python-source-sha256 HEX
                    --venv TAR [--venv TAR ...] [--wheel PATH ...] [--built WHEEL=SDIST ...] [--lock KIND=FILE ...]
                    --app TAR --app-label L
                    --layout IMAGE_LAYOUT --sbom OUT --provenance OUT --attachments OUT_DIR
"""

import argparse
import ast
import datetime
import email.parser
import hashlib
import json
import os
import re
import sys
import tarfile
import zipfile
from urllib.parse import quote

from rules.private.tools.deb import DebError, field, read_control
from rules.private.tools.oci import canonical, sha256_file

SPDX_NAMESPACE = "https://spdx.org/spdxdocs/rules_pyimage/"
BUILD_TYPE = "urn:rules_pyimage:py_image:v1"


class SbomError(Exception):
    pass


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def spdx_id(kind, name):
    """SPDXRef-KIND-NAME. SPDX IDs allow letters, digits, `.` and `-` only: a name with any other
    character (`+` in libstdc++6) has them replaced by `-` and gets the first 8 hex digits of its
    sha256 appended, so that two names never share an ID (sbom() checks that they do not)."""
    safe = re.sub(r"[^A-Za-z0-9.-]", "-", name)
    if safe != name:
        safe += "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return "SPDXRef-%s-%s" % (kind, safe)


def same_names(in_layer, given, layer, files):
    """Fails, naming the differences, unless the layer holds exactly the packages given as files."""
    missing, extra = sorted(set(in_layer) - set(given)), sorted(set(given) - set(in_layer))
    if missing or extra:
        raise SbomError("the %s and its %s disagree: only in the layer %s; only as files %s" % (
            layer, files, missing or "none", extra or "none"))


def name_and_version(metadata):
    """(Name, Version) of a distribution's METADATA text."""
    meta = email.parser.Parser().parsestr(metadata, headersonly=True)
    return meta["Name"], meta["Version"]


def timestamp(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def deb_purl(name, version, arch, distro, source):
    qualifiers = "arch=%s&distro=%s" % (quote(arch, safe=""), quote(distro, safe=""))
    if source and source != name:
        qualifiers += "&upstream=" + quote(source, safe="")
    return "pkg:deb/debian/%s@%s?%s" % (name, quote(version, safe=".-_~"), qualifiers)


def pypi_purl(name, version):
    return "pkg:pypi/%s@%s" % (normalize(name), quote(version, safe=".-_~+!"))


def left_out_packages(removed):
    """The Debian packages that trim_base left out whole: their status entries in its list."""
    if not removed:
        return set()
    with open(removed) as f:
        return {m.group(1) for m in re.finditer(r"^\s*\d+\s+var/lib/dpkg/status\.d/([^/\s]+)$", f.read(), re.M)
                if not m.group(1).endswith(".md5sums")}


def base_packages(base_tar, debs, removed=None):
    """([package dict] of the Debian packages in the base layer (purls name its distribution),
    [(file name, sha256)] of the .deb files of the packages trim_base left out whole).

    `debs` may hold more packages than the layer only where `removed` (trim_base's list of what
    it left out) names their status entries: packages the image does not hold, which are inputs
    of the build (the provenance lists them) but not contents (the SBOM does not)."""
    status, os_release = {}, ""
    with tarfile.open(base_tar) as tar:
        for m in tar.getmembers():
            name = m.name.lstrip("./")
            if name.startswith("var/lib/dpkg/status.d/") and m.isreg() and not name.endswith(".md5sums"):
                control = tar.extractfile(m).read().decode()
                status[field(control, "Package") or name] = control
            elif name in ("etc/os-release", "usr/lib/os-release") and m.isreg() and not os_release:
                os_release = tar.extractfile(m).read().decode()
    release = dict(re.findall(r'^([A-Z_]+)="?([^"\n]*)"?$', os_release, re.M))
    distro = "%s-%s" % (release.get("ID", "debian"), release.get("VERSION_ID", "unknown"))
    files = {}
    for path in debs:
        control = read_control(path)
        files[field(control, "Package")] = (path, field(control, "Version"))
    left_out = set()
    if debs:
        left_out = left_out_packages(removed)
        stray = sorted(left_out & set(status))
        if stray:
            raise SbomError("trim_base's list says it left out %s, but the base layer holds its status" % stray)
        same_names(status, {n: f for n, f in files.items() if n not in left_out}, "base layer", ".deb files")
    packages = []
    for name, control in sorted(status.items()):
        version, arch = field(control, "Version"), field(control, "Architecture")
        source = field(control, "Source").split(" ")[0] or name
        pkg = {"name": name, "version": version, "source": source, "purl": deb_purl(name, version, arch, distro, source)}
        if name in files:
            path, deb_version = files[name]
            if deb_version != version:
                raise SbomError("%s: the base layer holds version %s, its .deb is %s" % (name, version, deb_version))
            pkg["sha256"], pkg["file"] = sha256_file(path), os.path.basename(path)
        packages.append(pkg)
    gone = [(os.path.basename(files[n][0]), sha256_file(files[n][0])) for n in sorted(left_out & set(files))]
    return packages, gone


def config_args(python_tar):
    """CPython's ./configure arguments, from the _sysconfigdata module in its runtime tar."""
    with tarfile.open(python_tar) as tar:
        for m in tar.getmembers():
            if re.search(r"/lib/python3\.\d+t?/_sysconfigdata_[^/]*\.py$", m.name) and m.isreg():
                tree = ast.parse(tar.extractfile(m).read().decode())
                for node in tree.body:
                    if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "build_time_vars":
                        return ast.literal_eval(node.value).get("CONFIG_ARGS", "")
    raise SbomError("%s holds no _sysconfigdata module (is it a CPython runtime tar?)" % python_tar)


def wheel_file(path):
    """The .whl file at path, or the one .whl in the directory path (as wheel_from_sdist makes)."""
    if os.path.isdir(path):
        found = [os.path.join(path, f) for f in sorted(os.listdir(path)) if f.endswith(".whl")]
        if len(found) != 1:
            raise SbomError("%s holds %d wheels, not one" % (path, len(found)))
        return found[0]
    return path


def wheel_metadata(path):
    with zipfile.ZipFile(path) as whl:
        names = [n for n in whl.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(names) != 1:
            raise SbomError("%s has %d .dist-info/METADATA files, not one" % (path, len(names)))
        return name_and_version(whl.read(names[0]).decode("utf-8", "replace"))


def venv_packages(venv_tars, wheels, built):
    """[package dict] of the distributions installed in the venv layers (one, or one per package
    and the venv's own), each with its wheel."""
    installed = {}
    for venv_tar in venv_tars:
        with tarfile.open(venv_tar) as tar:
            for m in tar.getmembers():
                if re.search(r"/site-packages/[^/]+\.dist-info/METADATA$", m.name) and m.isreg():
                    name, version = name_and_version(tar.extractfile(m).read().decode("utf-8", "replace"))
                    installed[normalize(name)] = (name, version)
    by_name = {}
    for given in wheels:
        path = wheel_file(given)
        name, version = wheel_metadata(path)
        by_name[normalize(name)] = (path, version, built.get(given))
    same_names(installed, by_name, "venv layer", "wheels")
    packages = []
    for key, (name, version) in sorted(installed.items()):
        path, wheel_version, sdist = by_name[key]
        if wheel_version != version:
            raise SbomError("%s: the venv holds version %s, its wheel is %s" % (name, version, wheel_version))
        pkg = {"name": name, "version": version, "purl": pypi_purl(name, version),
               "sha256": sha256_file(path), "file": os.path.basename(path)}
        if sdist:
            pkg["sdist"] = {"file": os.path.basename(sdist), "sha256": sha256_file(sdist)}
        packages.append(pkg)
    return packages


def checksum(hexdigest):
    return [{"algorithm": "SHA256", "checksumValue": hexdigest}]


def spdx_package(spdxid, name, version, purpose, **extra):
    pkg = {
        "SPDXID": spdxid, "name": name, "versionInfo": version, "primaryPackagePurpose": purpose,
        "downloadLocation": "NOASSERTION", "filesAnalyzed": False, "supplier": "NOASSERTION",
        "licenseConcluded": "NOASSERTION", "licenseDeclared": "NOASSERTION", "copyrightText": "NOASSERTION",
    }
    pkg.update(extra)
    return pkg


def purl_ref(purl):
    return [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": purl}]


def sbom(args, digest, debs, python, wheels, app_sha256):
    image_id = "SPDXRef-Image"
    repo, _, tag = args.name.rpartition(":")
    packages = [spdx_package(
        image_id, args.name, tag or "latest", "CONTAINER",
        checksums=checksum(digest), externalRefs=purl_ref("pkg:oci/%s@%s" % (
            quote(repo.rsplit("/", 1)[-1] or args.name, safe=""), quote("sha256:" + digest, safe=""))),
        comment="The OCI image %s built by rules_pyimage from %s; the checksum is its manifest digest." % (
            args.name, args.label))]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": image_id}]

    def contains(pkg_id):
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS", "relatedSpdxElement": pkg_id})

    for d in debs:
        pid = spdx_id("deb", d["name"])
        extra = {"externalRefs": purl_ref(d["purl"]), "sourceInfo": "Debian source package %s" % d["source"]}
        if "sha256" in d:
            extra["checksums"] = checksum(d["sha256"])
            extra["packageFileName"] = d["file"]
        packages.append(spdx_package(pid, d["name"], d["version"], "LIBRARY", **extra))
        contains(pid)

    python_id = spdx_id("python", "cpython-" + python["version"])
    purl = "pkg:generic/cpython@%s" % python["version"]
    if python["url"]:
        purl += "?download_url=" + quote(python["url"], safe="")
    packages.append(spdx_package(
        python_id, "CPython", python["version"], "APPLICATION", externalRefs=purl_ref(purl),
        checksums=checksum(python["tar_sha256"]),
        comment="The checksum is that of the interpreter's runtime tar as compiled, before the image "
                "leaves out .pyc files of other optimisation levels.",
        sourceInfo="compiled from source by rules_pyimage in its hermetic builder: ./configure %s" % python["config_args"]))
    contains(python_id)
    if python["url"] and python["sha256"]:
        source_id = spdx_id("source", "cpython-" + python["version"])
        packages.append(spdx_package(
            source_id, "CPython source", python["version"], "SOURCE", downloadLocation=python["url"],
            checksums=checksum(python["sha256"]), packageFileName=python["url"].rsplit("/", 1)[-1]))
        relationships.append({"spdxElementId": python_id, "relationshipType": "GENERATED_FROM", "relatedSpdxElement": source_id})

    for w in wheels:
        pid = spdx_id("pypi", normalize(w["name"]))
        extra = {"externalRefs": purl_ref(w["purl"]), "checksums": checksum(w["sha256"]), "packageFileName": w["file"]}
        if "sdist" in w:
            sid = spdx_id("sdist", normalize(w["name"]))
            packages.append(spdx_package(sid, w["name"], w["version"], "SOURCE", externalRefs=purl_ref(w["purl"]),
                                         checksums=checksum(w["sdist"]["sha256"]), packageFileName=w["sdist"]["file"]))
            extra["sourceInfo"] = "built here from its sdist %s (sha256 %s) by rules_pyimage's wheel_from_sdist" % (
                w["sdist"]["file"], w["sdist"]["sha256"])
            relationships.append({"spdxElementId": pid, "relationshipType": "GENERATED_FROM", "relatedSpdxElement": sid})
        packages.append(spdx_package(pid, w["name"], w["version"], "LIBRARY", **extra))
        contains(pid)

    app_id = "SPDXRef-App"
    packages.append(spdx_package(app_id, args.app_label, "NOASSERTION", "APPLICATION", checksums=checksum(app_sha256),
                                 comment="The application's own files, the image's app layer (checksum: its uncompressed tar)."))
    packages[-1].pop("versionInfo")
    contains(app_id)

    ids = [p["SPDXID"] for p in packages]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise SbomError("two packages would share the SPDX ID %s" % ", ".join(twice))
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": args.name,
        "documentNamespace": SPDX_NAMESPACE + "%s-sha256-%s" % (re.sub(r"[^A-Za-z0-9.-]", "-", args.name), digest),
        "creationInfo": {"created": timestamp(args.epoch), "creators": ["Tool: rules_pyimage-%s" % args.rules_version]},
        "packages": packages,
        "relationships": sorted(relationships, key=lambda r: (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])),
    }


def rules_digest(sources):
    """sha256 of the sorted lines `SHA256  PATH` of rules_pyimage's sources (PATH=FILE pairs):
    which rules built the image, whatever their version string says."""
    lines = sorted("%s  %s\n" % (sha256_file(path), rel) for rel, path in sources)
    return hashlib.sha256("".join(lines).encode()).hexdigest(), len(lines)


def image_revision(layout):
    """The VCS revision that a stamped build put in the image config's labels, or None."""
    blobs = os.path.join(layout, "blobs", "sha256")

    def blob(descriptor):
        with open(os.path.join(blobs, descriptor["digest"].split(":", 1)[1])) as f:
            return json.load(f)

    with open(os.path.join(layout, "index.json")) as f:
        manifest = blob(json.load(f)["manifests"][0])
    labels = blob(manifest["config"]).get("config", {}).get("Labels") or {}
    return labels.get("org.opencontainers.image.revision")


def provenance(args, digest, debs, left_out_debs, python, wheels, app_sha256):
    deps = []
    revision = image_revision(args.layout)
    if revision:
        deps.append({"name": "source", "digest": {"gitCommit": revision}})
    if python["url"] and python["sha256"]:
        deps.append({"name": python["url"].rsplit("/", 1)[-1], "uri": python["url"], "digest": {"sha256": python["sha256"]}})
    for d in debs:
        if "sha256" in d:
            deps.append({"name": d["file"], "uri": d["purl"], "digest": {"sha256": d["sha256"]}})
    for name, sha256 in left_out_debs:  # inputs of the base, left out of the image by trim_base
        deps.append({"name": name, "digest": {"sha256": sha256},
                     "annotations": {"inImage": "no: trim_base left it out, nothing in the image links to it"}})
    for w in wheels:
        if "sdist" in w:
            deps.append({"name": w["sdist"]["file"], "uri": w["purl"], "digest": {"sha256": w["sdist"]["sha256"]}})
        else:
            deps.append({"name": w["file"], "uri": w["purl"], "digest": {"sha256": w["sha256"]}})
    for kind, digest_of_lock in sorted((kind, sha256_file(path)) for kind, path in args.lock):
        deps.append({"name": kind, "digest": {"sha256": digest_of_lock}})
    deps.append({"name": "app layer of %s" % args.label, "digest": {"sha256": app_sha256}})
    for name, path in [("lock of the hermetic builder's Debian packages", args.builder_lock),
                       ("lock of rules_pyimage's Python tools", args.tools_lock),
                       ("rules_pyimage's CPython version table (toolchains/versions.bzl)", args.version_table)]:
        if path:
            deps.append({"name": name, "digest": {"sha256": sha256_file(path)}})
    rules = {"name": "rules_pyimage", "uri": "pkg:bazel/rules_pyimage@%s" % args.rules_version,
             "annotations": {"version": args.rules_version}}
    if args.rules_src:
        tree, count = rules_digest(args.rules_src)
        rules["digest"] = {"sha256": tree}
        rules["annotations"]["digestOf"] = (
            "the sorted lines 'SHA256  PATH' of its %d source files (Starlark, templates, tools, "
            "the CPython build payload)" % count)
    deps.append(rules)
    external = {"target": args.label, "repoTag": args.name}
    if revision:
        external["source"] = {"digest": {"gitCommit": revision}}
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": args.name, "digest": {"sha256": digest}}],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": external,
                "internalParameters": {"sourceDateEpoch": args.epoch, "python": python["version"],
                                       "configureArgs": python["config_args"]},
                "resolvedDependencies": deps,
            },
            "runDetails": {"builder": {"id": "urn:rules_pyimage:bazel:py_image"}},
        },
    }


def attachments(layout, out, files, created):
    """An OCI layout at out: each (ref name, path, media type) of files as an artifact manifest
    whose subject is the image manifest of the OCI layout at layout."""
    with open(os.path.join(layout, "index.json")) as f:
        image = json.load(f)["manifests"][0]
    subject = {k: image[k] for k in ("mediaType", "digest", "size")}
    blobs = os.path.join(out, "blobs", "sha256")
    os.makedirs(blobs)

    def blob(data, media_type):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return {"mediaType": media_type, "digest": "sha256:" + digest, "size": len(data)}

    empty = blob(b"{}", "application/vnd.oci.empty.v1+json")
    manifests = []
    for ref, path, media_type in files:
        with open(path, "rb") as f:
            layer = blob(f.read(), media_type)
        manifest = {
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": media_type, "config": empty, "layers": [layer], "subject": subject,
            "annotations": {"org.opencontainers.image.created": created},
        }
        descriptor = blob(canonical(manifest), manifest["mediaType"])
        descriptor["artifactType"] = media_type
        descriptor["annotations"] = {"org.opencontainers.image.ref.name": ref}
        manifests.append(descriptor)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(os.path.join(out, "index.json"), "wb") as f:
        f.write(canonical({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                           "manifests": manifests}))


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", required=True, help="the image's repo tag")
    parser.add_argument("--label", required=True)
    parser.add_argument("--digest", required=True, help="file holding sha256:HEX of the manifest")
    parser.add_argument("--epoch", type=int, required=True)
    parser.add_argument("--rules-version", required=True)
    parser.add_argument("--rules-src", action="append", default=[], type=lambda v: tuple(v.split("=", 1)),
                        help="PATH=FILE: one of rules_pyimage's sources, for the provenance's digest of the rules")
    parser.add_argument("--builder-lock", help="the Debian lock of the builder the interpreter was compiled in")
    parser.add_argument("--tools-lock", help="the lock of the rules' own Python tools")
    parser.add_argument("--version-table", help="the CPython version table (toolchains/versions.bzl)")
    parser.add_argument("--base", required=True, help="the base layer as the image holds it")
    parser.add_argument("--base-removed", help="trim_base's list of what it left out of the base")
    parser.add_argument("--deb", action="append", default=[])
    parser.add_argument("--python-tar", required=True)
    parser.add_argument("--python-version", required=True)
    parser.add_argument("--python-source-url", required=True, help="empty when not known")
    parser.add_argument("--python-source-sha256", required=True, help="empty when not known")
    parser.add_argument("--venv", action="append", required=True, help="a venv layer (given once per layer)")
    parser.add_argument("--wheel", action="append", default=[])
    parser.add_argument("--built", action="append", default=[], help="WHEEL=SDIST: a wheel built from that sdist")
    parser.add_argument("--lock", action="append", default=[], type=lambda v: tuple(v.split("=", 1)),
                        help="KIND=FILE: a lock the inputs were fetched by")
    parser.add_argument("--app", required=True)
    parser.add_argument("--app-label", required=True)
    parser.add_argument("--layout", required=True, help="the image's OCI layout")
    parser.add_argument("--sbom", required=True)
    parser.add_argument("--provenance", required=True)
    parser.add_argument("--attachments", required=True, help="the OCI layout of both, to write")
    args = parser.parse_args(argv)
    try:
        with open(args.digest) as f:
            digest = f.read().strip()
        if not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
            raise SbomError("%s does not hold a sha256 digest: %r" % (args.digest, digest[:80]))
        digest = digest[len("sha256:"):]
        built = dict(b.split("=", 1) for b in args.built)
        debs, left_out_debs = base_packages(args.base, args.deb, args.base_removed)
        if args.python_source_sha256 and not re.fullmatch(r"[0-9a-f]{64}", args.python_source_sha256):
            raise SbomError("--python-source-sha256 %r is not a sha256" % args.python_source_sha256)
        python = {"version": args.python_version, "url": args.python_source_url,
                  "sha256": args.python_source_sha256, "config_args": config_args(args.python_tar),
                  "tar_sha256": sha256_file(args.python_tar)}
        wheels = venv_packages(args.venv, args.wheel, built)
        app_sha256 = sha256_file(args.app)
        write_json(args.sbom, sbom(args, digest, debs, python, wheels, app_sha256))
        write_json(args.provenance, provenance(args, digest, debs, left_out_debs, python, wheels, app_sha256))
        attachments(args.layout, args.attachments, [
            ("sbom", args.sbom, "application/spdx+json"),
            ("provenance", args.provenance, "application/vnd.in-toto+json"),
        ], timestamp(args.epoch))
    except (SbomError, DebError, OSError, tarfile.TarError, zipfile.BadZipFile) as err:
        sys.exit("ERROR: SBOM of %s: %s" % (args.label, err))


if __name__ == "__main__":
    main()
