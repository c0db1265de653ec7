"""Debian packages from a lock: the lock targets and the rootfs rule (the fetching repository
rule is in repositories/debian_packages.bzl)."""

load("//rules/private:common.bzl", "SOURCE_DATE_EPOCH")
load("//rules/private:lock.bzl", "lock_info", "update_and_test")
load("//rules/private:platforms.bzl", "DEFAULT_PLATFORM")
load("//rules/private:providers.bzl", "DebianPackagesInfo", "DebianRootfsInfo")
load("//rules/private:py_tool.bzl", "TOOL_CFG", "USES_TOOLCHAIN", "run_py_tool", "tool_python")

_LOCK_TOOL = Label("//rules/private/tools:debian_lock.py")
_APT_LOCK = Label("//rules/private/tools:apt_lock")

def debian_lock(name, packages, lock, release = "bookworm", architecture = DEFAULT_PLATFORM.debian_architecture, **kwargs):
    """A Debian package lock: `NAME.update` rewrites it, `NAME_test` fails when it is stale; `NAME` is the lock itself, for `pyimage_outdated`.

    ```starlark
    load("@rules_pyimage//rules:defs.bzl", "debian_lock")

    debian_lock(
        name = "runtime",
        packages = "runtime.txt",
        lock = "runtime.lock.json",
    )
    ```

    `bazel run :runtime.update` resolves the list with apt's own resolver (a private apt
    configuration and an empty dpkg status, mirrors from this machine's apt configuration or
    `PYIMAGE_DEBIAN_MIRROR`/`PYIMAGE_DEBIAN_SECURITY_MIRROR`), writes the lock and prints what
    changed, security updates marked. `bazel test :runtime_test` fails, naming that command, when
    the lock does not match the list or apt would now resolve other versions (it needs the mirror,
    so it is tagged `requires-network`).

    Args:
      name: the lock's name; the targets are `NAME` (for `pyimage_outdated`), `NAME.update` and
        `NAME_test`.
      packages: the list file: one package name a line, `!NAME` to leave out a dependency that
        nothing in the image runs, `#` comments.
      lock: the lock file (JSON), written by `NAME.update`.
      release: the Debian release, for example "bookworm".
      architecture: the Debian architecture, for example "amd64".
      **kwargs: passed to the three targets (for example `visibility`).
    """
    if not release or not architecture:
        fail("debian_lock %s: 'release' and 'architecture' must not be empty (for example \"bookworm\", \"amd64\")" % name)
    lock_info(name, "debian", lock, packages, release, architecture, **kwargs)
    update_and_test(
        name = name,
        tool = _LOCK_TOOL,
        files = {"--list": packages, "--lock": lock},
        args = ["--release=" + release, "--arch=" + architecture],
        deps = [_APT_LOCK],
        test_tags = ["requires-network"],
        **kwargs
    )

DEBIAN_EXCLUDE = [
    "usr/share/doc/*",
    "usr/share/man/*",
    "usr/share/info/*",
    "usr/share/lintian/*",
    "usr/share/linda/*",
    "usr/share/bug/*",
    "usr/share/locale/*",
    "usr/share/i18n/*",
    "usr/lib/locale/*",
    "usr/share/gdb/*",
    "usr/share/gcc/*",
]

# Kept although excluded above: the licences, and the C.UTF-8 locale.
DEBIAN_KEEP = [
    "usr/share/doc/*/copyright",
    "usr/lib/locale/C.utf8",
    "usr/lib/locale/C.utf8/*",
]

def _debian_rootfs_impl(ctx):
    if ctx.attr.uid <= 0 or ctx.attr.gid <= 0:
        fail("debian_rootfs %s: uid and gid must be positive (the image must not run as root); got uid %d gid %d" % (ctx.label, ctx.attr.uid, ctx.attr.gid))
    user = ctx.attr.user
    if not user or not user.replace("-", "").replace("_", "").isalnum() or user == "root":
        fail("debian_rootfs %s: user '%s' must be a plain name other than root, for example \"nonroot\"" % (ctx.label, user))
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    args = ctx.actions.args()
    args.add("--output", out)
    args.add("--mtime", str(SOURCE_DATE_EPOCH))
    args.add("--user", user)
    args.add("--uid", str(ctx.attr.uid))
    args.add("--gid", str(ctx.attr.gid))
    args.add_all(DEBIAN_EXCLUDE, before_each = "--exclude")
    args.add_all(DEBIAN_KEEP, before_each = "--keep")
    args.add_all(ctx.files.debs)
    run_py_tool(
        ctx,
        ctx.attr._tool,
        tool_python(ctx),
        arguments = [args],
        inputs = ctx.files.debs,
        outputs = [out],
        mnemonic = "DebianRootfs",
        progress_message = "Assembling the Debian base layer %s from %d packages" % (ctx.label, len(ctx.files.debs)),
    )
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        DebianRootfsInfo(
            debs = depset(ctx.files.debs),
            locks = depset([d[DebianPackagesInfo].lock for d in ctx.attr.debs if DebianPackagesInfo in d]),
            removed = None,
        ),
    ]

def _debian_package_set_impl(ctx):
    return [
        DefaultInfo(files = depset(ctx.files.debs)),
        DebianPackagesInfo(lock = ctx.file.lock),
    ]

debian_package_set = rule(
    implementation = _debian_package_set_impl,
    doc = "`@REPO//:debs` of `pyimage_debian_packages`: the .deb files of a lock, and the lock (`DebianPackagesInfo`). Generated; not usually written by hand.",
    attrs = {
        "debs": attr.label_list(mandatory = True, allow_files = [".deb"], doc = "The .deb files."),
        "lock": attr.label(mandatory = True, allow_single_file = [".json"], doc = "The lock they were fetched by."),
    },
)

debian_rootfs = rule(
    implementation = _debian_rootfs_impl,
    doc = """One deterministic tar of a root filesystem from locked .deb files, without running any
maintainer script. Adds what the scripts would have made and an image needs: the CA bundle,
/etc/passwd and /etc/group with root and `user`, the user's home, /tmp, and a dpkg status entry
per package in /var/lib/dpkg/status.d/. Leaves out `DEBIAN_EXCLUDE` (documentation, manuals,
locales but C.UTF-8).

```starlark
debian_rootfs(
    name = "runtime_rootfs",
    debs = ["@debian_base//:debs"],
)
```
""",
    attrs = {
        "debs": attr.label_list(mandatory = True, allow_files = [".deb"], doc = "The .deb files, usually `@REPO//:debs` of a `debian_packages` repository."),
        "user": attr.string(default = "nonroot", doc = "The unprivileged user's name."),
        "uid": attr.int(default = 65532, doc = "The unprivileged user's uid."),
        "gid": attr.int(default = 65532, doc = "The unprivileged user's gid."),
        "_tool": attr.label(default = "//rules/private/tools:debian_rootfs", cfg = TOOL_CFG),
    },
    **USES_TOOLCHAIN
)
