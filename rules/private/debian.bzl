"""Debian packages from a lock: the lock targets, the fetching repository rule, the rootfs rule."""

load("//rules/private:common.bzl", "SOURCE_DATE_EPOCH")
load("//rules/private:download.bzl", "apt_mirrors", "download_checked")
load("//rules/private:lock.bzl", "update_and_test")
load("//rules/private:py_tool.bzl", "USES_TOOLCHAIN", "TOOL_CFG", "run_py_tool", "tool_python")

_LOCK_TOOL = "@rules_pyimage//rules/private/tools:debian_lock.py"

def debian_lock(name, packages, lock, release = "bookworm", architecture = "amd64", **kwargs):
    """A Debian package lock: `NAME.update` rewrites it, `NAME_test` fails when it is stale.

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
      name: the lock's name; the targets are `NAME.update` and `NAME_test`.
      packages: the list file: one package name a line, `!NAME` to leave out a dependency that
        nothing in the image runs, `#` comments.
      lock: the lock file (JSON), written by `NAME.update`.
      release: the Debian release, for example "bookworm".
      architecture: the Debian architecture, for example "amd64".
      **kwargs: passed to both targets (for example `visibility`).
    """
    if not release or not architecture:
        fail("debian_lock %s: 'release' and 'architecture' must not be empty (for example \"bookworm\", \"amd64\")" % name)
    update_and_test(
        name = name,
        tool = _LOCK_TOOL,
        files = {"--list": packages, "--lock": lock},
        args = ["--release=" + release, "--arch=" + architecture],
        test_tags = ["requires-network"],
        **kwargs
    )

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"

# What each field of a Debian lock entry may hold (Debian policy 5.6.1, 5.6.7, 5.6.12). Every
# field is checked before it reaches a path, a URL or the generated BUILD file.
_LOCK_FIELDS = {
    "name": _LOWER + _DIGITS + "+.-",
    "version": _LOWER + _LOWER.upper() + _DIGITS + ".+~:-",
    "architecture": _LOWER + _DIGITS + "-",
    "suite": _LOWER + _DIGITS + "-",
    "filename": _LOWER + _LOWER.upper() + _DIGITS + "._+~%/-",
    "sha256": _DIGITS + "abcdef",
}

def _lock_entry_problem(pkg):
    """(field, why) of the first malformed field of a Debian lock entry, or None."""
    if type(pkg) != "dict":
        return ("entry", "not an object")
    for field, allowed in _LOCK_FIELDS.items():
        value = pkg.get(field)
        if type(value) != "string" or not value:
            return (field, "missing or not a string")
        for c in value.elems():
            if c not in allowed:
                return (field, "the character %s is not allowed" % repr(c))
    if len(pkg["sha256"]) != 64:
        return ("sha256", "not 64 hexadecimal digits")
    if len(pkg["name"]) < 2 or not (pkg["name"][0] in _LOWER or pkg["name"][0] in _DIGITS):
        return ("name", "not a Debian package name")
    filename = pkg["filename"]
    if not filename.startswith("pool/") or not filename.endswith(".deb") or ".." in filename.split("/") or "//" in filename:
        return ("filename", "not a path pool/.../NAME.deb inside the archive")
    return None

def _check_lock_entry(pkg, index, lock_label, update_command):
    """Fails, naming the entry and the field, unless every field of a lock entry is well-formed."""
    problem = _lock_entry_problem(pkg)
    if problem:
        field, why = problem
        value = pkg.get(field) if type(pkg) == "dict" else pkg
        fail(("debian_packages: entry %d of %s has a bad '%s' (%s): %s. The lock is damaged or was " +
              "edited by hand; make it again with: %s") % (index, lock_label, field, why, repr(value), update_command))

def _debian_packages_impl(rctx):
    lock_path = rctx.path(rctx.attr.lock)
    lock_label = str(rctx.attr.lock)
    lock = json.decode(rctx.read(lock_path))
    if type(lock) != "dict" or type(lock.get("packages")) != "list":
        fail("debian_packages %s: %s is not a lock (a JSON object with a 'packages' list); make it with: %s" % (rctx.name, lock_label, rctx.attr.update_command))
    seen = {}
    for index, pkg in enumerate(lock["packages"]):
        _check_lock_entry(pkg, index, lock_label, rctx.attr.update_command)
        if pkg["name"] in seen:
            fail("debian_packages: %s names %s twice; make it again with: %s" % (lock_label, pkg["name"], rctx.attr.update_command))
        seen[pkg["name"]] = True
    archive, security = apt_mirrors(rctx)
    if not archive:
        fail("debian_packages %s: no Debian mirror: this machine's apt configuration names none; pass --repo_env=PYIMAGE_DEBIAN_MIRROR=URL (and PYIMAGE_DEBIAN_SECURITY_MIRROR)" % rctx.name)
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    debs = []
    for pkg in lock["packages"]:
        bases = security if pkg["suite"].endswith("-security") else archive
        deb = "debs/%s_%s_%s.deb" % (pkg["name"], pkg["version"].replace(":", "%3a"), pkg["architecture"])
        rctx.report_progress("Fetching %s %s" % (pkg["name"], pkg["version"]))
        download_checked(
            rctx,
            urls = [b + "/" + pkg["filename"] for b in bases],
            output = deb,
            sha256 = pkg["sha256"],
            what = "Debian package %s %s (%s, locked in %s)" % (pkg["name"], pkg["version"], pkg["suite"], lock_label),
            unreachable_hint = "The mirror no longer serves this version: the lock is stale. Run: %s" % rctx.attr.update_command,
            pinned_in = lock_label,
        )
        debs.append(deb)
        build.append("filegroup(name = %s, srcs = [%s])" % (repr(pkg["name"]), repr(deb)))
    build.append("")
    build.append("filegroup(\n    name = \"debs\",\n    srcs = %s,\n)" % repr(debs))
    rctx.file("BUILD.bazel", "\n".join(build) + "\n")
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

debian_packages = repository_rule(
    implementation = _debian_packages_impl,
    doc = """Downloads every .deb of a lock by its sha256. `@NAME//:debs` is all of them,
`@NAME//:PACKAGE` one. Mirrors come from this machine's apt configuration or
`--repo_env=PYIMAGE_DEBIAN_MIRROR=URL` / `PYIMAGE_DEBIAN_SECURITY_MIRROR=URL`; the lock holds
only paths inside the archive.""",
    attrs = {
        "lock": attr.label(mandatory = True, allow_single_file = [".json"], doc = "The lock written by `debian_lock`."),
        "update_command": attr.string(mandatory = True, doc = "The command that refreshes the lock, for messages."),
    },
    environ = ["PYIMAGE_DEBIAN_MIRROR", "PYIMAGE_DEBIAN_SECURITY_MIRROR"],
)

# What the base layer leaves out: documentation, manuals and translations. Paths inside the
# rootfs, fnmatch globs (`*` crosses `/`). DEBIAN_KEEP wins over DEBIAN_EXCLUDE.
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
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

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
    debs = ["@debian_runtime//:debs"],
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
