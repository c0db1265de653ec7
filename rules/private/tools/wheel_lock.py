"""Writes or checks a pip-tools lock, running pip-compile on the interpreter this runs on.

In:  requirements.in; the existing lock (its pins are kept unless they no longer fit); the
     machine's pip configuration (index, mirrors, certificates).
Out: `update` rewrites the lock (with --generate-hashes, no index URL or find-links written)
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
    "--strip-extras",
    # Hashes are computed from the files, never copied from the old lock, so a hash edited by
    # hand is caught.
    "--no-reuse-hashes",
    "--quiet",
]


def pins(text):
    return dict(re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.M))


def body(text):
    """The lock without its header comment (which names the command that wrote it)."""
    lines = text.splitlines()
    while lines and lines[0].startswith("#"):
        lines.pop(0)
    return lines


def compile_lock(requirements, output, update_command, extra):
    env = dict(os.environ, CUSTOM_COMPILE_COMMAND=update_command, PYTHONPATH=os.pathsep.join(sys.path))
    cmd = [sys.executable, "-m", "piptools", "compile"] + PIP_COMPILE_FLAGS + extra + [
        "--output-file", output, requirements]
    result = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        out = result.stdout
        hint = ""
        m = re.search(r"No matching distribution found for (\S+)", out) or \
            re.search(r"Could not find a version that (?:matches|satisfies the requirement) (\S+)", out)
        if m:
            hint = "the requirement %s cannot be found on the index. " % m.group(1)
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
    args, unknown = parser.parse_known_args(argv)
    extra = unknown + extra

    base = os.environ.get("BUILD_WORKSPACE_DIRECTORY", "") if args.mode == "update" else ""
    requirements = os.path.join(base, args.requirements)
    lock = os.path.join(base, args.lock)
    old = open(lock).read() if os.path.exists(lock) else ""

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
            compile_lock(os.path.basename(requirements), out, args.update_command, extra)
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
