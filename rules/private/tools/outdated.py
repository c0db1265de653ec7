"""What has moved upstream since the locks were made: one report for every lock of a workspace.

In:  a manifest (JSON, written by `pyimage_outdated`): each lock (kind `debian` or `wheel`, its
     file, its package list or requirements.in, its update command; a Debian lock's release and
     architecture), the images with their SBOMs (which images hold which package), and the
     CPython versions of the toolchain table.
Out: the report on stdout, most urgent first:
     - Debian packages whose version apt resolves now differs from the lock's, from the release
       or its security suite (security updates marked and listed first), with the lock's
       update command;
     - locked Python packages with a newer release on the index (yanked and pre-releases left
       out): the newest that requirements.in allows and, when it differs, the newest of all,
       with the command that takes it;
     - CPython releases newer than the table's, as Debian's archive vouches for them
       (cpython_releases: its python3.X source packages in oldstable, stable, testing and
       unstable, and the signed uploads in its pool; python.org is not asked): the newest that
       this machine's mirror serves, with `bazel run //toolchains:versions.update -- VERSION`,
       and the newer ones it does not serve, named as such and not offered;
     Each line names the images that hold the package. Exit status 1 when a security update is
     pending (so a scheduled job can open a change), 0 otherwise; 2 when a source cannot be read.

The mirrors are this machine's apt and pip configuration, as for the locks themselves.

Usage: outdated.py --manifest FILE [--root DIR] [--no-cpython]   (paths in the manifest are
       relative to DIR, default: the working directory, which `bazel run` makes the runfiles)
"""

import argparse
import json
import os
import sys
import tempfile

from rules.private.tools import apt_lock, cpython_releases, pypi_lock

class OutdatedError(Exception):
    pass


def holders(images, kind, name):
    """The labels of the images whose SBOM lists a package of that kind ("deb", "pypi") and name."""
    found = []
    for image in images:
        for pkg in image["packages"]:
            for ref in pkg.get("externalRefs", []):
                loc = ref.get("referenceLocator", "")
                if loc.startswith("pkg:%s/" % kind) and loc.split("@", 1)[0].rsplit("/", 1)[-1] == name:
                    found.append(image["label"])
    return sorted(set(found))


def affects(labels, otherwise=None):
    """`images: ...` for the images holding a package, else what the lock's role says."""
    return "images: " + (", ".join(labels) if labels else otherwise or "no image of this report holds it")


# --- Debian --------------------------------------------------------------------------------------

def debian_updates(locks, images, lines):
    """(security count) after appending the Debian lines: apt's resolution now against each lock."""
    security = 0
    by_target = {}
    for lock in locks:
        by_target.setdefault((lock["release"], lock["architecture"]), []).append(lock)
    found = []
    for (release, arch), group in sorted(by_target.items()):
        with tempfile.TemporaryDirectory(prefix="pyimage-outdated-apt.") as root:
            apt = apt_lock.PrivateApt(root, release, arch)
            apt.update()
            for lock in group:
                names, excluded = apt_lock.read_list(lock["source"])
                old = apt_lock.read_lock(lock["lock"])
                if old is None:
                    raise OutdatedError("%s is empty; make it with: %s" % (lock["lock_label"], lock["update"]))
                new = apt_lock.resolve_lock(names, excluded, release, arch, apt)
                before = {p["name"]: p for p in old["packages"]}
                for p in new["packages"]:
                    b = before.get(p["name"])
                    if b is None or b["version"] == p["version"]:
                        continue
                    is_security = p["suite"].endswith(apt_lock.SECURITY_SUFFIX)
                    used = holders(images, "deb", p["name"]) if lock["role"] == "image" else []
                    found.append((0 if is_security else 1, p["name"], "  %s %s -> %s%s  (%s, lock %s)  %s  take it: %s" % (
                        p["name"], b["version"], p["version"], " [security]" if is_security else "",
                        p["suite"], lock["label"],
                        affects(used, "the hermetic builder: every compile" if lock["role"] == "builder" else None),
                        lock["update"])))
                    security += is_security
    if found:
        lines.append("Debian packages (security updates first):")
        lines += [text for _, _, text in sorted(found)]
    return security


# --- Python --------------------------------------------------------------------------------------

def requirements(path):
    """{normalized name: (line, SpecifierSet)} of the direct requirements in a requirements.in, or
    in the [project] dependencies of a uv project's pyproject.toml."""
    from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    found = {}
    with open(path) as f:
        text = f.read()
    if os.path.basename(path) == "pyproject.toml":
        import tomllib
        lines = tomllib.loads(text).get("project", {}).get("dependencies", [])
    else:
        lines = text.splitlines()
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement as err:
            raise OutdatedError("%s: %r is not a requirement (%s)" % (path, line, err)) from err
        found[pypi_lock.normalize(req.name)] = (line, req.specifier)
    return found


def releases(index, name, pinned):
    """The versions of name on the index, newest first: no yanked one, and pre-releases only for a
    pinned pre-release."""
    candidates = index.finder.find_all_candidates(name)
    return sorted({c.version for c in candidates
                   if not c.link.is_yanked and (pinned.is_prerelease or not c.version.is_prerelease)}, reverse=True)


def python_updates(locks, images, lines):
    from pip._vendor.packaging.version import Version
    found = []
    index = pypi_lock.Index("3.14", ["any"], quiet=True) if locks else None
    for lock in locks:
        with open(lock["lock"]) as f:
            pins, _ = pypi_lock.read_lock(lock["lock"], f.read(), "3.14", "x86_64")
        direct = requirements(lock["source"])
        for key, pin in sorted(pins.items()):
            pinned = Version(pin["version"])
            versions = releases(index, pin["name"], pinned)
            if not versions or versions[0] <= pinned:
                continue
            latest = versions[0]
            used = holders(images, "pypi", pypi_lock.normalize(pin["name"]).replace("_", "-"))
            where = affects(used, "the rules' own tools" if lock["role"] == "tools" else None)
            take = "%s -- --upgrade-package %s" % (lock["update"], pin["name"])
            if key in direct:
                line, spec = direct[key]
                allowed = next((v for v in versions if spec.contains(v, prereleases=True)), None)
                if allowed is not None and allowed > pinned:
                    found.append("  %s %s -> %s within requirements.in (lock %s)  %s  take it: %s" % (
                        pin["name"], pin["version"], allowed, lock["label"], where, take))
                if allowed != latest:
                    found.append("  %s %s -> %s outside requirements.in's '%s' (lock %s)  %s  take it: widen "
                                 "that line of %s, then %s" % (pin["name"], pin["version"], latest, line,
                                                               lock["label"], where, lock["source_label"], take))
            else:
                found.append("  %s %s -> %s, pulled in by another requirement (lock %s)  %s  take it: %s" % (
                    pin["name"], pin["version"], latest, lock["label"], where, take))
    if found:
        lines.append("Python packages:")
        lines += found


# --- CPython -------------------------------------------------------------------------------------

def cpython_updates(versions, images, lines, listed=None, base=None):
    """CPython releases newer than the table's, of its lines and of newer ones Debian lists: the
    newest that this machine can fetch and verify (offered, with the command that adds it), and
    the newer ones it cannot (named: listed, not served here)."""
    listed = cpython_releases.listed() if listed is None else listed
    base = base or cpython_releases.mirror()
    offered, unserved = [], []
    for minor in cpython_releases.followed_lines(versions, listed):
        have = cpython_releases.newest_of(versions, minor)
        found = cpython_releases.servable(minor, have, listed, base)
        used = sorted({img["label"] for img in images for p in img["packages"]
                       if p["name"] == "CPython" and p.get("versionInfo", "").startswith(minor + ".")})
        if found.version:
            offered.append("  CPython %s -> %s  %s  take it: bazel run @rules_pyimage//toolchains:versions.update -- %s, "
                           "then name it in python_versions" % (have or minor, found.version,
                                                                affects(used, None if have else "no image yet"), found.version))
        unserved += ["  CPython %s: listed by Debian (python%s), not served here: this machine's mirror has no "
                     "python%s_%s.orig.tar.*; it builds where python.org is reachable" % (
                         v, minor, minor, cpython_releases.debian_upstream(v)) for v in found.not_served]
        unserved += ["  CPython %s: served here, but no signed .dsc in Debian's pool vouches for its hash; not offered" % v
                     for v in found.not_vouched]
    if offered:
        lines.append("CPython (newer releases this machine can fetch and verify):")
        lines += offered
    if unserved:
        lines.append("CPython (newer releases Debian lists that this machine cannot fetch or verify):")
        lines += unserved


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--root", default=None)
    parser.add_argument("--no-cpython", action="store_true", help="leave out the CPython releases")
    args = parser.parse_args(argv)
    root = args.root or os.getcwd()  # `bazel run` starts it in its runfiles, where short paths lead
    try:
        with open(args.manifest) as f:
            manifest = json.load(f)
        for lock in manifest["locks"]:
            for key in ("lock", "source"):
                lock[key] = os.path.join(root, lock[key])
        images = []
        for image in manifest["images"]:
            with open(os.path.join(root, image["sbom"])) as f:
                images.append({"label": image["label"], "packages": json.load(f)["packages"]})
        lines = []
        security = debian_updates([l for l in manifest["locks"] if l["kind"] == "debian"], images, lines)
        python_updates([l for l in manifest["locks"] if l["kind"] == "wheel"], images, lines)
        if not args.no_cpython:
            cpython_updates(manifest["python_versions"], images, lines)
    except (OutdatedError, apt_lock.LockError, cpython_releases.ReleaseError, pypi_lock.FetchError, OSError,
            ValueError, KeyError) as err:
        print("ERROR: outdated: %s" % err, file=sys.stderr)
        return 2
    checked = "%d locks (%s)" % (len(manifest["locks"]), ", ".join(l["label"] for l in manifest["locks"]))
    if not args.no_cpython:
        checked += ", CPython " + ", ".join(manifest["python_versions"])
    if not lines:
        print("nothing is pending: %s are current" % checked)
        return 0
    print("\n".join(lines))
    print("checked %s; %d security update%s pending" % (checked, security, "" if security == 1 else "s"))
    return 1 if security else 0


if __name__ == "__main__":
    sys.exit(main())
