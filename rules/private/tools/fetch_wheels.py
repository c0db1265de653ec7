"""Fetches the distributions of a pip-tools lock for one target and lays them out as Bazel packages.

Runs during `bazel fetch` (from the `pyimage_pip_packages` repository rule), on the host's python3
and pip, because no interpreter is built yet then. pip does the downloading, so the index, mirrors
and certificates are this machine's pip configuration; the lock holds no index URL.

In:  the lock (`name==version` with `--hash=sha256:` lines and `# via` annotations), the target
     (Python version, platform tags), the packages to build from source.
Out: for each package, `<name>/` with the distribution file and a BUILD.bazel:
     - a wheel: a `wheel_library` `<name>` (unpacked by a build action) and `whl`;
     - an sdist (no wheel fits the target, or marked to build from source): `sdist`, built into a
       wheel by a build action and exposed as `<name>` the same way.
     Dependencies come from the lock's own `# via` annotations (pip-tools' resolution), so no
     marker is evaluated here. Every file is checked against the lock's hashes: a file with
     another hash is refused, naming the package and the update command.

Usage: fetch_wheels.py --lock FILE --out DIR --python-version 3.13 --platform TAG [--platform TAG]
                       --update-command CMD [--build-from-source NAME ...] --rules-repo NAME
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile


class FetchError(Exception):
    pass


def normalize(name):
    return re.sub(r"[-_.]+", "_", name).lower()


def parse_lock(text):
    """{normalized name: {"name", "version", "hashes", "via"}} of a pip-compile lock."""
    packages, current, in_via = {}, None, False
    for raw in text.splitlines():
        line = raw.strip()
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", raw)
        if m:
            current = {"name": m.group(1), "version": m.group(2), "hashes": [], "via": []}
            packages[normalize(m.group(1))] = current
            in_via = False
            continue
        if raw.startswith((" ", "\t")) and current is not None:
            current["hashes"] += re.findall(r"--hash=sha256:([0-9a-f]{64})", line)
            via = re.match(r"#\s+via\s*(.*)$", line)
            if via:
                in_via = True
                if via.group(1):
                    current["via"].append(via.group(1).strip())
                continue
            if in_via:
                item = re.match(r"#\s+(\S.*)$", line)
                if item:
                    current["via"].append(item.group(1).strip())
                else:
                    in_via = False
        elif line and not line.startswith("#") and not line.startswith("-"):
            raise FetchError("the lock has a line that is not `name==version`: %r (an unpinned or "
                             "hand-edited requirement)" % raw)
    for p in packages.values():
        # Only what a PEP 440 version can hold: the version reaches file names and BUILD text.
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.+!_-]*", p["version"]):
            raise FetchError("%s has the version %r, which is not a PEP 440 version (a damaged or "
                             "hand-edited lock)" % (p["name"], p["version"]))
        if not p["hashes"]:
            raise FetchError("%s==%s has no --hash in the lock (was it compiled with "
                             "--generate-hashes, or edited by hand?)" % (p["name"], p["version"]))
    return packages


def dependencies(packages):
    """{name: [names it depends on]}, inverted from the `# via` annotations."""
    deps = {n: [] for n in packages}
    for name, p in packages.items():
        for via in p["via"]:
            parent = normalize(via.split()[0])
            if via.startswith("-r") or via.startswith("-c") or parent not in packages:
                continue
            deps[parent].append(name)
    return {n: sorted(set(d)) for n, d in deps.items()}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pip_download(args, pkg, dest, binary):
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
           "-q", "-d", dest, "%s==%s" % (pkg["name"], pkg["version"])]
    if binary:
        cmd += ["--only-binary=:all:", "--python-version", args.python_version,
                "--implementation", "cp", "--abi", "cp" + args.python_version.replace(".", ""),
                "--abi", "abi3", "--abi", "none"]
        for platform in args.platform:
            cmd += ["--platform", platform]
    else:
        cmd += ["--no-binary=:all:"]
    env = dict(os.environ, PIP_NO_INPUT="1")
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    files = os.listdir(dest)
    return (files[0] if result.returncode == 0 and len(files) == 1 else None), result.stdout


def fetch(args, name, pkg, workdir):
    """(kind, file path): the wheel for the target, else the sdist, checked against the lock."""
    attempts = [False] if name in args.build_from_source else [True, False]
    logs = []
    for binary in attempts:
        dest = tempfile.mkdtemp(dir=workdir)
        found, log = pip_download(args, pkg, dest, binary)
        logs.append(log)
        if not found:
            continue
        path = os.path.join(dest, found)
        digest = sha256(path)
        if digest not in pkg["hashes"]:
            raise FetchError("%s==%s: the downloaded %s has sha256 %s, which the lock does not "
                             "list; the file is refused (a tampered mirror, or a lock edited by "
                             "hand). Run: %s" % (pkg["name"], pkg["version"], found, digest, args.update_command))
        return ("wheel" if found.endswith(".whl") else "sdist"), path
    raise FetchError("%s==%s: no wheel for CPython %s on %s and no sdist could be fetched. Pick "
                     "another version (or drop it) in the requirements and run: %s\npip said: %s" % (
                         pkg["name"], pkg["version"], args.python_version, ", ".join(args.platform),
                         args.update_command, logs[-1].strip()[-600:]))


BUILD_WHEEL = """load("@{rules}//rules/private:wheel.bzl", "wheel_library")

package(default_visibility = ["//visibility:public"])

# {name}=={version}, from {file} (unpacked by an action: a tree artifact also carries file
# names that Bazel's runfiles cannot, such as names with spaces)
wheel_library(
    name = "{target}",
    wheel = "{file}",
    deps = {deps},
    python_version = "{wheel_python}",
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
)

# The sdist itself, for a wheel_from_sdist of another interpreter.
filegroup(name = "sdist", srcs = ["{file}"])
"""


def wheel_python(filename, python_version):
    """The minor version a wheel is for, or "" when its tags say it runs on any Python 3."""
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
    if not re.fullmatch(r"3\.[0-9]+", args.python_version):
        sys.exit("ERROR: --python-version %r is not a Python 3 minor version such as 3.13" % args.python_version)

    try:
        with open(args.lock) as f:
            packages = parse_lock(f.read())
        unknown = sorted(args.build_from_source - set(packages))
        if unknown:
            raise FetchError("build_from_source names %s, which the lock does not hold" % ", ".join(unknown))
        deps = dependencies(packages)
        workdir = tempfile.mkdtemp(prefix="pyimage-wheels.")
        try:
            for name in sorted(packages):
                pkg = packages[name]
                kind, path = fetch(args, name, pkg, workdir)
                pkgdir = os.path.join(args.out, name)
                os.makedirs(pkgdir, exist_ok=True)
                filename = os.path.basename(path)
                if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+!-]*\.(whl|tar\.gz|zip)", filename):
                    raise FetchError("%s %s: the index served a file named %r, which is not a wheel or "
                                     "sdist name; refused" % (pkg["name"], pkg["version"], filename))
                shutil.move(path, os.path.join(pkgdir, filename))
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
                with open(os.path.join(pkgdir, "BUILD.bazel"), "w") as f:
                    f.write(content)
                print("%s %s: %s" % (pkg["name"], pkg["version"], filename))
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    except FetchError as err:
        sys.exit("ERROR: %s" % err)


if __name__ == "__main__":
    main()
