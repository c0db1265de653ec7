"""The repository rule behind `pyimage_pip_packages`: every distribution of a pip-tools lock,
fetched and checked against the lock's hashes, as `@NAME//PACKAGE`."""

load("//rules/private:platforms.bzl", "DEFAULT_PLATFORM", "GLIBC_VERSION")

def manylinux_platforms(glibc_minor = int(GLIBC_VERSION.split(".")[1]), arch = DEFAULT_PLATFORM.cpu):
    """The platform tags of wheels that run on glibc 2.`glibc_minor` on `arch`, newest first.

    Args:
      glibc_minor: the glibc's minor version (bookworm's 2.36 by default: platforms.bzl).
      arch: the CPU as the tags spell it (the default platform's `cpu`).

    Returns:
      A list of tags, for example ["manylinux_2_36_x86_64", ..., "manylinux1_x86_64"].
    """
    tags = ["manylinux_2_%d_%s" % (m, arch) for m in range(glibc_minor, 4, -1)]
    return tags + ["manylinux2014_" + arch, "manylinux2010_" + arch, "manylinux1_" + arch]

def _pip_packages_impl(rctx):
    python = rctx.which("python3")
    if not python:
        fail("pyimage_pip_packages %s: fetching needs the host's python3 with pip (the lock is fetched before any interpreter is built)" % rctx.name)
    tool = rctx.path(Label("//rules/private/tools:fetch_wheels.py"))

    # The library it imports from its own directory: named here, so that a change fetches again.
    rctx.path(Label("//rules/private/tools:pypi_lock.py"))
    args = [
        python,
        tool,
        "--lock",
        rctx.path(rctx.attr.lock),
        "--out",
        rctx.path("."),
        "--python-version",
        rctx.attr.python_version,
        "--update-command",
        rctx.attr.update_command,
        "--rules-repo",
        "rules_pyimage",
    ]
    if rctx.attr.python:
        args += ["--python", rctx.attr.python]
    for p in rctx.attr.platforms:
        args += ["--platform", p]
    for name in rctx.attr.build_from_source:
        args += ["--build-from-source", name]
    rctx.report_progress("Fetching the distributions of %s" % rctx.attr.lock)
    result = rctx.execute(args, timeout = 3600, quiet = True)
    if result.return_code != 0:
        fail("pyimage_pip_packages %s (%s):\n%s" % (rctx.name, rctx.attr.lock, (result.stderr or result.stdout)[-4000:]))

    # The lock itself, which every package names (provenance records it with its sha256).
    rctx.symlink(rctx.attr.lock, "lock.txt")
    rctx.file("BUILD.bazel", 'exports_files(["lock.txt"])\n')
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

pip_packages = repository_rule(
    implementation = _pip_packages_impl,
    doc = "Fetches every distribution of a pip-tools lock for the target; `@NAME//PACKAGE` is one.",
    attrs = {
        "lock": attr.label(mandatory = True, allow_single_file = True, doc = "The lock, written by `wheel_lock`."),
        "python_version": attr.string(mandatory = True, doc = "The target's Python minor version, for example \"3.13\"."),
        "platforms": attr.string_list(mandatory = True, doc = "The wheel platform tags the target accepts."),
        "update_command": attr.string(mandatory = True, doc = "The command that refreshes the lock, for messages."),
        "build_from_source": attr.string_list(doc = "Packages to build from their sdist even when a wheel fits."),
        "python": attr.string(doc = "The label of the interpreter that sdists are built on, for example \"@pyimage_python//:python3.13\"; empty for the registered rules_pyimage toolchain's."),
    },
)
