"""Repository setup for rules_pyimage: one load and one call in a WORKSPACE.

```starlark
load("@rules_pyimage//rules:repositories.bzl", "pyimage_register_toolchains")

pyimage_register_toolchains(
    python_versions = ["3.13.15", "3.11.2"],
)
```

This fetches each CPython release tarball by its python.org URL and sha256, declares a
`cpython_build` per version in the repository `@pyimage_python`, and registers them as Bazel's
Python toolchain. `bazel run @pyimage_python//:python3.13` runs the compiled interpreter.
"""

load("//rules/private:cpython.bzl", "DEFAULT_PREFIX")
load("//rules/private/repositories:cpython.bzl", "NATIVE_RULE_SHIMS", "native_rules_shim", "no_coverage_tools")
load("//rules/private/repositories:setup.bzl", "OWN_REPOS", "declare_debian_packages", "declare_own_repos", "declare_pip_packages", "declare_toolchains")
load("//toolchains:versions.bzl", "CPYTHON_VERSIONS", "DEFAULT_PYTHON_VERSION")

def pyimage_register_toolchains(
        name = "pyimage_python",
        python_versions = [DEFAULT_PYTHON_VERSION],
        default_version = None,
        prefix = DEFAULT_PREFIX,
        configure_flags = [],
        optimizations = True,
        lto = True,
        plain_versions = [],
        cpython_versions = CPYTHON_VERSIONS,
        builder_lock = "@rules_pyimage//third_party/debian:builder.lock.json"):
    """Declares CPython toolchains compiled from source and registers them.

    Args:
      name: the name of the generated repository of toolchains.
      python_versions: the CPython releases to build, each a key of `cpython_versions`. Several
        can live side by side (for example 3.13 and 3.11 for the upgrade path). A release with
        `t` appended ("3.14.7t", 3.14 or later) is its free-threaded build (`--disable-gil`):
        `@<name>//:python3.14t`, its wheels fetched with `python_version = "3.14t"`.
      default_version: the release Python targets run on when
        `--@<name>//:python_version` is not set; the first of `python_versions` if None.
      prefix: the install prefix inside images, `/opt/<org>/python`.
      configure_flags: extra ./configure flags for every version.
      optimizations: build with profile-guided optimisation (`--enable-optimizations`), trained
        by a deterministic run so that the interpreter stays bit-reproducible; it costs compile
        time once per team with a shared cache (measured in docs/toolchain.md).
      lto: build with link-time optimisation (`--with-lto`).
      plain_versions: releases of `python_versions` compiled without PGO and LTO whatever
        `optimizations` and `lto` say: for example the old release of an upgrade path that only
        tests run on, where a fast compile matters more than a fast interpreter.
      cpython_versions: the version table, `{version: {"url": ..., "sha256": ...}}`; defaults to
        the one in `@rules_pyimage//toolchains:versions.bzl`. Pass `dict(CPYTHON_VERSIONS, **mine)`
        to add releases of your own.
      builder_lock: the Debian lock of the hermetic builder that every version, and every wheel
        built from an sdist for it, is compiled in: a `debian_lock(name = NAME)`'s
        `NAME.lock.json`. Name your own to add the `-dev` packages your sdists need (start from
        `@rules_pyimage//third_party/debian:builder.txt`). Its .deb files are fetched as
        `@<name>_builder`.
    """
    for repo, shim in NATIVE_RULE_SHIMS.items():
        if repo not in native.existing_rules():
            native_rules_shim(name = repo, package = shim.package, toolchain_type = shim.toolchain_type, rules = shim.rules)
    if "remote_coverage_tools" not in native.existing_rules():
        no_coverage_tools(name = "remote_coverage_tools")
    declare_toolchains(
        "pyimage_register_toolchains",
        name = name,
        python_versions = python_versions,
        default_version = default_version,
        prefix = prefix,
        configure_flags = configure_flags,
        optimizations = optimizations,
        lto = lto,
        plain_versions = plain_versions,
        cpython_versions = cpython_versions,
        builder_lock = builder_lock,
        builder_lock_text = builder_lock,
    )
    existing = native.existing_rules()
    declare_own_repos(skip = [r for r in OWN_REPOS if r in existing])
    native.register_toolchains("@%s//:pyimage_toolchain" % name, "@%s//:toolchain" % name)

def pyimage_debian_packages(name, lock):
    """Fetches every .deb of a Debian lock by its sha256, as `@NAME//:debs`.

    ```starlark
    load("@rules_pyimage//rules:repositories.bzl", "pyimage_debian_packages")

    pyimage_debian_packages(name = "debian_base", lock = "//base:base.lock.json")
    ```

    Args:
      name: the repository; `@NAME//:debs` is every package, `@NAME//:PACKAGE` one.
      lock: the lock of a `debian_lock` target named like the file (`runtime.lock.json` belongs
        to `runtime`), so that errors can name its update command.
    """
    declare_debian_packages("pyimage_debian_packages", name, lock, lock)

def pyimage_pip_packages(name, lock, python_version, build_from_source = [], toolchains = "pyimage_python", wheel_lock = ""):
    """Fetches every distribution of a wheel lock for the target, as `@NAME//PACKAGE`.

    ```starlark
    load("@rules_pyimage//rules:repositories.bzl", "pyimage_pip_packages")

    pyimage_pip_packages(name = "pypi", lock = "//app:requirements.lock.txt", python_version = "3.13")
    ```

    Each package gets the best wheel for CPython `python_version` on Linux x86_64 with glibc 2.36
    (Debian bookworm's), or its sdist when no wheel fits; sdists are built into wheels by a build
    action and repaired with auditwheel. A file is chosen only among those whose sha256 the lock
    holds, and checked as it is downloaded; nothing downloaded runs on the host (an sdist's build
    hooks run in the sandboxed build action). The index and mirrors are this machine's pip
    configuration; fetching uses the host's python3 and pip (its package finder, not
    `pip download`).

    Args:
      name: the repository; `@NAME//PACKAGE` is a package (name lowercased, `-` and `.` as `_`),
        `@NAME//PACKAGE:whl` its wheel.
      lock: the lock, by its file name: a requirements lock named `NAME.lock.txt` of a
        `wheel_lock(name = NAME)` (errors name its update command), a `uv.lock` (read for the
        target: its projects' dependencies whose markers hold, extras followed, dev groups left
        out; the projects themselves are not fetched) or a PEP 751 `pylock.toml` /
        `pylock.NAME.toml` (its markers evaluated; without dependency lists, each file's own
        metadata gives them). The lock's URLs are not used: every file comes from this machine's
        indexes and is kept only when its sha256 is in the lock.
      python_version: the target's Python minor version, for example "3.13"; "3.14t" for a
        free-threaded interpreter (cp314t wheels, never abi3; the lock's markers read as 3.14).
      build_from_source: packages to build from their sdist even when a wheel fits.
      toolchains: the `name` given to `pyimage_register_toolchains`; an sdist is built on its
        `python<python_version>` interpreter, which must be registered.
      wheel_lock: the label of the `wheel_lock` that writes a `uv.lock` or pylock.toml, for the
        update command that errors name (a `NAME.lock.txt` names its own).
    """
    declare_pip_packages("pyimage_pip_packages", name, lock, lock, python_version, build_from_source, toolchains, wheel_lock)
