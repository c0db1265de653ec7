"""The hermetic builder: a root filesystem made from a locked list of Debian packages, and the
actions that compile inside it.

Compiles (CPython, wheels from sdists) see this tree as their whole filesystem (through
`in_builder.sh`: bubblewrap from the tree itself, new user, mount, PID and network namespaces),
so their outputs depend on the builder's lock and never on what the machine running Bazel has
installed. The builder's .deb files are inputs of every compile: a builder update changes those
actions' cache keys, and nothing else does.
"""

load("//rules/private:common.bzl", "SOURCE_DATE_EPOCH")
load("//rules/private:providers.bzl", "BuilderInfo")

# What maintainer scripts and update-alternatives would have made (no script runs here):
# {path in the builder: link target}. The target must be in the builder.
BUILDER_LINKS = {
    "usr/bin/awk": "mawk",
    "usr/bin/cc": "gcc",
    "usr/bin/c++": "g++",
}

# Left out of the builder: nothing a compile reads.
BUILDER_EXCLUDE = [
    "usr/share/doc/*",
    "usr/share/man/*",
    "usr/share/info/*",
    "usr/share/locale/*",
    "usr/share/lintian/*",
    "usr/share/bug/*",
]

# The environment of the builder's own actions: they find the host programs they use on PATH
# (bash, tar, cp, mktemp for in_builder.sh; python3 for builder_rootfs.py), the same PATH as
# Bazel's --incompatible_strict_action_env. Everything a compile runs comes from the builder.
HOST_ENV = {"PATH": "/bin:/usr/bin:/usr/local/bin"}

def _builder_rootfs_impl(ctx):
    for path, target in ctx.attr.links.items():
        if not path or path.startswith("/") or ".." in path.split("/") or not target:
            fail("builder_rootfs %s: links has '%s' -> '%s'; give a relative path inside the builder and a non-empty target, for example {\"usr/bin/awk\": \"mawk\"}" % (ctx.label, path, target))
    out = ctx.actions.declare_file(ctx.label.name + ".tar")
    args = ctx.actions.args()
    args.add("--output", out)
    args.add("--mtime", str(SOURCE_DATE_EPOCH))
    args.add_all(BUILDER_EXCLUDE, before_each = "--exclude")
    args.add_all(["%s=%s" % item for item in sorted(ctx.attr.links.items())], before_each = "--link")
    args.add_all(ctx.files.debs)
    ctx.actions.run(
        # The tool runs on the host's python3 (its shebang; the standard library only): the
        # builder is what the compiled CPython is itself compiled in. The tar depends only on
        # the .deb files and the arguments.
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = ctx.files.debs + ctx.files._tool_srcs,
        outputs = [out],
        env = dict(
            HOST_ENV,
            PYTHONPATH = ctx.attr._tool.label.workspace_root or ".",
            PYTHONDONTWRITEBYTECODE = "1",
            PYTHONNOUSERSITE = "1",
        ),
        mnemonic = "BuilderRootfs",
        progress_message = "Unpacking the hermetic builder %s from %d packages" % (ctx.label, len(ctx.files.debs)),
    )
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        BuilderInfo(rootfs = out, lock = ctx.file.lock, update_command = ctx.attr.update_command),
    ]

builder_rootfs = rule(
    implementation = _builder_rootfs_impl,
    doc = """The hermetic builder: one tar of a root filesystem made from locked Debian packages
(a compiler, binutils, make, libc6-dev, the shell tools and the `-dev` packages), without running
any maintainer script. `cpython_build` compiles inside it, and so does every wheel built from an
sdist for that interpreter. `pyimage_register_toolchains` declares one from
`@rules_pyimage//third_party/debian:builder.lock.json` (its `builder_lock` argument names
another).

```starlark
builder_rootfs(
    name = "builder",
    debs = ["@pyimage_python_builder//:debs"],
)
```
""",
    attrs = {
        "debs": attr.label_list(mandatory = True, allow_files = [".deb"], doc = "The builder's .deb files, usually `@REPO//:debs` of a `debian_packages` repository made from a builder lock."),
        "lock": attr.label(allow_single_file = [".json"], doc = "The Debian lock the `debs` come from (`@REPO//:lock.json`), which the image's provenance names with its sha256; optional."),
        "links": attr.string_dict(default = BUILDER_LINKS, doc = "Links that maintainer scripts would have made: `{path in the builder: target}`, for example `{\"usr/bin/awk\": \"mawk\"}`."),
        "update_command": attr.string(default = "bazel run @rules_pyimage//third_party/debian:builder.update", doc = "The command that refreshes the builder's lock, named in errors about a missing header or tool."),
        "_tool": attr.label(default = "//rules/private/tools:builder_rootfs.py", allow_single_file = True, executable = True, cfg = "exec"),
        "_tool_srcs": attr.label(default = "//rules/private/tools:builder_rootfs_srcs"),
    },
)

# Where a command in the builder writes its results (`outs` of builder_command): a directory
# in_builder.sh makes on the host and binds in.
BUILDER_OUT = "/pyimage-out"

# The attribute of rules that run actions in the builder.
IN_BUILDER = attr.label(
    default = "//rules/private/tools:in_builder.sh",
    allow_single_file = True,
    executable = True,
    cfg = "exec",
)

def builder_command(builder, copies, outs, command, env = {}, chdir = "/build"):
    """The arguments of `in_builder.sh` that run `command` inside `builder`.

    Args:
      builder: the BuilderInfo.
      copies: [(File, absolute path inside the builder)]: inputs copied in (a directory's files
        with it), links followed.
      outs: [(path inside the builder, File)]: copied out after the command; a tree artifact
        gets the directory's contents. The path is BUILDER_OUT or below it: the only directory
        the command can write to besides its /tmp (the builder's root and the copied inputs are
        read-only). A result that is or holds a link leading out of it, a special file or a
        set-user-ID file fails the action.
      command: the argv inside the builder (its paths are the builder's).
      env: extra environment variables inside.
      chdir: the working directory inside.

    Returns:
      The argument list (strings) for `ctx.actions.run(executable = ctx.executable._in_builder,
      env = HOST_ENV, ...)`.
    """
    args = []
    args += ["--rootfs", builder.rootfs.path]
    for f, inner in copies:
        args += ["--copy", "%s=%s" % (f.path, inner)]
    for inner, f in outs:
        args += ["--out", "%s=%s" % (inner, f.path)]
    for key, value in sorted(env.items()):
        args += ["--env", "%s=%s" % (key, value)]
    args += ["--chdir", chdir, "--"] + command
    return args
