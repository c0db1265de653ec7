"""The lock targets of a pip-tools lock (`wheel_lock`)."""

load("//rules/private:lock.bzl", "lock_info", "update_and_test")

_LOCK_TOOL = Label("//rules/private/tools:wheel_lock.py")

def wheel_lock(name, requirements, lock, resolve_from_sdist = [], **kwargs):
    """A pip-tools lock: `NAME.update` rewrites it, `NAME_test` fails when it is stale; `NAME` is the lock itself, for `pyimage_outdated`.

    ```starlark
    load("@rules_pyimage//rules:defs.bzl", "wheel_lock")

    wheel_lock(name = "requirements", requirements = "requirements.in", lock = "requirements.lock.txt")
    ```

    `bazel run :requirements.update` runs pip-compile (`--generate-hashes`, no index URL written)
    on the from-source interpreter, so the lock is resolved for its Python version on Linux.
    The resolution reads wheels only (`--only-binary=:all:`), so no sdist's build code runs on
    the machine that updates the lock; the lock still pins every file of each version, sdists
    included, and `pyimage_pip_packages` builds an sdist in the hermetic builder.
    `requirements.in` holds requirements and `-r`/`-c` lines only.
    `bazel test :requirements_test` resolves again and fails with a diff and the update command
    when the result differs (tagged `requires-network`).

    Args:
      name: the lock's name; the targets are `NAME` (for `pyimage_outdated`), `NAME.update` and
        `NAME_test`.
      requirements: the `requirements.in` file.
      lock: the lock file it writes.
      resolve_from_sdist: packages with no usable wheel, resolved from their sdist: pip runs the
        sdist's build backend (and downloads its build requirements) on the machine that updates
        or tests the lock, outside any sandbox. List only packages whose sdist you trust.
      **kwargs: passed to the three targets.
    """
    if type(resolve_from_sdist) != type([]) or [n for n in resolve_from_sdist if type(n) != type("") or not n]:
        fail("wheel_lock %s: resolve_from_sdist must be a list of package names, got %r" % (name, resolve_from_sdist))
    lock_info(name, "wheel", lock, requirements, **kwargs)
    update_and_test(
        name = name,
        tool = _LOCK_TOOL,
        files = {"--requirements": requirements, "--lock": lock},
        args = ["--sdist=%s" % n for n in resolve_from_sdist],
        deps = [Label("@pyimage_tools//pip_tools"), Label("@pyimage_tools//pip")],
        test_tags = ["requires-network"],
        **kwargs
    )
