"""The Debian lock as a library: reading a package list and a lock, resolving a list into a lock
with apt's own resolver in a private state directory, and the report of what changed (no entry
point: debian_lock.py updates and checks a lock with it, outdated.py reports with it).

apt runs with a private configuration and state directory (an empty dpkg status), so the host's
installed packages play no part: the resolution is that of an empty system of that release. The
mirrors are this machine's apt configuration (its Debian URIs and keyrings), or
PYIMAGE_DEBIAN_MIRROR / PYIMAGE_DEBIAN_SECURITY_MIRROR.
"""

import glob
import hashlib
import json
import os
import re
import subprocess
import tempfile

from rules.private.tools import apt_sources

SECURITY_SUFFIX = "-security"


class LockError(Exception):
    """A problem the user fixes; the message says how."""


def read_list(path):
    """(names, excluded) of a list file: a line `NAME` asks for a package, `!NAME` leaves out a
    dependency that nothing in the image runs (for example dpkg, pulled in by a maintainer
    script's needs), together with whatever only it pulled in."""
    names, excluded = [], []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            target = names
            if line.startswith("!"):
                target, line = excluded, line[1:].strip()
            if not re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", line):
                raise LockError("%s:%d: '%s' is not a Debian package name" % (path, lineno, line))
            target.append(line)
    if not names:
        raise LockError("%s lists no packages" % path)
    both = sorted(set(names) & set(excluded))
    if both:
        raise LockError("%s both asks for and excludes %s" % (path, ", ".join(both)))
    return names, excluded


def list_digest(names, excluded, release, arch):
    """What the lock was resolved from: the names, the exclusions, release and architecture."""
    text = "\n".join([release, arch] + sorted(set(names)) + ["!" + n for n in sorted(set(excluded))]) + "\n"
    return hashlib.sha256(text.encode()).hexdigest()


def mirrors():
    archive, security, keyring = apt_sources.mirrors()
    if not archive:
        raise LockError("no Debian mirror: this machine's apt configuration names none; set "
                        "PYIMAGE_DEBIAN_MIRROR (and PYIMAGE_DEBIAN_SECURITY_MIRROR)")
    if not keyring and os.path.exists("/usr/share/keyrings/debian-archive-keyring.gpg"):
        keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    return archive, security, keyring


class PrivateApt:
    """apt-get and its indexes in a private directory, for one release and architecture.

    By default its sources are the release, its updates and its security suite (binary
    packages); `source_suites` instead lists those suites' source packages (deb-src), past their
    Valid-Until too (tools/outdated.py reads which CPython releases Debian carries)."""

    def __init__(self, root, release, arch, source_suites=None):
        self.root, self.release, self.arch = root, release, arch
        for d in ["etc/apt/sources.list.d", "etc/apt/preferences.d", "etc/apt/apt.conf.d",
                  "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg"]:
            os.makedirs(os.path.join(root, d), exist_ok=True)
        open(os.path.join(root, "var/lib/dpkg/status"), "w").close()
        archive, security, keyring = mirrors()
        signed = " [signed-by=%s]" % keyring if keyring else ""
        if source_suites:
            lines = ["deb-src%s %s %s main" % (signed, uri, suite) for uri in archive for suite in source_suites]
        else:
            lines = ["deb%s %s %s main" % (signed, uri, suite)
                     for uri in archive for suite in (release, release + "-updates")]
            lines += ["deb%s %s %s%s main" % (signed, uri, release, SECURITY_SUFFIX) for uri in security]
        with open(os.path.join(root, "etc/apt/sources.list"), "w") as f:
            f.write("\n".join(lines) + "\n")
        self.config = os.path.join(root, "apt.conf")
        with open(self.config, "w") as f:
            f.write('Dir "%s/";\n' % root)
            f.write('Dir::State::status "%s/var/lib/dpkg/status";\n' % root)
            f.write('APT::Architecture "%s";\nAPT::Architectures { "%s"; };\n' % (arch, arch))
            f.write('APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n')
            f.write('APT::Sandbox::User "root";\nAcquire::Languages "none";\n')
            if source_suites:
                # A suite past its Valid-Until is still signed; its Sources still say what it carries.
                f.write('Acquire::Check-Valid-Until "false";\n')

    def run(self, *args, cwd=None):
        """apt-get ARGS with this configuration (in `cwd`: where `apt-get download` writes)."""
        env = dict(os.environ, APT_CONFIG=self.config, LC_ALL="C", DEBIAN_FRONTEND="noninteractive")
        return subprocess.run(["apt-get"] + list(args), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, cwd=cwd)

    def update(self):
        out = self.run("update", "-q")
        if out.returncode != 0 or re.search(r"^(E|W): ", out.stdout, re.M):
            raise LockError("apt-get update for %s failed:\n%s" % (self.release, out.stdout[-2000:]))

    def resolve(self, names):
        """[(name, version, arch)] apt would install on an empty system, sorted by name."""
        out = self.run("install", "-s", "-q", "-y", *names)
        if out.returncode != 0:
            missing = re.findall(r"Unable to locate package (\S+)", out.stdout)
            missing += re.findall(r"Package '?(\S+?)'? has no installation candidate", out.stdout)
            if missing:
                raise LockError("package %s does not exist in Debian %s (%s)" %
                                (", ".join(sorted(set(missing))), self.release, self.arch))
            raise LockError("apt cannot install the list on Debian %s:\n%s" %
                            (self.release, out.stdout[-3000:]))
        found = re.findall(r"^Inst (\S+) (?:\[\S+\] )?\((\S+) .*\[(\S+)\]\)", out.stdout, re.M)
        return sorted(set((n.split(":")[0], v, a) for n, v, a in found))

    def index(self):
        """{(name, version, arch): record} from the downloaded Packages indexes."""
        records = {}
        lists = sorted(glob.glob(os.path.join(self.root, "var/lib/apt/lists/*_Packages")))
        for path in lists:
            suite = re.search(r"_dists_(.+?)_main_", os.path.basename(path)).group(1)
            with open(path, encoding="utf-8", errors="replace") as f:
                for stanza in f.read().split("\n\n"):
                    fields = dict(re.findall(r"^([A-Za-z0-9-]+): (.*)$", stanza, re.M))
                    if "Package" not in fields:
                        continue
                    key = (fields["Package"], fields["Version"], fields["Architecture"])
                    depends = ", ".join(fields.get(k, "") for k in ("Pre-Depends", "Depends"))
                    record = {
                        "depends": sorted(set(re.findall(r"([a-z0-9][a-z0-9+.-]+)", re.sub(r"\([^)]*\)|:any", "", depends)))),
                        "provides": sorted(set(re.findall(r"([a-z0-9][a-z0-9+.-]+)", re.sub(r"\([^)]*\)", "", fields.get("Provides", ""))))),
                        "name": fields["Package"],
                        "version": fields["Version"],
                        "architecture": fields["Architecture"],
                        "sha256": fields["SHA256"],
                        "size": int(fields["Size"]),
                        "filename": fields["Filename"],
                        "suite": suite,
                    }
                    # The same file can be in several suites; the security suite names it best.
                    if key not in records or suite.endswith(SECURITY_SUFFIX):
                        records[key] = record
        return records


def prune(packages, names, excluded):
    """The packages reachable from names through dependencies that do not pass an excluded one.

    This walks the graph apt already chose (each dependency, every alternative, virtual names
    through Provides); it does not resolve anything itself."""
    by_name = {p["name"]: p for p in packages}
    providers = {}
    for p in packages:
        for virtual in [p["name"]] + p["provides"]:
            providers.setdefault(virtual, []).append(p["name"])
    keep, todo = set(), [n for n in names]
    while todo:
        name = todo.pop()
        if name in keep or name in excluded or name not in by_name:
            continue
        keep.add(name)
        for dep in by_name[name]["depends"]:
            todo += [d for d in providers.get(dep, []) if d not in excluded]
    return [p for p in packages if p["name"] in keep]


def resolve_lock(names, excluded, release, arch, apt=None):
    """The lock apt resolves now for names (on apt, an updated PrivateApt of that release and
    architecture, when given: tools/outdated.py resolves several lists on one)."""
    if apt is None:
        with tempfile.TemporaryDirectory(prefix="pyimage-apt.") as root:
            apt = PrivateApt(root, release, arch)
            apt.update()
            return resolve_lock(names, excluded, release, arch, apt)
    index = apt.index()
    packages = []
    for key in apt.resolve(names):
        if key not in index:
            raise LockError("apt chose %s %s (%s) but no index lists it" % key)
        packages.append(dict(index[key]))
    packages = prune(packages, names, set(excluded))
    kept = set(p["name"] for p in packages)
    for p in packages:
        p["depends"] = [d for d in p["depends"] if d in kept]
        del p["provides"]
    return {
        "release": release,
        "architecture": arch,
        "input_digest": list_digest(names, excluded, release, arch),
        "requested": sorted(set(names)),
        "excluded": sorted(set(excluded)),
        "packages": packages,
    }


def changes(old, new):
    """Human lines: what differs between two locks' packages."""
    before = {p["name"]: p for p in (old or {}).get("packages", [])}
    after = {p["name"]: p for p in new["packages"]}
    lines = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        if b and a and b["version"] == a["version"] and b["sha256"] == a["sha256"]:
            continue
        mark = "  [security]" if a and a["suite"].endswith(SECURITY_SUFFIX) else ""
        if b and a:
            lines.append("  %s %s -> %s%s" % (name, b["version"], a["version"], mark))
        elif a:
            lines.append("  + %s %s%s" % (name, a["version"], mark))
        else:
            lines.append("  - %s %s" % (name, b["version"]))
    return lines


def write_json_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def read_lock(path):
    """The lock at path, or None where there is none yet: no file, or an empty one (a new lock
    starts as an empty file, so that its update target has something to depend on)."""
    if not os.path.exists(path):
        return None
    with open(path) as f:
        text = f.read()
    if not text.strip():
        return None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise LockError("%s is not a valid lock (%s); empty the file to start it again" % (path, err)) from err
    if not isinstance(data, dict) or not isinstance(data.get("packages"), list):
        raise LockError("%s is not a lock (no 'packages' list); empty the file to start it again" % path)
    return data
