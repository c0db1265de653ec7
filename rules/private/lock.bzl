"""The pair of targets behind every lock-like file: a `bazel run` target that rewrites it in the
source tree and a test that fails, naming that command, when it is out of date."""

load("//rules/private:py.bzl", "py_binary", "py_test")

def update_and_test(update_name, test_name, tool, update_args, test_args, data, deps = [], test_tags = [], **kwargs):
    """Declares `update_name` (runs `tool` with `update_args`) and `test_name` (with `test_args`).

    Args:
      update_name: the `bazel run` target; it writes under BUILD_WORKSPACE_DIRECTORY.
      test_name: the test.
      tool: the Python entry point (a label of a .py file) both run.
      update_args: arguments of the update target (shell-tokenised: quote values with spaces).
      test_args: arguments of the test.
      data: files both need.
      deps: Python libraries both need.
      test_tags: tags of the test (for example `requires-network`).
      **kwargs: passed to both.
    """
    py_binary(name = update_name, srcs = [tool], main = tool, args = update_args, data = data, deps = deps, **kwargs)
    py_test(name = test_name, size = "small", srcs = [tool], main = tool, args = test_args, data = data, deps = deps, tags = test_tags, **kwargs)
