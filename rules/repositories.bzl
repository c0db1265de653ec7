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

load("//toolchains:versions.bzl", "CPYTHON_VERSIONS", "DEFAULT_PYTHON_VERSION")
load("//rules/private:debian.bzl", "debian_packages")
load("//rules/private:pip.bzl", "manylinux_platforms", "pip_packages")
load("//toolchains/private:cpython.bzl", "DEFAULT_PREFIX")
load("//toolchains/private:repositories.bzl", "cpython_source", "NATIVE_RULE_SHIMS", "native_rules_shim", "no_coverage_tools", "pyimage_python_hub", "target_name")

def pyimage_register_toolchains(
        name = "pyimage_python",
        python_versions = [DEFAULT_PYTHON_VERSION],
        default_version = None,
        prefix = DEFAULT_PREFIX,
        configure_flags = [],
        optimizations = False,
        lto = False,
        cpython_versions = CPYTHON_VERSIONS,
        builder_lock = "@rules_pyimage//third_party/debian:builder.lock.json"):
    """Declares CPython toolchains compiled from source and registers them.

    Args:
      name: the name of the generated repository of toolchains.
      python_versions: the CPython releases to build, each a key of `cpython_versions`. Several
        can live side by side (for example 3.13 and 3.11 for the upgrade path).
      default_version: the release Python targets run on when
        `--@<name>//:python_version` is not set; the first of `python_versions` if None.
      prefix: the install prefix inside images, `/opt/<org>/python`.
      configure_flags: extra ./configure flags for every version.
      optimizations: build with PGO (`--enable-optimizations`); about twice the compile time.
      lto: build with link-time optimisation (`--with-lto`).
      cpython_versions: the version table, `{version: {"url": ..., "sha256": ...}}`; defaults to
        the one in `@rules_pyimage//toolchains:versions.bzl`. Pass `dict(CPYTHON_VERSIONS, **mine)`
        to add releases of your own.
      builder_lock: the Debian lock of the hermetic builder that every version, and every wheel
        built from an sdist for it, is compiled in: a `debian_lock(name = NAME)`'s
        `NAME.lock.json`. Name your own to add the `-dev` packages your sdists need (start from
        `@rules_pyimage//third_party/debian:builder.txt`). Its .deb files are fetched as
        `@<name>_builder`.
    """
    if not python_versions:
        fail("pyimage_register_toolchains: python_versions is empty; name at least one of %s" % ", ".join(cpython_versions.keys()))
    for v in python_versions:
        if v not in cpython_versions:
            fail(("pyimage_register_toolchains: unknown CPython version '%s'. Known: %s. To add one, put " +
                  "a line with its python.org url and sha256 in toolchains/versions.bzl, or pass " +
                  "cpython_versions = dict(CPYTHON_VERSIONS, **{\"%s\": {\"url\": ..., \"sha256\": ...}}).") %
                 (v, ", ".join(cpython_versions.keys()), v))
        entry = cpython_versions[v]
        if "url" not in entry or len(entry.get("sha256", "")) != 64:
            fail("pyimage_register_toolchains: the table entry of CPython %s needs a 'url' and a 64-hex-digit 'sha256'; it has %s" % (v, entry))
    if len(python_versions) != len({v: None for v in python_versions}):
        fail("pyimage_register_toolchains: python_versions names a version twice: %s" % python_versions)
    default = default_version or python_versions[0]
    if default not in python_versions:
        fail("pyimage_register_toolchains: default_version '%s' is not in python_versions %s" % (default, python_versions))

    for repo, shim in NATIVE_RULE_SHIMS.items():
        if repo not in native.existing_rules():
            native_rules_shim(name = repo, package = shim.package, toolchain_type = shim.toolchain_type, rules = shim.rules)
    if "remote_coverage_tools" not in native.existing_rules():
        no_coverage_tools(name = "remote_coverage_tools")

    source_repos = {}
    for v in python_versions:
        repo = "%s_%s_source" % (name, target_name(v))
        cpython_source(
            name = repo,
            version = v,
            urls = [cpython_versions[v]["url"]],
            sha256 = cpython_versions[v]["sha256"],
        )
        source_repos[v] = repo

    # The rules' own Python tools (pip-tools, pex, setuptools, auditwheel, pytest, ...), locked in
    # third_party/python/tools.lock.txt for the default interpreter.
    if "pyimage_tools" not in native.existing_rules():
        pip_packages(
            name = "pyimage_tools",
            lock = str(Label("//third_party/python:tools.lock.txt")),
            python_version = default.rsplit(".", 1)[0],
            platforms = manylinux_platforms(),
            update_command = "bazel run @rules_pyimage//third_party/python:tools.update",
            python = "@%s//:python3" % name,
        )

    builder_repo = name + "_builder"
    builder_update = _update_command("pyimage_register_toolchains", name, builder_lock, ".lock.json", "debian_lock")
    debian_packages(
        name = builder_repo,
        lock = builder_lock,
        update_command = builder_update,
    )

    pyimage_python_hub(
        name = name,
        builder_repo = builder_repo,
        builder_update_command = builder_update,
        versions = python_versions,
        default_version = default,
        source_repos = source_repos,
        prefix = prefix,
        configure_flags = configure_flags,
        optimizations = optimizations,
        lto = lto,
    )
    native.register_toolchains("@%s//:toolchain" % name)

def pyimage_debian_packages(name, lock):
    """Fetches every .deb of a Debian lock by its sha256, as `@NAME//:debs`.

    ```starlark
    load("@rules_pyimage//rules:repositories.bzl", "pyimage_debian_packages")

    pyimage_debian_packages(name = "debian_runtime", lock = "//third_party/debian:runtime.lock.json")
    ```

    Args:
      name: the repository; `@NAME//:debs` is every package, `@NAME//:PACKAGE` one.
      lock: the lock of a `debian_lock` target named like the file (`runtime.lock.json` belongs
        to `runtime`), so that errors can name its update command.
    """
    debian_packages(
        name = name,
        lock = lock,
        update_command = _update_command("pyimage_debian_packages", name, lock, ".lock.json", "debian_lock"),
    )

def pyimage_pip_packages(name, lock, python_version, build_from_source = [], toolchains = "pyimage_python"):
    """Fetches every distribution of a pip-tools lock for the target, as `@NAME//PACKAGE`.

    ```starlark
    load("@rules_pyimage//rules:repositories.bzl", "pyimage_pip_packages")

    pyimage_pip_packages(name = "pypi", lock = "//app:requirements.lock.txt", python_version = "3.13")
    ```

    Each package gets the best wheel for CPython `python_version` on Linux x86_64 with glibc 2.36
    (Debian bookworm's), or its sdist when no wheel fits; sdists are built into wheels by a build
    action and repaired with auditwheel. Every file is checked against the lock's hashes. The index
    and mirrors are this machine's pip configuration; fetching uses the host's python3 and pip.

    Args:
      name: the repository; `@NAME//PACKAGE` is a package (name lowercased, `-` and `.` as `_`).
      lock: a lock named `NAME.lock.txt` of a `wheel_lock(name = NAME)`, so that errors can name
        its update command.
      python_version: the target's Python minor version, for example "3.13".
      build_from_source: packages to build from their sdist even when a wheel fits.
      toolchains: the `name` given to `pyimage_register_toolchains`; an sdist is built on its
        `python<python_version>` interpreter, which must be registered.
    """
    pip_packages(
        name = name,
        lock = lock,
        python_version = python_version,
        platforms = manylinux_platforms(),
        update_command = _update_command("pyimage_pip_packages", name, lock, ".lock.txt", "wheel_lock"),
        build_from_source = build_from_source,
        python = "@%s//:python%s" % (toolchains, python_version),
    )

def _update_command(macro, name, lock, suffix, lock_rule):
    """`bazel run [@REPO]//PKG:NAME.update` for a lock `[@REPO]//PKG:NAME<suffix>` written by `lock_rule(name = NAME)`."""
    repo, sep, rest = lock.partition("//")
    package, _, filename = rest.partition(":")
    if not sep or (repo and not repo.startswith("@")) or not filename.endswith(suffix):
        fail("%s %s: lock '%s' must be a label [@REPO]//PACKAGE:NAME%s of a file written by %s(name = NAME)" % (macro, name, lock, suffix, lock_rule))
    return "bazel run %s//%s:%s.update" % (repo, package, filename[:-len(suffix)])
