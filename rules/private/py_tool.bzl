"""The rules' own Python programs, run inside actions directly on the compiled CPython.

A `py_binary` tool would start through Bazel 4's launcher stub (`#!/usr/bin/env python3`), which
needs a Python on the host, or on a remote-execution worker. A `py_tool` is only its script, the
modules and unpacked wheels it imports, and a PYTHONPATH; `run_py_tool` runs it with the
interpreter from `cpython_build`, so the action's only program is one of its declared inputs.
"""

load("//rules/private:providers.bzl", "PyToolInfo")

def _py_tool_impl(ctx):
    files = depset([ctx.file.main] + ctx.files.srcs, transitive = [d[DefaultInfo].default_runfiles.files for d in ctx.attr.deps])

    # A tool's wheels are a handful of directories (tree artifacts); their paths form PYTHONPATH,
    # after the root of rules_pyimage (for `from rules.private.tools import ...`), which is `.`
    # only when rules_pyimage is the main repository.
    trees = [f for f in files.to_list() if f.is_directory]
    root = ctx.label.workspace_root or "."
    return [PyToolInfo(main = ctx.file.main, files = files, pythonpath = [root] + [t.path for t in trees], trees = trees)]

py_tool = rule(
    implementation = _py_tool_impl,
    doc = "A Python program for the rules' actions (see `run_py_tool`); not a public rule.",
    attrs = {
        "main": attr.label(mandatory = True, allow_single_file = [".py"]),
        "srcs": attr.label_list(allow_files = [".py"]),
        "deps": attr.label_list(),
    },
)

# The rules' tools are built for the machine that runs the actions, never "host" (Bazel 7 refuses
# it). The interpreter they run on comes from the rules_pyimage toolchain (TOOLCHAIN_TYPE); the
# hub repository builds every CPython in the exec configuration only (`cpython_exec`), so tools,
# images and py_test share one compile per version on Bazel 4 and 7 alike.
TOOL_CFG = "exec"

# The toolchain type whose toolchains carry a CPythonInfo (`pyimage_python_toolchain`); a rule
# that runs a py_tool lists it in `toolchains` and reads it with `tool_python(ctx)`.
TOOLCHAIN_TYPE = str(Label("//toolchains:toolchain_type"))

# What a rule that runs py_tools passes to rule(): the toolchain, reached through the toolchain
# transition, so the toolchain's interpreter is the exec-configured one every other consumer
# shares. Bazel 4 configures toolchains in the host configuration unless a rule opts in
# (`incompatible_use_toolchain_transition`); Bazel 5 made the transition the default, and Bazel 9
# removes the parameter. `config_common.toolchain_type` exists from Bazel 6 on.
USES_TOOLCHAIN = dict(
    toolchains = [TOOLCHAIN_TYPE],
    **({} if hasattr(config_common, "toolchain_type") else {"incompatible_use_toolchain_transition": True})
)

def tool_python(ctx):
    """The CPythonInfo of the interpreter the rules' tools run on: the registered toolchain's."""
    return ctx.toolchains[TOOLCHAIN_TYPE].cpython

def run_py_tool(ctx, tool, py, arguments, inputs = [], **kwargs):
    """ctx.actions.run of the py_tool `tool` on the interpreter `py`.

    Args:
      ctx: the rule context.
      tool: the py_tool target (PyToolInfo).
      py: the interpreter's CPythonInfo.
      arguments: the tool's arguments (strings or Args).
      inputs: a list or depset of further inputs.
      **kwargs: the rest of ctx.actions.run's arguments (outputs, mnemonic, ...).
    """
    info = tool[PyToolInfo]
    if type(inputs) != "depset":
        inputs = depset(inputs)
    ctx.actions.run(
        executable = py.interpreter,
        # -B: no .pyc written next to the tools (that would be the source tree); -s: no user site.
        arguments = ["-B", "-s", info.main.path] + arguments,
        inputs = depset([py.interpreter, py.lib], transitive = [info.files, inputs]),
        env = {"PYTHONPATH": ":".join(info.pythonpath)},
        **kwargs
    )
