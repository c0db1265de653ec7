"""`pyimage_outdated`: one report of what has moved upstream since a workspace's locks were made."""

load("//rules/private:common.bzl", "label_text")
load("//rules/private:providers.bzl", "ImageInfo", "LockInfo")
load("//rules/private:py.bzl", "py_binary")
load("//toolchains:versions.bzl", "CPYTHON_VERSIONS")

_ROLES = {"locks": "image", "builder_locks": "builder", "tool_locks": "tools"}

def _manifest_impl(ctx):
    locks = []
    files = []
    for attr, role in _ROLES.items():
        for target in getattr(ctx.attr, attr):
            info = target[LockInfo]
            locks.append({
                "kind": info.kind,
                "role": role,
                "label": label_text(target.label),
                "lock": info.lock.short_path,
                "lock_label": label_text(info.lock.owner),
                "source": info.source.short_path,
                "source_label": label_text(info.source.owner),
                "update": info.update_command,
                "release": info.release,
                "architecture": info.architecture,
            })
            files += [info.lock, info.source]
    images = []
    for target in ctx.attr.images:
        if ImageInfo not in target:
            fail("pyimage_outdated %s: %s is not a py_image (it has no ImageInfo); name py_image targets in images" % (ctx.label, target.label))
        sbom = target[ImageInfo].sbom
        images.append({"label": label_text(target.label), "sbom": sbom.short_path})
        files.append(sbom)
    manifest = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(manifest, json.encode({
        "locks": locks,
        "images": images,
        "python_versions": ctx.attr.python_versions,
    }))
    return [DefaultInfo(files = depset([manifest]), runfiles = ctx.runfiles(files = [manifest] + files))]

_outdated_manifest = rule(
    implementation = _manifest_impl,
    attrs = {
        "locks": attr.label_list(providers = [LockInfo]),
        "builder_locks": attr.label_list(providers = [LockInfo]),
        "tool_locks": attr.label_list(providers = [LockInfo]),
        "images": attr.label_list(),
        "python_versions": attr.string_list(),
    },
)

def pyimage_outdated(name, locks = [], builder_locks = [], tool_locks = [], images = [], python_versions = None, **kwargs):
    """`bazel run :NAME`: what has moved upstream since the locks were made, and what takes it.

    ```starlark
    load("@rules_pyimage//rules:defs.bzl", "pyimage_outdated")

    pyimage_outdated(
        name = "outdated",
        locks = ["//base:runtime", "//app:requirements"],
        images = ["//app:image"],
    )
    ```

    One report for every lock named: Debian packages whose version apt resolves now differs from
    the lock's (from the release or its security suite; security updates marked and first), locked
    Python packages with a newer release on the index (the newest that requirements.in allows and
    the newest of all), and CPython releases newer than the toolchain table's as Debian's archive
    carries them (its python3.X source packages). Each line names the images that hold the package
    (read from their SBOMs) and the command that takes the update. It exits 1 when a security
    update is pending, so a scheduled job can act on it; 0 otherwise; 2 when a source cannot be
    read. The mirrors are this machine's apt and pip configuration.

    Args:
      name: the target to `bazel run`.
      locks: `debian_lock` and `wheel_lock` targets (their `name`) whose packages go into images.
      builder_locks: Debian locks of a hermetic builder (their updates affect every compile).
      tool_locks: wheel locks of build tools (their packages are in no image).
      images: `py_image` targets: which of them holds each package, from their SBOMs.
      python_versions: the CPython versions to look for newer releases of (default: every
        version of rules_pyimage's table).
      **kwargs: common attributes (tags, visibility).
    """
    _outdated_manifest(
        name = name + ".manifest",
        locks = locks,
        builder_locks = builder_locks,
        tool_locks = tool_locks,
        images = images,
        python_versions = python_versions if python_versions != None else sorted(CPYTHON_VERSIONS.keys()),
        tags = ["manual"],
        visibility = ["//visibility:private"],
    )
    py_binary(
        name = name,
        srcs = [
            Label("//rules/private/tools:outdated.py"),
        ],
        main = Label("//rules/private/tools:outdated.py"),
        args = ["--manifest", "$(rootpath :%s.manifest)" % name],
        data = [":%s.manifest" % name],
        deps = [
            Label("//rules/private/tools:apt_lock"),
            Label("//rules/private/tools:cpython_releases"),
            Label("//rules/private/tools:pypi_lock"),
            Label("@pyimage_tools//pip"),
        ],
        **kwargs
    )
