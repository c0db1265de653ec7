"""Fetches the distributions of a wheel lock for one target and lays them out as Bazel packages.

Runs during `bazel fetch` (from the `pyimage_pip_packages` repository rule), on the host's python3
and pip, because no interpreter is built yet then. pip's package finder and HTTP session find and
fetch the files, so the index, mirrors, certificates and credentials are this machine's pip
configuration; the lock holds no index URL.

Nothing downloaded is run, unpacked or parsed here. Each file is chosen among those of the pinned
release whose sha256 is in the lock (a wheel that fits the target first, else the sdist), streamed
to disk while it is hashed, and kept only when the hash is in the lock. An sdist's build hooks run
later, in the sandboxed, network-less build action (`wheel_from_sdist`), never on this host:
`pip download` would run them here (to read the sdist's metadata) before any check of ours.

In:  the lock: pip-tools' requirements format (`name==version` with `--hash=sha256:` lines and
     `# via` annotations), PEP 751's pylock.toml or a uv.lock, by its file name (the two TOML
     formats are read for the target: its markers evaluated, a uv.lock from its projects'
     dependencies); the target (Python version, platform tags); the packages to build from source.
     Each lock's URLs are not used: files come from this machine's indexes, chosen by hash.
Out: for each package, `<name>/` with the distribution file and a BUILD.bazel:
     - a wheel: a `wheel_library` `<name>` (unpacked by a build action) and `whl`;
     - an sdist (no wheel fits the target, or marked to build from source): `sdist`, built into a
       wheel by a build action and exposed as `<name>` the same way.
     Dependencies come from the lock: a requirements lock's `# via` annotations (its resolver's
     resolution), a uv.lock's or pylock.toml's dependency lists. A pylock.toml without them (as
     `uv pip compile --format pylock.toml` writes it) gets them from each file's own metadata
     (METADATA, or an sdist's PKG-INFO of metadata 2.2), read from the archive after its hash
     check. Every file is checked against the lock's hashes: a file with
     another hash is refused, naming the package and the update command.

Usage: fetch_wheels.py --lock FILE --out DIR --python-version 3.13 --platform TAG [--platform TAG]
                       --update-command CMD [--build-from-source NAME ...] --rules-repo NAME
"""

import argparse
import json
import os
import re
import shutil
import sys
import tempfile


try:
    from rules.private.tools.pypi_lock import (FetchError, Index, dependencies_from_metadata, marker_environment,
                                               metadata_requirements, normalize, python_target, read_lock)
except ImportError:  # run as a script by the repository rule, with its own directory on sys.path
    from pypi_lock import (FetchError, Index, dependencies_from_metadata, marker_environment, metadata_requirements,
                           normalize, python_target, read_lock)


def fetch(args, index, name, pkg, workdir):
    """(kind, temporary path, file name): the best-fitting file of the release whose sha256 the lock holds.

    A wheel for the target is preferred to the sdist. A file is chosen only among those whose
    hash is in the lock, so a wheel the index adds to a locked release later changes nothing.
    Nothing is unpacked or run: the file is hashed as it is written and moved into place by main().
    """
    wheels = name not in args.build_from_source
    candidates = index.candidates(pkg, wheels)
    if not candidates:
        if wheels:
            raise FetchError("%s==%s: no wheel for CPython %s on %s and no sdist could be fetched. Pick "
                             "another version (or drop it) in the requirements and run: %s" % (
                                 pkg["name"], pkg["version"], args.python_version, ", ".join(args.platform),
                                 args.update_command))
        raise FetchError("%s==%s is to be built from source, but the index has no sdist of it; drop it from "
                         "build_from_source or pick another version and run: %s" % (
                             pkg["name"], pkg["version"], args.update_command))
    refused = None
    for candidate in candidates:
        filename = candidate.link.filename
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+!-]*\.(whl|tar\.gz|zip)", filename):
            raise FetchError("%s %s: the index offers a file named %r, which is not a wheel or sdist "
                             "name; refused" % (pkg["name"], pkg["version"], filename))
        if refused and candidate.link.hash_name == "sha256" and candidate.link.hash not in pkg["hashes"]:
            break  # the rest are files the lock does not hold; one refusal names the problem
        path, digest = index.download(candidate.link, workdir)
        if digest in pkg["hashes"]:
            return ("wheel" if filename.endswith(".whl") else "sdist"), path, filename
        os.unlink(path)
        refused = refused or (filename, digest)
    raise FetchError("%s==%s: the downloaded %s has sha256 %s, which the lock does not "
                     "list; the file is refused (a tampered mirror, or a lock edited by "
                     "hand). Run: %s" % (pkg["name"], pkg["version"], refused[0], refused[1], args.update_command))


BUILD_WHEEL = """load("@{rules}//rules/private:wheel.bzl", "wheel_library")

package(default_visibility = ["//visibility:public"])

# {name}=={version}, from {file} (unpacked by an action: a tree artifact also carries file
# names that Bazel's runfiles cannot, such as names with spaces)
wheel_library(
    name = "{target}",
    wheel = "{file}",
    deps = {deps},
    python_version = "{wheel_python}",
    lock = "//:lock.txt",
)

filegroup(name = "whl", srcs = ["{file}"])
"""

BUILD_SDIST = """load("@{rules}//rules/private:wheel.bzl", "wheel_from_sdist", "wheel_library")

package(default_visibility = ["//visibility:public"])

# {name}=={version}, built from its sdist {file}
wheel_from_sdist(
    name = "whl",
    sdist = "{file}",
    distribution = "{name}",
    version = "{version}",{python}
)

wheel_library(
    name = "{target}",
    wheel = ":whl",
    deps = {deps},
    python_version = "{python_version}",
    lock = "//:lock.txt",
)

# The sdist itself, for a wheel_from_sdist of another interpreter.
filegroup(name = "sdist", srcs = ["{file}"])
"""


def wheel_python(filename, python_version):
    """The minor version a wheel is for ("3.14", "3.14t"), or "" when its tags say it runs on any Python 3."""
    tags = filename[:-len(".whl")].split("-")
    pythons, abi = tags[-3].split("."), tags[-2]
    if abi == "none" and all(p in ("py3", "py2") for p in pythons):
        return ""
    return python_version


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lock", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--python-version", required=True)
    parser.add_argument("--platform", action="append", required=True)
    parser.add_argument("--update-command", required=True)
    parser.add_argument("--build-from-source", action="append", default=[])
    parser.add_argument("--rules-repo", required=True)
    parser.add_argument("--python", default="", help="the cpython_build label that sdists are built on "
                        "(default: the registered rules_pyimage toolchain's)")
    args = parser.parse_args(argv)
    args.build_from_source = set(normalize(n) for n in args.build_from_source)
    try:
        python_target(args.python_version)
    except ValueError as err:
        sys.exit("ERROR: --python-version %s" % err)

    try:
        machine = re.sub(r"^(manylinux_[0-9]+_[0-9]+|manylinux[0-9]+|musllinux_[0-9]+_[0-9]+)_", "", args.platform[0])
        with open(args.lock) as f:
            packages, deps = read_lock(args.lock, f.read(), args.python_version, machine)
        unknown = sorted(args.build_from_source - set(packages))
        if unknown:
            raise FetchError("build_from_source names %s, which the lock does not hold" % ", ".join(unknown))
        workdir = tempfile.mkdtemp(prefix="pyimage-wheels.")
        try:
            index = Index(args.python_version, args.platform)
            fetched = {}
            for name in sorted(packages):
                pkg = packages[name]
                kind, path, filename = fetch(args, index, name, pkg, workdir)
                pkgdir = os.path.join(args.out, name)
                os.makedirs(pkgdir, exist_ok=True)
                shutil.move(path, os.path.join(pkgdir, filename))
                fetched[name] = (kind, filename)
                print("%s %s: %s" % (pkg["name"], pkg["version"], filename))
            if deps is None:
                requirements = {}
                for name, (_, filename) in fetched.items():
                    found = metadata_requirements(os.path.join(args.out, name, filename), filename)
                    if found is None:
                        raise FetchError("%s %s: the lock lists no dependencies and %s does not state its own "
                                         "(an sdist of metadata before 2.2, or with dynamic dependencies); use a "
                                         "lock that lists them (a uv.lock, a requirements lock) or one that "
                                         "takes a wheel of it" % (packages[name]["name"], packages[name]["version"], filename))
                    requirements[name] = found
                deps = dependencies_from_metadata(packages, requirements, marker_environment(args.python_version, machine))
            for name, (kind, filename) in sorted(fetched.items()):
                pkg = packages[name]
                dep_labels = repr(["//" + d for d in deps[name]])  # names: [a-z0-9_] after normalize()
                if kind == "wheel":
                    content = BUILD_WHEEL.format(rules=args.rules_repo, name=pkg["name"], version=pkg["version"],
                                                 file=filename, target=name, deps=dep_labels,
                                                 wheel_python=wheel_python(filename, args.python_version))
                else:
                    content = BUILD_SDIST.format(rules=args.rules_repo, name=pkg["name"], version=pkg["version"],
                                                 file=filename, target=name, deps=dep_labels,
                                                 python_version=args.python_version,
                                                 python="\n    python = %s," % json.dumps(args.python) if args.python else "")
                with open(os.path.join(args.out, name, "BUILD.bazel"), "w") as f:
                    f.write(content)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    except FetchError as err:
        sys.exit("ERROR: %s" % err)


if __name__ == "__main__":
    main()
