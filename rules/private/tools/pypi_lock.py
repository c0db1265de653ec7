"""A wheel lock and the package index as a library (no entry point): the strict lock parsers
(a pip-tools lock as strict as pip's --require-hashes, a PEP 751 pylock.toml and a uv.lock, each
read for one target), the dependencies, and pip's own package finder and HTTP session set up as
pip is on this machine. fetch_wheels.py fetches a lock
with it; outdated.py asks it for newer releases.

fetch_wheels.py runs as a script from the pyimage_pip_packages repository rule (its directory is
then on sys.path), and Bazel's tools import it as rules.private.tools.pypi_lock.
"""

import hashlib
import logging
import os
import re
import sys
import tempfile


class FetchError(Exception):
    pass


def normalize(name):
    return re.sub(r"[-_.]+", "_", name).lower()


# What a line of options may say, and why it is refused: the lock must be what pip-compile
# --generate-hashes writes, and as strict as pip's --require-hashes reads it.
_REFUSED_OPTIONS = {
    "-e": "an editable requirement cannot be pinned by a hash",
    "--editable": "an editable requirement cannot be pinned by a hash",
    "-r": "a lock includes no other file",
    "--requirement": "a lock includes no other file",
    "-c": "a lock includes no other file",
    "--constraint": "a lock includes no other file",
    "-i": "the index comes from this machine's pip configuration, never from the lock",
    "--index-url": "the index comes from this machine's pip configuration, never from the lock",
    "--extra-index-url": "the index comes from this machine's pip configuration, never from the lock",
    "-f": "the index comes from this machine's pip configuration, never from the lock",
    "--find-links": "the index comes from this machine's pip configuration, never from the lock",
    "--no-index": "the index comes from this machine's pip configuration, never from the lock",
    "--trusted-host": "the index comes from this machine's pip configuration, never from the lock",
}
_COMMENT = re.compile(r"(^|\s)#.*$")
# What a name, a PEP 440 version and a sha256 may hold: they reach file names and BUILD text.
_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+!_-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _logical_lines(text):
    """(line number, physical line, code) of each line of a requirements file, with lines ending
    in a backslash joined to the next as pip joins them; code is the line without its comment.
    A comment line ends a continuation and comes as a line of its own (code empty)."""
    joined, first = [], None
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.strip().startswith("#"):
            if joined:
                yield first, joined[0], _COMMENT.sub("", " ".join(joined)).strip()
                joined = []
            yield number, raw, ""
            continue
        if not joined:
            first = number
        if raw.rstrip().endswith("\\"):
            joined.append(raw.rstrip()[:-1])
            continue
        joined.append(raw)
        yield first, joined[0], _COMMENT.sub("", " ".join(joined)).strip()
        joined = []
    if joined:
        yield first, joined[0], _COMMENT.sub("", " ".join(joined)).strip()


def parse_lock(text):
    """{normalized name: {"name", "version", "hashes", "via"}} of a pip-compile lock.

    As strict as pip's --require-hashes: a hash counts only as a `--hash=sha256:` option of its
    requirement's (joined) line, never in a comment; a package pinned twice, an editable or
    included requirement and an index option are errors naming the line."""
    packages, current, in_via = {}, None, False
    for number, raw, code in _logical_lines(text):
        if not code:
            # `# via` annotations: indented comment lines below a requirement.
            line = raw.strip()
            if not raw.startswith((" ", "\t")) or current is None:
                in_via = False
                continue
            via = re.match(r"#\s+via\s*(.*)$", line)
            if via:
                in_via = True
                if via.group(1):
                    current["via"].append(via.group(1).strip())
            elif in_via:
                item = re.match(r"#\s+(\S.*)$", line)
                if item:
                    current["via"].append(item.group(1).strip())
                else:
                    in_via = False
            continue
        in_via = False
        if code.startswith("-"):
            option = code.split()[0].split("=")[0]
            raise FetchError("line %d of the lock, %r: %s (an option pip-compile --generate-hashes "
                             "does not write there; remove it, or run the update command)" % (
                                 number, raw.strip(), _REFUSED_OPTIONS.get(option, "an option outside a requirement")))
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)(.*)$", code)
        if not m:
            raise FetchError("the lock has a line that is not `name==version`: %r (an unpinned or "
                             "hand-edited requirement)" % raw)
        name, version, rest = m.groups()
        hashes = []
        for option in re.findall(r"(?:^|\s)(--\S+(?:\s+(?!--)[^\s;]+)?)", rest):
            h = re.fullmatch(r"--hash[=\s]sha256:([0-9a-f]{64})", option)
            if not h:
                raise FetchError("line %d of the lock: %s==%s has the option %r; only --hash=sha256:<64 hex "
                                 "digits> may follow a pin" % (number, name, version, option))
            hashes.append(h.group(1))
        key = normalize(name)
        if key in packages:
            raise FetchError("line %d of the lock pins %s==%s, but %s==%s is pinned already: a package is "
                             "pinned once (a damaged or hand-merged lock; run the update command)" % (
                                 number, name, version, packages[key]["name"], packages[key]["version"]))
        current = packages[key] = {"name": name, "version": version, "hashes": hashes, "via": []}
    for p in packages.values():
        # Only what a PEP 440 version can hold: the version reaches file names and BUILD text.
        if not _VERSION.fullmatch(p["version"]):
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




def lock_format(filename):
    """"uv.lock", "pylock" (PEP 751) or "requirements", from a lock's file name (common.bzl's
    wheel_lock_format says the same at analysis)."""
    base = os.path.basename(filename)
    if base == "uv.lock":
        return "uv.lock"
    if base.startswith("pylock.") and base.endswith(".toml"):
        return "pylock"
    return "requirements"


def python_target(python_version):
    """(minor, free_threaded) of a target's Python as locks and wheels are fetched for it: "3.13"
    is (3, 13) with the GIL, "3.14t" (3, 14) free-threaded; anything else raises ValueError."""
    match = re.fullmatch(r"3\.([0-9]+)(t?)", python_version)
    if not match:
        raise ValueError("%r is not a Python 3 minor version such as 3.13 (or 3.14t, free-threaded)" % python_version)
    return int(match.group(1)), bool(match.group(2))


def marker_environment(python_version, machine):
    """PEP 508's environment of CPython `python_version` ("3.13", or "3.14t") on Linux `machine`.

    The patch release is not known here (the lock is fetched for a minor version): markers on
    python_full_version are evaluated for the minor version's first release. PEP 508 has no
    marker for the free-threaded build: "3.14t" reads as "3.14"."""
    python_version = "3.%d" % python_target(python_version)[0]
    return {
        "implementation_name": "cpython",
        "implementation_version": python_version + ".0",
        "os_name": "posix",
        "platform_machine": machine,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": python_version + ".0",
        "python_version": python_version,
        "sys_platform": "linux",
    }


def _marker(text, where):
    try:
        from pip._vendor.packaging.markers import InvalidMarker, Marker
    except ImportError as err:
        raise FetchError("the pip of %s lacks packaging's markers (%s); install pip 23 or newer" % (sys.executable, err)) from err
    try:
        return Marker(text)
    except InvalidMarker as err:
        raise FetchError("%s: the marker %r does not parse: %s" % (where, text, err)) from err


def _holds(marker, env, extras=("",)):
    """Whether `marker` (a parsed Marker, or None: always) holds in `env` for any of `extras`."""
    return marker is None or any(marker.evaluate(dict(env, extra=e)) for e in extras)


def _applies(text, env, where, extras=("",)):
    """Whether the marker `text` (empty: always) holds in `env` for any of `extras`."""
    return _holds(_marker(text, where) if text else None, env, extras)


def _toml(text, what):
    try:
        import tomllib
    except ImportError as err:
        raise FetchError("reading %s needs Python 3.11 or newer (tomllib); %s is older" % (what, sys.executable)) from err
    try:
        return tomllib.loads(text)
    except ValueError as err:
        raise FetchError("%s is not valid TOML: %s" % (what, err)) from err


def _entry(name, version, hashes, where):
    """A package as parse_lock gives it, its name, version and hashes checked."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise FetchError("%s: %r is not a package name" % (where, name))
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise FetchError("%s: %s has the version %r, which is not a PEP 440 version (a damaged or "
                         "hand-edited lock)" % (where, name, version))
    for h in hashes:
        if not _SHA256.fullmatch(h):
            raise FetchError("%s: %s==%s has the sha256 %r, which is not 64 hex digits" % (where, name, version, h))
    if not hashes:
        raise FetchError("%s: %s==%s has no sha256 of any file; a lock must pin each file by its hash" % (
            where, name, version))
    return {"name": name, "version": version, "hashes": sorted(set(hashes)), "via": []}


def _sha256_of(value, where):
    """The hex digest of a uv.lock `hash = "sha256:..."` or a pylock `hashes = {sha256 = ...}`."""
    if isinstance(value, dict):
        if "sha256" not in value:
            raise FetchError("%s: the file has no sha256 among its hashes %s" % (where, sorted(value)))
        return value["sha256"]
    if isinstance(value, str) and value.startswith("sha256:"):
        return value[len("sha256:"):]
    raise FetchError("%s: the file's hash %r is not a sha256" % (where, value))


def parse_pylock(text, env, filename="pylock.toml"):
    """(packages, deps) of a PEP 751 lock for the target `env`; deps is None when the lock lists
    no dependencies (the fetch then reads them from each file's metadata, after its hash check)."""
    data = _toml(text, filename)
    version = str(data.get("lock-version", ""))
    if not version.startswith("1."):
        raise FetchError("%s has lock-version %r; PEP 751 version 1.x is read" % (filename, version or None))
    environments = data.get("environments")
    if environments and not any(_applies(m, env, filename) for m in environments):
        raise FetchError("%s is for the environments %s, and CPython %s on Linux %s is none of them; "
                         "lock for this target" % (filename, environments, env["python_version"], env["platform_machine"]))
    packages, listed, any_deps = {}, {}, False
    for i, p in enumerate(data.get("packages", [])):
        name = p.get("name", "packages[%d]" % i)
        where = "%s, %s" % (filename, name)
        if not _applies(p.get("marker", ""), env, where):
            continue
        for kind in ("vcs", "directory", "archive"):
            if kind in p:
                raise FetchError("%s comes from a %s, which cannot be fetched from an index by hash; "
                                 "publish it to the index, or build it as a Bazel target" % (where, kind))
        hashes = [_sha256_of(w.get("hashes"), where) for w in p.get("wheels", [])]
        if p.get("sdist"):
            hashes.append(_sha256_of(p["sdist"].get("hashes"), where))
        key = normalize(name)
        if key in packages:
            raise FetchError("%s: %s is locked twice for this target (%s and %s); a package is locked once "
                             "per environment" % (filename, name, packages[key]["version"], p.get("version")))
        packages[key] = _entry(name, p.get("version"), hashes, where)
        if "dependencies" in p:
            any_deps = True
            listed[key] = [normalize(d.get("name", "")) for d in p["dependencies"]]
    if not any_deps:
        return packages, None
    return packages, {k: sorted(set(d for d in listed.get(k, []) if d in packages)) for k in packages}


def parse_uv_lock(text, env, filename="uv.lock"):
    """(packages, deps) of a uv.lock for the target `env`: the packages its projects (sources
    virtual, editable or directory: the team's own code, not fetched) need there, following each
    dependency whose marker holds, with the extras asked for; dev groups are left out."""
    data = _toml(text, filename)
    if data.get("version") != 1:
        raise FetchError("%s has version %r; uv's lock version 1 is read" % (filename, data.get("version")))
    entries = data.get("package", [])
    by_name = {}
    for e in entries:
        by_name.setdefault(normalize(e.get("name", "")), []).append(e)
    project_kinds = ("virtual", "editable", "directory")

    def is_project(e):
        return any(k in e.get("source", {}) for k in project_kinds)

    def resolve(dep, where):
        candidates = by_name.get(normalize(dep.get("name", "")), [])
        if "version" in dep:
            candidates = [e for e in candidates if e.get("version") == dep["version"]]
        if "source" in dep:
            candidates = [e for e in candidates if e.get("source") == dep["source"]]
        if len(candidates) != 1:
            raise FetchError("%s: %s needs %s, which the lock holds %d times; the lock is damaged or hand-edited "
                             "(run uv lock)" % (filename, where, dep.get("name"), len(candidates)))
        return candidates[0]

    roots = [e for e in entries if is_project(e)]
    if not roots:
        raise FetchError("%s holds no project (a package with a virtual, editable or directory source); it "
                         "is not a project's uv.lock" % filename)
    packages, deps, seen = {}, {}, set()
    todo = [(root, ()) for root in roots]
    while todo:
        entry, extras = todo.pop()
        ident = (normalize(entry["name"]), entry.get("version"), tuple(sorted(extras)))
        if ident in seen:
            continue
        seen.add(ident)
        key = normalize(entry["name"])
        edges = list(entry.get("dependencies", []))
        for extra in extras:
            edges += entry.get("optional-dependencies", {}).get(extra, [])
        targets = []
        for dep in edges:
            if not _applies(dep.get("marker", ""), env, "%s, %s" % (filename, entry["name"])):
                continue
            child = resolve(dep, entry["name"])
            if not is_project(child):
                targets.append(normalize(child["name"]))
            todo.append((child, tuple(dep.get("extra", []))))
        if is_project(entry):
            continue
        source = entry.get("source", {})
        if "registry" not in source:
            kind = next(iter(source), "unknown")
            raise FetchError("%s: %s %s comes from a %s source, which cannot be fetched from an index by "
                             "hash; publish it to the index, or build it as a Bazel target" % (
                                 filename, entry["name"], entry.get("version"), kind))
        where = "%s, %s" % (filename, entry["name"])
        if key in packages and packages[key]["version"] != entry.get("version"):
            raise FetchError("%s: %s is needed at %s and at %s for this target; a package is installed once" % (
                filename, entry["name"], packages[key]["version"], entry.get("version")))
        hashes = [_sha256_of(w.get("hash"), where) for w in entry.get("wheels", [])]
        if entry.get("sdist"):
            hashes.append(_sha256_of(entry["sdist"].get("hash"), where))
        packages[key] = _entry(entry["name"], entry.get("version"), hashes, where)
        deps.setdefault(key, set()).update(targets)
    return packages, {k: sorted(deps.get(k, set()) - {k}) for k in packages}


def read_lock(filename, text, python_version, machine):
    """(packages, deps) of any lock this fetches: {key: {"name", "version", "hashes"}} and
    {key: [keys it depends on]}, or None for a pylock.toml without dependencies."""
    fmt = lock_format(filename)
    env = marker_environment(python_version, machine)
    if fmt == "uv.lock":
        return parse_uv_lock(text, env, os.path.basename(filename))
    if fmt == "pylock":
        return parse_pylock(text, env, os.path.basename(filename))
    packages = parse_lock(text)
    return packages, dependencies(packages)


def metadata_requirements(path, filename):
    """The Requires-Dist lines and Provides-Extra of a wheel's METADATA or an sdist's PKG-INFO
    (metadata 2.2 or newer with static dependencies), read from the archive without unpacking
    it; None when an sdist does not state its dependencies. Call only after the hash check."""
    import email.parser
    import tarfile
    import zipfile
    limit = 1 << 20
    raw = None
    if filename.endswith(".whl"):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
            if len(names) == 1 and z.getinfo(names[0]).file_size <= limit:
                raw = z.read(names[0])
    elif filename.endswith(".tar.gz"):
        with tarfile.open(path, "r:gz") as t:
            for member in t:
                if member.isfile() and re.fullmatch(r"[^/]+/PKG-INFO", member.name) and member.size <= limit:
                    raw = t.extractfile(member).read()
                    break
    if raw is None:
        return None
    message = email.parser.BytesParser().parsebytes(raw, headersonly=True)
    version = tuple(int(x) for x in re.findall(r"\d+", message.get("Metadata-Version", "1.0"))[:2])
    dynamic = [d.lower() for d in message.get_all("Dynamic", [])]
    if not filename.endswith(".whl") and (version < (2, 2) or "requires-dist" in dynamic):
        return None
    return message.get_all("Requires-Dist", []), message.get_all("Provides-Extra", [])


def dependencies_from_metadata(packages, requirements, env):
    """{key: [keys]} from each package's Requires-Dist ({key: (lines, extras)}): a requirement
    counts when the lock holds it and its marker holds for the target, for no extra or for one of
    the package's extras (a lock without a dependency list does not say which extras it took)."""
    try:
        from pip._vendor.packaging.requirements import InvalidRequirement, Requirement
    except ImportError as err:
        raise FetchError("the pip of %s lacks packaging (%s); install pip 23 or newer" % (sys.executable, err)) from err
    deps = {}
    for key, (lines, extras) in requirements.items():
        found = set()
        for line in lines:
            try:
                req = Requirement(line)
            except InvalidRequirement as err:
                raise FetchError("%s's metadata has the requirement %r, which does not parse: %s" % (
                    packages[key]["name"], line, err)) from err
            dep = normalize(req.name)
            if dep in packages and dep != key and _holds(req.marker, env, [""] + list(extras)):
                found.add(dep)
        deps[key] = sorted(found)
    return deps


def pip_configuration():
    """(pip's download command, its options): this machine's pip configuration (files and PIP_*
    variables) as pip itself parses it. The fetch, `wheel_lock`'s uv (which is given the same
    indexes) and its error messages all read it here."""
    try:
        from pip._internal.commands import create_command
    except ImportError as err:
        raise FetchError("the pip of %s lacks what the fetch uses (%s); install pip 23 or newer "
                         "for that python3" % (sys.executable, err)) from err
    command = create_command("download")
    options, _ = command.parse_args([])
    return command, options


def _abi3(filename):
    """Whether a wheel's ABI tag is the limited API's (abi3), which no free-threaded CPython loads."""
    return filename.endswith(".whl") and "abi3" in filename[:-len(".whl")].split("-")[-2].split(".")


class Index:
    """pip's own package finder and HTTP session, set up as pip is on this machine.

    The index URLs, find-links, certificates, proxies and credentials are pip's configuration
    (files and PIP_* variables); the lock names no index. pip is asked only for the files each
    release offers and how well each fits the target; it never downloads, unpacks or builds
    anything here. The file is downloaded below and kept only when its sha256 is in the lock.
    """

    def __init__(self, python_version, platforms, quiet=False):
        os.environ.setdefault("PIP_NO_INPUT", "1")  # never wait for a password prompt
        # pip's warnings (an index page it skips, a location that is not there) go to stderr,
        # which the repository rule shows only when the fetch fails; its notes stay quiet.
        logging.getLogger("pip").setLevel(logging.ERROR if quiet else logging.WARNING)
        try:
            from pip._internal.models.target_python import TargetPython
            from pip._internal.network.utils import response_chunks
            from pip._internal.utils.hashes import Hashes
            from pip._internal.utils.misc import redact_auth_from_url
            from pip._vendor.packaging.specifiers import SpecifierSet
        except ImportError as err:
            raise FetchError("the pip of %s lacks what the fetch uses (%s); install pip 23 or newer "
                             "for that python3" % (sys.executable, err)) from err
        self._hashes, self._specifier, self._chunks = Hashes, SpecifierSet, response_chunks
        self.redact = redact_auth_from_url
        command, options = pip_configuration()
        self.session = command._build_session(options)
        # A free-threaded interpreter loads only extensions of its own ABI (cp314t): the limited
        # API (abi3) does not exist there.
        minor, free_threaded = python_target(python_version)
        # pip before 24.1 (its packaging) still adds abi3 to any CPython's tags: candidates()
        # drops those wheels for a free-threaded target itself.
        abis = ["cp3%dt" % minor, "none"] if free_threaded else ["cp3%d" % minor, "abi3", "none"]
        self.free_threaded = free_threaded
        target = TargetPython(platforms=list(platforms), py_version_info=(3, minor),
                              abis=abis, implementation="cp")
        self.finder = command._build_package_finder(options=options, session=self.session,
                                                    target_python=target, ignore_requires_python=True)

    def candidates(self, pkg, wheels):
        """The files of pkg's pinned release that fit the target, best first: wheels by pip's tag
        preference, then the sdist; `wheels=False` keeps the sdist alone. Files whose sha256, as the
        index states it, is not in the lock come last (they are only fetched to name their hash)."""
        found = self.finder.find_all_candidates(pkg["name"])
        evaluator = self.finder.make_candidate_evaluator(
            pkg["name"], self._specifier("==" + pkg["version"]), self._hashes({"sha256": pkg["hashes"]}))
        ranked = [c for c in reversed(evaluator.get_applicable_candidates(found))
                  if (wheels or not c.link.is_wheel) and not (self.free_threaded and _abi3(c.link.filename))]

        def stated_elsewhere(c):
            return c.link.hash_name == "sha256" and c.link.hash not in pkg["hashes"]

        return [c for c in ranked if not stated_elsewhere(c)] + [c for c in ranked if stated_elsewhere(c)]

    def download(self, link, workdir):
        """(path, sha256) of the file behind link, written to a new file in workdir."""
        url = link.url_without_fragment
        fd, path = tempfile.mkstemp(dir=workdir)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                response = self.session.get(url, headers={"Accept-Encoding": "identity"}, stream=True)
                response.raise_for_status()
                for chunk in self._chunks(response):
                    digest.update(chunk)
                    out.write(chunk)
        except Exception as err:  # requests' and pip's network errors alike
            os.unlink(path)
            raise FetchError("could not download %s: %s" % (self.redact(url), err)) from err
        return path, digest.hexdigest()
