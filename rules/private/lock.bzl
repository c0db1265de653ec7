"""The pair of targets behind every lock-like file: a `bazel run` target that rewrites it in the
source tree and a test that fails, naming that command, when it is out of date."""

load("//rules/private:providers.bzl", "LockInfo")
load("//rules/private:py.bzl", "py_binary", "py_test")

def update_command(name):
    """The command that refreshes the lock `name` of the current package."""
    return "bazel run //%s:%s.update" % (native.package_name(), name)

def _lock_info_impl(ctx):
    return [
        DefaultInfo(files = depset([ctx.file.lock, ctx.file.source])),
        LockInfo(
            kind = ctx.attr.kind,
            lock = ctx.file.lock,
            source = ctx.file.source,
            update_command = ctx.attr.update_command,
            release = ctx.attr.release,
            architecture = ctx.attr.architecture,
        ),
    ]

_lock_info = rule(
    implementation = _lock_info_impl,
    doc = "What a lock is made from and how it is refreshed (`LockInfo`), as the target `NAME` of `debian_lock` and `wheel_lock`, for `pyimage_outdated`.",
    attrs = {
        "kind": attr.string(mandatory = True, values = ["debian", "wheel"], doc = "The kind of lock."),
        "lock": attr.label(mandatory = True, allow_single_file = True, doc = "The lock file."),
        "source": attr.label(mandatory = True, allow_single_file = True, doc = "The package list or requirements.in it is resolved from."),
        "update_command": attr.string(mandatory = True, doc = "The command that refreshes it."),
        "release": attr.string(doc = "A Debian lock's release."),
        "architecture": attr.string(doc = "A Debian lock's architecture."),
    },
)

def lock_info(name, kind, lock, source, release = "", architecture = "", **kwargs):
    """The target `name` of a lock macro: its `LockInfo`.

    Public unless `visibility` says otherwise: a `pyimage_outdated` anywhere may name it.

    Args:
      name: the lock macro's name.
      kind: "debian" or "wheel".
      lock: the lock file's label.
      source: the file the lock is resolved from.
      release: the Debian release, for a Debian lock.
      architecture: the Debian architecture, for a Debian lock.
      **kwargs: visibility, tags and the other common attributes.
    """
    _lock_info(
        name = name,
        kind = kind,
        lock = lock,
        source = source,
        update_command = update_command(name),
        release = release,
        architecture = architecture,
        **dict({"visibility": ["//visibility:public"]}, **kwargs)
    )

def update_and_test(name, tool, files, inputs = {}, args = [], data = [], test_name = None, deps = [], test_tags = [], **kwargs):
    """Declares `NAME.update` (runs `tool update`) and the test (runs `tool check`).

    Both get `--FLAG=PATH` for each of `files` and `inputs`, then `args`, then `--update-command`
    naming `bazel run //PACKAGE:NAME.update`, the command the test's failure tells to run.

    Args:
      name: the lock's name.
      tool: the Python entry point (a label of a .py file) both run.
      files: {flag: file in this package} that the update target rewrites in the source tree
        (under BUILD_WORKSPACE_DIRECTORY) and the test reads from its runfiles.
      inputs: {flag: label} that both only read.
      args: further arguments of both (shell-tokenised: quote values with spaces).
      data: further files both read (for `$(rootpaths ...)` in `args`).
      test_name: the test (default `NAME_test`).
      deps: Python libraries both need.
      test_tags: tags of the test alone (for example `requires-network`), beside `tags`.
      **kwargs: passed to both (`tags` too).
    """
    tags = kwargs.pop("tags", [])
    package = native.package_name()
    command = "'--update-command=%s'" % update_command(name)
    read = ["%s=$(rootpath %s)" % (flag, f) for flag, f in inputs.items()]
    in_tree = ["%s=%s" % (flag, package + "/" + f if package else f) for flag, f in files.items()]
    in_runfiles = ["%s=$(rootpath %s)" % (flag, f) for flag, f in files.items()]
    common = dict(srcs = [tool], main = tool, data = files.values() + inputs.values() + data, deps = deps)
    py_binary(name = name + ".update", args = ["update"] + in_tree + read + args + [command], tags = tags, **dict(common, **kwargs))
    py_test(
        name = test_name or name + "_test",
        size = "small",
        args = ["check"] + in_runfiles + read + args + [command],
        tags = tags + test_tags,
        **dict(common, **kwargs)
    )
