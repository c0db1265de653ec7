"""Writes or checks a hash-pinned wheel lock, resolved by uv (the default) or pip-tools on the
interpreter this runs on.

In:  requirements.in (and the files its -r/-c lines name), or a uv project's pyproject.toml; the
     existing lock (its pins are kept unless they no longer fit); the machine's pip configuration
     (index, mirrors, certificates), which uv gets translated into its own options (uv's own
     configuration files and UV_* variables are not read: the fetch reads pip's, and both must
     see the same indexes); --sdist NAME for each package whose metadata may come from its sdist.
     The lock's format follows its name: `uv.lock` (from pyproject.toml, by `uv lock`),
     `pylock.toml` or `pylock.NAME.toml` (PEP 751, by `uv pip compile --format pylock.toml`),
     anything else pip-tools' requirements format.
Out: the resolution reads wheels only (`--only-binary=:all:`): no sdist's build backend and no
     unpinned build dependency runs on this machine, which has the network and the user's files.
     A package named by --sdist is resolved from its sdist (`--no-binary NAME`), which runs its
     build backend here: list only packages whose sdist you trust. requirements.in may hold
     requirements and -r/-c lines only; an option that changes where packages come from or how
     they are built (-e, --index-url, --find-links, --no-binary, ...) or a direct reference
     (`name @ URL`, a path) is refused, naming the file and line.
     `update` rewrites the lock (with --generate-hashes, no index URL or find-links written)
     through a temporary name and prints what changed; extra arguments after `--` go to
     pip-compile (for example `--upgrade`, `--upgrade-package NAME`). `check` resolves again into
     a scratch copy and fails with a diff and the update command when the result differs from
     the lock (a requirement added or removed, a pin or hash edited by hand).

uv:  the same rules. The resolution reads wheels only (`--only-binary :all:`, `uv lock --no-build`);
     pins are kept by seeding the output with the old lock's pins (never its hashes); a uv.lock is
     written in a scratch directory and moved into place, and checked by `uv lock --check
     --offline` (the lock against pyproject.toml, without the network).

Usage: wheel_lock.py update|check --requirements FILE --lock FILE --update-command CMD
                     [--resolver uv|pip-tools] [--sdist NAME ...] [-- ARGS]
"""

import argparse
import difflib
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from rules.private.tools.pypi_lock import lock_format, normalize, pip_configuration

PIP_COMPILE_FLAGS = [
    "--generate-hashes",
    "--allow-unsafe",
    "--no-emit-index-url",
    "--no-emit-find-links",
    "--no-emit-trusted-host",
    # The format options below (--only-binary) are how this machine resolves, not part of the
    # lock, and the lock parser of pyimage_pip_packages refuses option lines.
    "--no-emit-options",
    "--strip-extras",
    # Hashes are computed from the files, never copied from the old lock, so a hash edited by
    # hand is caught.
    "--no-reuse-hashes",
    "--quiet",
]


# Lines of requirements.in that are allowed to be options: other requirement and constraint files.
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)$")


def check_requirements(path, seen=None):
    """Refuses what would make pip build, install or look elsewhere; follows -r and -c files."""
    seen = set() if seen is None else seen
    path = os.path.normpath(path)
    if path in seen:
        return
    seen.add(path)
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as e:
        sys.exit("ERROR: cannot read the requirements file %s: %s" % (path, e.strerror))
    for number, raw in enumerate(lines, 1):
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if not line:
            continue
        where = "%s:%d: %r" % (path, number, raw.strip())
        include = _INCLUDE.match(line)
        if include:
            check_requirements(os.path.join(os.path.dirname(path), include.group(2)), seen)
        elif line.startswith("-"):
            sys.exit("ERROR: %s: requirements.in may hold requirements, -r and -c lines only; this "
                     "option changes where packages come from or how they are built. Indexes and "
                     "mirrors come from the machine's pip configuration; a package to resolve from "
                     "its sdist goes in wheel_lock's resolve_from_sdist." % where)
        elif any(c in line.split(";")[0] for c in "@/\\") or line.startswith("."):
            sys.exit("ERROR: %s: a direct reference (a URL or a path) cannot be pinned by hash from "
                     "an index; name the package and a version instead (for example attrs==26.1.0)." % where)


def pins(text):
    return dict(re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.M))


def body(text):
    """The lock without its header comment (which names the command that wrote it)."""
    lines = text.splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return lines


# What pass 2 must not get from the arguments after `--`: it keeps pass 1's versions.
_UPGRADE_FLAGS = ("--upgrade", "-U")
_UPGRADE_OPTIONS = ("--upgrade-package", "-P")


def split_extra(extra):
    """(the values of --pip-args, pass 1's other arguments, pass 2's other arguments)."""
    pip_args, first, second = [], [], []
    i = 0
    while i < len(extra):
        arg = extra[i]
        value = extra[i + 1] if i + 1 < len(extra) else None
        if arg.startswith("--pip-args="):
            pip_args.append(arg.split("=", 1)[1])
        elif arg == "--pip-args" and value is not None:
            pip_args.append(value)
            i += 1
        elif arg in _UPGRADE_OPTIONS and value is not None:
            first += [arg, value]
            i += 1
        elif arg in _UPGRADE_FLAGS or arg.startswith(tuple(o + "=" for o in _UPGRADE_OPTIONS)):
            first.append(arg)
        else:
            first.append(arg)
            second.append(arg)
        i += 1
    return pip_args, first, second


def index_reachable():
    """Whether pip's index (as this machine's pip configuration names it) answers at all."""
    command, options = pip_configuration()
    if options.no_index:
        return True
    url = options.index_url
    if local_path(url) is not None:
        return os.path.isdir(local_path(url))
    try:
        with command._build_session(options, retries=0, timeout=min(options.timeout, 10)) as session:
            session.get(url, headers={"Accept": "text/html"})
    except Exception:  # requests' connection errors, whatever their class
        return False
    return True


def run_pip_compile(requirements, output, update_command, pip_args, args):
    env = dict(os.environ, CUSTOM_COMPILE_COMMAND=update_command, PYTHONPATH=os.pathsep.join(sys.path))
    # Format options from the environment or pip.conf would undo --only-binary: drop them.
    for key in ("PIP_NO_BINARY", "PIP_ONLY_BINARY", "PIP_PREFER_BINARY"):
        env.pop(key, None)
    # pip-compile has no format options of its own: they go to pip through --pip-args, in this
    # order (":all:" clears the names given before it).
    cmd = [sys.executable, "-m", "piptools", "compile"] + PIP_COMPILE_FLAGS + [
        "--pip-args", " ".join(pip_args)] + args + ["--output-file", output, requirements]
    return subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def compile_lock(requirements, output, update_command, extra, sdists=()):
    """Two passes. Pass 1 picks the versions from wheels only (`--only-binary=:all:`, except the
    packages in `sdists`), and so runs no sdist's build code. pip then lists only the wheels'
    hashes; the lock must also pin each version's sdist (pyimage_pip_packages builds an sdist
    when no wheel fits the image's Python). Pass 2 resolves again over pass 1's lock, whose pins
    pip-tools keeps, with every file allowed: for each version pass 1 took from a wheel, pip
    takes that wheel again (it ranks a fitting wheel above the sdist of the same version), so
    no sdist is built, and it writes the hashes of every file of the version. Pass 2 must end
    with pass 1's versions; otherwise nothing is written."""
    user_pip_args, first, second = split_extra(extra)
    no_binary = ["--no-binary=%s" % name for name in sdists]
    # pip-tools keeps the pins of the lock it writes over, and pip checks the files against that
    # lock's hashes and ranks an allowed hash first: one hash edited by hand would fail pass 1,
    # or, with sdists allowed, make pip take (and build) the sdist whose hash still matches. The
    # pins are kept, the hashes are not: each is computed from the file.
    if os.path.exists(output):
        with open(output) as f:
            kept = pins(f.read())
        with open(output, "w") as f:
            f.write("".join("%s==%s\n" % pin for pin in kept.items()))
    result = run_pip_compile(requirements, output, update_command,
                             ["--only-binary=:all:"] + no_binary + user_pip_args, first)
    if result.returncode == 0:
        with open(output) as f:
            resolved = pins(f.read())
        result = run_pip_compile(requirements, output, update_command,
                                 ["--prefer-binary"] + no_binary + user_pip_args, second)
        if result.returncode == 0:
            with open(output) as f:
                hashed = pins(f.read())
            if hashed != resolved:
                moved = ["%s %s -> %s" % (n, resolved.get(n, "(none)"), hashed.get(n, "(none)"))
                         for n in sorted(set(resolved) | set(hashed)) if resolved.get(n) != hashed.get(n)]
                sys.exit("ERROR: pip-compile's second pass (the hashes of every file) moved pins of %s "
                         "that the wheels-only pass resolved: %s. Nothing was written; pin them in %s "
                         "and run: %s" % (requirements, ", ".join(moved), requirements, update_command))
    if result.returncode != 0:
        out = result.stdout
        hint = ""
        m = re.search(r"No matching distribution found for (\S+)", out) or \
            re.search(r"Could not find a version that (?:matches|satisfies the requirement) (\S+)", out)
        if m and not index_reachable():  # pip-compile --quiet says only "no matching distribution"
            hint = ("the index cannot be reached (no network, or the index of this machine's pip "
                    "configuration is wrong). ")
        elif m:
            hint = ("the requirement %s cannot be found on the index as a wheel for this Python "
                    "(the resolution reads wheels only, so that no sdist's build code runs on this "
                    "machine): check its name and version; if it has only an sdist and you trust "
                    "it, add it to wheel_lock's resolve_from_sdist. " % m.group(1))
        elif "conflict" in out.lower() or "ResolutionImpossible" in out:
            hint = "the requirements conflict. "
        sys.exit("ERROR: pip-compile failed for %s: %sFix %s and run: %s\n%s" % (
            requirements, hint, requirements, update_command, out.strip()[-3000:]))


def toml_pins(text, fmt):
    """{name: version} of a pylock.toml or uv.lock (a uv.lock's own project left out)."""
    try:
        import tomllib
        data = tomllib.loads(text)
    except ValueError as err:
        sys.exit("ERROR: the lock is not valid TOML: %s" % err)
    entries = data.get("packages" if fmt == "pylock" else "package", [])
    found = {}
    for entry in entries:
        source = entry.get("source", {})
        if fmt == "uv.lock" and not source.get("registry"):
            continue
        name = entry.get("name", "?")
        found[name] = ", ".join(filter(None, [found.get(name), str(entry.get("version", "?"))]))
    return found


def lock_pins(text, fmt):
    return pins(text) if fmt == "requirements" else toml_pins(text, fmt)


def find_uv():
    """The uv binary of the `uv` wheel on sys.path (wheel_library unpacks it as uv-VERSION.data/scripts/uv)."""
    for entry in sys.path:
        for path in sorted(glob.glob(os.path.join(entry, "uv-*.data", "scripts", "uv"))):
            if os.access(path, os.X_OK):
                return path
    sys.exit("ERROR: no uv binary on sys.path: the wheel_lock target needs @pyimage_tools//uv "
             "(the `uv` wheel of rules_pyimage's tools lock) among its deps")


def local_path(location):
    """The path of an index or find-links location on this machine (a path or a file:// URL), or
    None for a remote one."""
    if location.startswith("file://"):
        return location[len("file://"):]
    return None if re.match(r"[a-z][a-z0-9+.-]*://", location) else location


def _present(location):
    """False for a local directory that is not there: pip passes over it with a warning, uv would
    stop (a pip.conf shared by machines where only some have it)."""
    path = local_path(location)
    return path is None or os.path.exists(path)


def uv_index_options():
    """(uv's options, environment) naming the indexes of this machine's pip configuration, as pip
    itself reads it (configuration files and PIP_* variables): the fetch reads the same."""
    from pip._internal.models.index import PyPI
    _, options = pip_configuration()
    args = []
    if options.no_index:
        args.append("--no-index")
    else:
        primary = options.index_url or PyPI.simple_url
        # pip takes the best version among all its indexes (uv's unsafe-best-match) and, for that
        # version, the files of every index. uv takes the files of the first index that has the
        # version, so pip's primary index goes first: the lock pins the files that every machine
        # with that index sees, not only those a local mirror of a subset holds.
        for url in [primary] + [u for u in options.extra_index_urls if _present(u)]:
            args += ["--index", url]
        args += ["--default-index", primary, "--index-strategy", "unsafe-best-match"]
    for location in options.find_links:
        if _present(location):
            args += ["--find-links", location]
    for host in options.trusted_hosts:
        args += ["--allow-insecure-host", host]
    env = {}
    if options.cert:
        env["SSL_CERT_FILE"] = options.cert
    if options.client_cert:
        env["SSL_CLIENT_CERT"] = options.client_cert
    if options.proxy:
        env["HTTPS_PROXY"] = env["HTTP_PROXY"] = options.proxy
    if options.timeout:
        env["UV_HTTP_TIMEOUT"] = str(int(options.timeout))
    return args, env


class Uv:
    """uv, run with this machine's pip indexes and nothing of uv's own configuration."""

    def __init__(self, cache=None):
        self.binary = find_uv()
        self.index_args, index_env = uv_index_options()
        # uv's configuration files and UV_* variables could name other indexes than the fetch
        # reads, or let uv download an interpreter: none is read.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
        self.env.update(index_env, UV_NO_PROGRESS="1", UV_PYTHON_DOWNLOADS="never")
        if cache:
            self.env["UV_CACHE_DIR"] = cache

    def run(self, args, cwd=None):
        cmd = [self.binary, "--no-config", "--no-python-downloads"] + args + ["--python", sys.executable]
        return subprocess.run(cmd, env=self.env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def uv_failure(result, requirements, update_command, tool="uv"):
    """Exits naming the requirement uv could not satisfy and the fix."""
    out = result.stdout
    hint = ""
    no_wheel = re.search(r"\b([A-Za-z0-9][A-Za-z0-9._-]*)(?:==\S+)? has no (?:usable )?wheels", out) or \
        re.search(r"\b([A-Za-z0-9][A-Za-z0-9._-]*)(?:==\S+)? (?:is only available as a source distribution|"
                  r"has no wheels with a matching)", out)
    missing = re.search(r"\b([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the (?:package registry|provided package locations)", out) or \
        re.search(r"there (?:are|is) no versions? of ([A-Za-z0-9][A-Za-z0-9._-]*)", out)
    if re.search(r"error sending request|Failed to fetch|dns error|Could not connect|[Cc]onnection refused|timed out", out):
        hint = ("the index cannot be reached (no network, or the index of this machine's pip "
                "configuration is wrong). ")
    elif no_wheel:
        hint = ("the requirement %s cannot be found on the index as a wheel for this Python (the "
                "resolution reads wheels only, so that no sdist's build code runs on this machine): "
                "check its name and version; if it has only an sdist and you trust it, add it to "
                "wheel_lock's resolve_from_sdist. " % no_wheel.group(1))
    elif missing:
        hint = "the requirement %s cannot be found on the index: check its name and version. " % missing.group(1)
    elif "No solution found" in out or "unsatisfiable" in out:
        hint = "the requirements conflict. "
    sys.exit("ERROR: %s failed for %s: %sFix %s and run: %s\n%s" % (
        tool, requirements, hint, requirements, update_command, out.strip()[-3000:]))


def uv_compile(uv, requirements, output, update_command, extra, sdists, fmt):
    """`uv pip compile`: wheels only but for `sdists`, the old lock's pins kept, its hashes not."""
    pip_args, first, second = split_extra(extra)
    if pip_args:
        sys.exit("ERROR: --pip-args is an option of pip-tools; with resolver = \"uv\" give uv's own "
                 "options after `--` (for example --upgrade-package NAME)")
    base = ["pip", "compile", "--quiet", "--generate-hashes", "--custom-compile-command", update_command,
            "--only-binary", ":all:"] + [a for n in sdists for a in ("--no-binary", n)] + uv.index_args
    old = ""
    if os.path.exists(output):
        with open(output) as f:
            old = f.read()
    kept = lock_pins(old, fmt) if old else {}
    # Pass 1, in requirements format: uv keeps the pins of the file it writes over. Seeded with
    # the old pins only, so that every hash comes from the file, never from the old lock.
    resolved = output if fmt == "requirements" else output + ".pins.txt"
    with open(resolved, "w") as f:
        f.write("".join("%s==%s\n" % pin for pin in kept.items() if "," not in pin[1]))
    result = uv.run(base + first + ["--output-file", resolved, requirements])
    if result.returncode != 0:
        uv_failure(result, requirements, update_command)
    if fmt == "pylock":
        # Pass 2 writes PEP 751 with exactly pass 1's versions (as constraints) and every file of
        # each: under --only-binary or --no-build uv leaves the sdists out. As pip-tools' pass 2
        # (compile_lock), it builds none: pass 1 found a wheel of every version but `sdists` for
        # this target, and uv reads a version's metadata from its wheel.
        pass2 = [a for a in base if a not in ("--only-binary", ":all:")]
        result = uv.run(pass2 + second + ["--format", "pylock.toml", "--constraint", resolved,
                                          "--output-file", output, requirements])
        if result.returncode != 0:
            uv_failure(result, requirements, update_command)
        with open(resolved) as f:
            want = pins(f.read())
        os.unlink(resolved)
        with open(output) as f:
            got = toml_pins(f.read(), fmt)
        if {normalize(k): v for k, v in got.items()} != {normalize(k): v for k, v in want.items()}:
            sys.exit("ERROR: uv wrote other versions into %s than it resolved: %s against %s. Nothing "
                     "was written; run: %s" % (os.path.basename(output), got, want, update_command))


def uv_lock(uv, project, output, update_command, extra, check):
    """`uv lock` of the project in `project` (its pyproject.toml), into `output`; with `check`,
    `uv lock --check --offline` against it instead."""
    args = ["lock", "--quiet", "--no-build"] + uv.index_args
    if check:
        result = uv.run(args + ["--check", "--offline"] + extra, cwd=project)
        if result.returncode != 0:
            print(result.stdout.strip()[-3000:])
            sys.exit("ERROR: uv.lock does not match %s (uv lock --check, above). Run: %s" % (
                os.path.join(project, "pyproject.toml"), update_command))
        return
    result = uv.run(args + extra, cwd=project)
    if result.returncode != 0:
        uv_failure(result, os.path.join(project, "pyproject.toml"), update_command)
    shutil.copy(os.path.join(project, "uv.lock"), output)


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["update", "check"])
    parser.add_argument("--requirements", required=True)
    parser.add_argument("--lock", required=True)
    parser.add_argument("--update-command", required=True)
    parser.add_argument("--resolver", choices=["uv", "pip-tools"], default="uv")
    parser.add_argument("--sdist", action="append", default=[],
                        help="a package resolved from its sdist (its build backend runs here)")
    args, unknown = parser.parse_known_args(argv)
    extra = unknown + extra

    base = os.environ.get("BUILD_WORKSPACE_DIRECTORY", "") if args.mode == "update" else ""
    requirements = os.path.join(base, args.requirements)
    lock = os.path.join(base, args.lock)
    fmt = lock_format(lock)
    if fmt != "requirements" and args.resolver != "uv":
        sys.exit("ERROR: %s: only uv writes %s; pip-tools writes a requirements lock" % (args.lock, fmt))
    if (fmt == "uv.lock") != (os.path.basename(requirements) == "pyproject.toml"):
        sys.exit("ERROR: a uv.lock is resolved from its project's pyproject.toml, and a pyproject.toml "
                 "into a uv.lock beside it; got %s and %s" % (args.requirements, args.lock))
    if fmt == "uv.lock" and os.path.dirname(requirements) != os.path.dirname(lock):
        sys.exit("ERROR: %s must sit beside %s, as uv writes it" % (args.lock, args.requirements))
    if fmt == "uv.lock" and args.sdist:
        sys.exit("ERROR: resolve_from_sdist is not offered for a uv.lock (uv lock --no-build); list the "
                 "package in a requirements or pylock.toml lock, or let uv build it yourself")
    old = open(lock).read() if os.path.exists(lock) else ""
    for name in args.sdist:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            sys.exit("ERROR: resolve_from_sdist: %r is not a package name" % name)
    if fmt != "uv.lock":
        check_requirements(requirements)

    scratch = tempfile.mkdtemp(prefix="pyimage-lock.")
    saved_cache_home = os.environ.get("XDG_CACHE_HOME")
    try:
        if args.mode == "check":  # a test's HOME is not writable: caches go to the scratch dir
            os.environ["XDG_CACHE_HOME"] = os.path.join(scratch, "cache")
            if args.resolver == "pip-tools":
                extra = extra + ["--cache-dir", os.path.join(scratch, "cache", "pip-tools")]
        uv = None
        if args.resolver == "uv":
            uv = Uv(os.path.join(scratch, "cache", "uv") if args.mode == "check" else None)
        if fmt == "uv.lock":
            project = os.path.join(scratch, "project")
            os.makedirs(project)
            shutil.copy(requirements, project)
            if old:
                shutil.copy(lock, project)
            out = os.path.join(scratch, "uv.lock")
            uv_lock(uv, project, out, args.update_command, extra, args.mode == "check")
            if args.mode == "check":
                print("%s is up to date with %s (%d packages)" % (args.lock, args.requirements, len(toml_pins(old, fmt))))
                return
            with open(out) as f:
                new = f.read()
        else:
            out = os.path.join(scratch, os.path.basename(lock))
            if old:
                shutil.copy(lock, out)
            # pip-compile and uv name their input in the lock: run from its directory, relative path.
            cwd = os.getcwd()
            os.chdir(os.path.dirname(requirements) or ".")
            try:
                if uv:
                    uv_compile(uv, os.path.basename(requirements), out, args.update_command, extra, args.sdist, fmt)
                else:
                    compile_lock(os.path.basename(requirements), out, args.update_command, extra, args.sdist)
            finally:
                os.chdir(cwd)
            with open(out) as f:
                new = f.read()
        if args.mode == "check":
            if body(new) != body(old):
                sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(
                    body(old), body(new), args.lock, "resolved now", n=1))
                sys.exit("ERROR: %s does not match %s (diff above). Run: %s" % (
                    args.lock, args.requirements, args.update_command))
            print("%s is up to date (%d pins)" % (args.lock, len(lock_pins(new, fmt))))
            return
        tmp = lock + ".tmp"
        shutil.copy(out, tmp)
        os.replace(tmp, lock)
    finally:
        # Called in-process (tests, //:outdated's test), later calls must not write caches under
        # the scratch directory once it is gone.
        if saved_cache_home is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = saved_cache_home
        shutil.rmtree(scratch, ignore_errors=True)
    before, after = lock_pins(old, fmt) if old else {}, lock_pins(new, fmt)
    print("%s: %d pins (%s)" % (args.lock, len(after), args.resolver))
    for name in sorted(set(before) | set(after), key=str.lower):
        if before.get(name) != after.get(name):
            print("  %s %s -> %s" % (name, before.get(name, "(new)"), after.get(name, "(removed)")))


if __name__ == "__main__":
    main()
