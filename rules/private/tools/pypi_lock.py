"""A pip-tools lock and the package index as a library (no entry point): the strict lock parser
(as strict as pip's --require-hashes), the dependencies from its `# via` lines, and pip's own
package finder and HTTP session set up as pip is on this machine. fetch_wheels.py fetches a lock
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
            from pip._internal.commands import create_command
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
        command = create_command("download")
        options, _ = command.parse_args([])
        self.session = command._build_session(options)
        minor = int(python_version.split(".")[1])
        target = TargetPython(platforms=list(platforms), py_version_info=(3, minor),
                              abis=["cp3%d" % minor, "abi3", "none"], implementation="cp")
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
                  if wheels or not c.link.is_wheel]

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
