"""The Python toolchain pieces: the version flag and the runtime pair.

This is the one file that touches Bazel's built-in Python rules (`py_runtime_pair`); moving to
rules_python later changes the load below and nothing else.
"""

load("@bazel_tools//tools/python:toolchain.bzl", _py_runtime_pair = "py_runtime_pair")

def _python_version_flag_impl(ctx):
    value = ctx.build_setting_value
    if value and value not in ctx.attr.allowed:
        fail("--%s=%s: this workspace registers CPython %s; use one of those (a minor version picks its default release) or leave it empty" % (
            ctx.label,
            value,
            ", ".join(ctx.attr.allowed),
        ))
    return []

python_version_flag = rule(
    implementation = _python_version_flag_impl,
    build_setting = config.string(flag = True),
    doc = "The CPython version that Python targets run on: a full or minor version, empty for the default.",
    attrs = {
        "allowed": attr.string_list(doc = "The versions and minor versions that are registered."),
    },
)

def python_runtime_pair(name, py3_runtime, **kwargs):
    """A `py_runtime_pair` with only a Python 3 runtime.

    Args:
      name: the target name.
      py3_runtime: a target with PyRuntimeInfo, such as a `cpython_build`.
      **kwargs: passed through.
    """
    _py_runtime_pair(name = name, py3_runtime = py3_runtime, **kwargs)
