"""The toolchain pieces: rules_pyimage's own toolchain, the exec-configuration forwarder, the
version flag and Bazel's Python runtime pair.

This is the one file that touches Bazel's built-in Python rules (`py_runtime_pair`); moving to
rules_python later changes the load below and nothing else.
"""

load("@bazel_tools//tools/python:toolchain.bzl", _py_runtime_pair = "py_runtime_pair")
load("//rules/private:providers.bzl", "CPythonInfo")
load("//rules/private:py_tool.bzl", "USES_TOOLCHAIN", "tool_python")

def _pyimage_python_toolchain_impl(ctx):
    return [platform_common.ToolchainInfo(cpython = ctx.attr.cpython[CPythonInfo])]

pyimage_python_toolchain = rule(
    implementation = _pyimage_python_toolchain_impl,
    doc = """A toolchain of type `@rules_pyimage//toolchains:toolchain_type`: the interpreter that
the rules' tools run on, that `py_image` puts in an image when its `python` is not set, and that
sdists are built for when no other is named. Its `ToolchainInfo` has one field, `cpython`
(a CPythonInfo). The hub repository of `pyimage_register_toolchains` declares and registers one.""",
    attrs = {
        "cpython": attr.label(mandatory = True, providers = [CPythonInfo], doc = "A `cpython_exec` (or `cpython_build`) target."),
    },
)

def _cpython_exec_impl(ctx):
    build = ctx.attr.build

    # `bazel run` wants an executable made by this rule: a symlink to the interpreter, which
    # finds its lib/ by resolving the link.
    launcher = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = launcher, target_file = build[CPythonInfo].interpreter, is_executable = True)
    return [
        build[CPythonInfo],
        build[PyRuntimeInfo],
        build[OutputGroupInfo],
        DefaultInfo(
            executable = launcher,
            files = build[DefaultInfo].files,
            runfiles = build[DefaultInfo].default_runfiles,
        ),
    ]

cpython_exec = rule(
    implementation = _cpython_exec_impl,
    executable = True,
    doc = """Forwards a `cpython_build` built in the exec configuration.

rules_pyimage builds images for linux/x86_64 on linux/x86_64, so the interpreter that runs the
rules' tools (exec configuration) and the one that goes into an image (target configuration) are
the same bytes. Every consumer reaches the compile through this forwarder, and the exec
transition of an exec configuration is that configuration again, so each CPython release is
compiled once per build, on Bazel 4 and Bazel 7 alike.""",
    attrs = {
        "build": attr.label(mandatory = True, cfg = "exec", providers = [CPythonInfo, PyRuntimeInfo], doc = "The `cpython_build` to build in the exec configuration and forward."),
    },
)

def _current_cpython_impl(ctx):
    return [tool_python(ctx)]

current_cpython = rule(
    implementation = _current_cpython_impl,
    doc = """The CPythonInfo of the registered rules_pyimage toolchain, as a target: for an aspect,
which cannot resolve toolchains on Bazel 4, to reach the interpreter every image and tool of the
build shares (`venv_layers_aspect`).""",
    **USES_TOOLCHAIN
)

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
