"""The pair of targets behind every lock-like file: a `bazel run` target that rewrites it in the
source tree and a test that fails, naming that command, when it is out of date."""

load("//rules/private:py.bzl", "py_binary", "py_test")

def update_and_test(name, tool, files, inputs = {}, args = [], test_name = None, deps = [], test_tags = [], **kwargs):
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
      test_name: the test (default `NAME_test`).
      deps: Python libraries both need.
      test_tags: tags of the test (for example `requires-network`).
      **kwargs: passed to both.
    """
    package = native.package_name()
    command = "'--update-command=bazel run //%s:%s.update'" % (package, name)
    read = ["%s=$(rootpath %s)" % (flag, f) for flag, f in inputs.items()]
    in_tree = ["%s=%s" % (flag, package + "/" + f if package else f) for flag, f in files.items()]
    in_runfiles = ["%s=$(rootpath %s)" % (flag, f) for flag, f in files.items()]
    common = dict(srcs = [tool], main = tool, data = files.values() + inputs.values(), deps = deps)
    py_binary(name = name + ".update", args = ["update"] + in_tree + read + args + [command], **dict(common, **kwargs))
    py_test(
        name = test_name or name + "_test",
        size = "small",
        args = ["check"] + in_runfiles + read + args + [command],
        tags = test_tags,
        **dict(common, **kwargs)
    )
