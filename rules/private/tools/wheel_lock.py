"""Writes or checks a pip-tools lock, running pip-compile on the interpreter this runs on.

In:  requirements.in (and the files its -r/-c lines name); the existing lock (its pins are kept
     unless they no longer fit); the machine's pip configuration (index, mirrors, certificates);
     --sdist NAME for each package whose metadata may come from its sdist.
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

Usage: wheel_lock.py update|check --requirements FILE --lock FILE --update-command CMD [-- ARGS]
"""

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile

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
        if m:
            hint = ("the requirement %s cannot be found on the index as a wheel for this Python "
                    "(the resolution reads wheels only, so that no sdist's build code runs on this "
                    "machine): check its name and version; if it has only an sdist and you trust "
                    "it, add it to wheel_lock's resolve_from_sdist. " % m.group(1))
        elif "conflict" in out.lower() or "ResolutionImpossible" in out:
            hint = "the requirements conflict. "
        sys.exit("ERROR: pip-compile failed for %s: %sFix %s and run: %s\n%s" % (
            requirements, hint, requirements, update_command, out.strip()[-3000:]))


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
    parser.add_argument("--sdist", action="append", default=[],
                        help="a package resolved from its sdist (its build backend runs here)")
    args, unknown = parser.parse_known_args(argv)
    extra = unknown + extra

    base = os.environ.get("BUILD_WORKSPACE_DIRECTORY", "") if args.mode == "update" else ""
    requirements = os.path.join(base, args.requirements)
    lock = os.path.join(base, args.lock)
    old = open(lock).read() if os.path.exists(lock) else ""
    for name in args.sdist:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
            sys.exit("ERROR: resolve_from_sdist: %r is not a package name" % name)
    check_requirements(requirements)

    scratch = tempfile.mkdtemp(prefix="pyimage-lock.")
    try:
        out = os.path.join(scratch, os.path.basename(lock))
        if old:
            shutil.copy(lock, out)
        # pip-compile names its input in the lock: run it from the workspace, relative path.
        cwd = os.getcwd()
        os.chdir(os.path.dirname(requirements) or ".")
        if args.mode == "check":  # a test's HOME is not writable: caches go to the scratch dir
            os.environ["XDG_CACHE_HOME"] = os.path.join(scratch, "cache")
            extra = extra + ["--cache-dir", os.path.join(scratch, "cache", "pip-tools")]
        try:
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
            print("%s is up to date (%d pins)" % (args.lock, len(pins(new))))
            return
        tmp = lock + ".tmp"
        shutil.copy(out, tmp)
        os.replace(tmp, lock)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    before, after = pins(old), pins(new)
    print("%s: %d pins" % (args.lock, len(after)))
    for name in sorted(set(before) | set(after), key=str.lower):
        if before.get(name) != after.get(name):
            print("  %s %s -> %s" % (name, before.get(name, "(new)"), after.get(name, "(removed)")))


if __name__ == "__main__":
    main()
