"""The lock targets of a pip-tools lock (`wheel_lock`)."""

load("//rules/private:lock.bzl", "lock_info", "update_and_test")

_LOCK_TOOL = Label("//rules/private/tools:wheel_lock.py")

def wheel_lock(name, requirements, lock, **kwargs):
    """A pip-tools lock: `NAME.update` rewrites it, `NAME_test` fails when it is stale; `NAME` is the lock itself, for `pyimage_outdated`.

    ```starlark
    load("@rules_pyimage//rules:defs.bzl", "wheel_lock")

    wheel_lock(name = "requirements", requirements = "requirements.in", lock = "requirements.lock.txt")
    ```

    `bazel run :requirements.update` runs pip-compile (`--generate-hashes`, no index URL written)
    on the from-source interpreter, so the lock is resolved for its Python version on Linux.
    `bazel test :requirements_test` resolves again and fails with a diff and the update command
    when the result differs (tagged `requires-network`).

    Args:
      name: the lock's name; the targets are `NAME` (for `pyimage_outdated`), `NAME.update` and
        `NAME_test`.
      requirements: the `requirements.in` file.
      lock: the lock file it writes.
      **kwargs: passed to the three targets.
    """
    lock_info(name, "wheel", lock, requirements, **kwargs)
    update_and_test(
        name = name,
        tool = _LOCK_TOOL,
        files = {"--requirements": requirements, "--lock": lock},
        deps = [Label("@pyimage_tools//pip_tools"), Label("@pyimage_tools//pip")],
        test_tags = ["requires-network"],
        **kwargs
    )
