"""The lock targets of a wheel lock (`wheel_lock`): uv or pip-tools, three lock formats."""

load("//rules/private:common.bzl", "wheel_lock_format")
load("//rules/private:lock.bzl", "lock_info", "update_and_test")

_LOCK_TOOL = Label("//rules/private/tools:wheel_lock.py")

def wheel_lock(name, requirements, lock, resolver = "uv", resolve_from_sdist = [], **kwargs):
    """A hash-pinned wheel lock: `NAME.update` rewrites it, `NAME_test` fails when it is stale; `NAME` is the lock itself, for `pyimage_outdated`.

    ```starlark
    load("@rules_pyimage//rules:defs.bzl", "wheel_lock")

    wheel_lock(name = "requirements", requirements = "requirements.in", lock = "requirements.lock.txt")
    ```

    `bazel run :requirements.update` resolves with uv (`uv pip compile --generate-hashes`, pinned
    in rules_pyimage's tools lock) or pip-tools (`resolver = "pip-tools"`) on the from-source
    interpreter, so the lock is resolved for its Python version on Linux. Both read the indexes
    of the machine's pip configuration (uv gets them translated; uv's own configuration files
    and `UV_*` variables are not read) and write no index URL into a requirements lock.
    The resolution reads wheels only, so no sdist's build code runs on the machine that updates
    the lock; the lock still pins every file of each version, sdists included, and
    `pyimage_pip_packages` builds an sdist in the hermetic builder. The old pins are kept unless
    they no longer fit; arguments after `--` go to the resolver (`-- --upgrade`,
    `-- --upgrade-package NAME`). On an error nothing is written.

    The lock's format follows its file name:
    - `*.txt` (any other name): pip-tools' requirements format, from a `requirements.in` that
      holds requirements and `-r`/`-c` lines only;
    - `pylock.toml` or `pylock.NAME.toml`: PEP 751, from a `requirements.in` (uv only);
    - `uv.lock`: a uv project's lock, from the `pyproject.toml` beside it, by `uv lock
      --no-build` (uv only; a single project, no workspace members).

    `bazel test :NAME_test` fails with the update command when the lock is stale: a requirements
    or pylock.toml lock is resolved again and compared (a diff; tagged `requires-network`), a
    uv.lock is checked against its pyproject.toml by `uv lock --check --offline`.

    Args:
      name: the lock's name; the targets are `NAME` (for `pyimage_outdated`), `NAME.update` and
        `NAME_test`.
      requirements: the `requirements.in` file, or the `pyproject.toml` of a `uv.lock`.
      lock: the lock file it writes: `uv.lock`, `pylock.toml` or `pylock.NAME.toml`, or any other
        name for the requirements format.
      resolver: "uv" (the default) or "pip-tools" (the requirements format only). Both give the
        same pins and hashes for the same requirements.
      resolve_from_sdist: packages with no usable wheel, resolved from their sdist: pip runs the
        sdist's build backend (and downloads its build requirements) on the machine that updates
        or tests the lock, outside any sandbox. List only packages whose sdist you trust.
      **kwargs: passed to the three targets.
    """
    if type(resolve_from_sdist) != type([]) or [n for n in resolve_from_sdist if type(n) != type("") or not n]:
        fail("wheel_lock %s: resolve_from_sdist must be a list of package names, got %r" % (name, resolve_from_sdist))
    if resolver not in ("uv", "pip-tools"):
        fail("wheel_lock %s: resolver must be \"uv\" or \"pip-tools\", got %r" % (name, resolver))
    fmt = wheel_lock_format(lock)
    uv_lock = fmt == "uv.lock"
    if fmt != "requirements" and resolver != "uv":
        fail("wheel_lock %s: only uv writes %s; use resolver = \"uv\", or a requirements lock (a name ending in .txt) with pip-tools" % (name, lock))
    if uv_lock != requirements.split(":")[-1].split("/")[-1].endswith("pyproject.toml"):
        fail("wheel_lock %s: a uv.lock is resolved from the pyproject.toml beside it, and a pyproject.toml into a uv.lock; got requirements = %r, lock = %r" % (name, requirements, lock))
    if uv_lock and resolve_from_sdist:
        fail("wheel_lock %s: resolve_from_sdist is not offered for a uv.lock (uv lock --no-build runs no sdist); use a requirements or pylock.toml lock" % name)
    lock_info(name, "wheel", lock, requirements, **kwargs)
    update_and_test(
        name = name,
        tool = _LOCK_TOOL,
        files = {"--requirements": requirements, "--lock": lock},
        args = ["--resolver=" + resolver] + ["--sdist=%s" % n for n in resolve_from_sdist],
        deps = [Label("//rules/private/tools:wheel_lock")],
        test_tags = [] if uv_lock else ["requires-network"],
        **kwargs
    )
