"""The rules' own Python programs, run inside actions directly on the compiled CPython.

A `py_binary` tool would start through Bazel 4's launcher stub (`#!/usr/bin/env python3`), which
needs a Python on the host, or on a remote-execution worker. A `py_tool` is only its script, the
modules and unpacked wheels it imports, and a PYTHONPATH; `run_py_tool` runs it with the
interpreter from `cpython_build`, so the action's only program is one of its declared inputs.
"""

load("//rules/private:providers.bzl", "CPythonInfo")

PyToolInfo = provider(
    doc = "A Python program that the rules run in their actions on the compiled CPython.",
    fields = {
        "main": "(File) the script",
        "files": "(depset[File]) the script, the modules it imports and the unpacked wheels it needs",
        "pythonpath": "(list[str]) execution-root-relative directories to import from",
        "trees": "(list[File]) the unpacked wheels among `files` (tree artifacts), in `pythonpath` order",
    },
)

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

# The tools and the interpreter they run on are built for the machine that runs the actions.
# Bazel 4's "exec" transition would give them a configuration of their own, and so a second CPython
# compile; "host" is the build's own configuration under --nodistinct_host_configuration (set in
# .bazelrc; see docs/team.md), so the tools share the image's interpreter build.
TOOL_CFG = "host"

# The attribute a rule that runs a py_tool adds: `_python`, the interpreter the tools run on.
PY_TOOL_PYTHON = attr.label(
    default = "@pyimage_python//:python3",
    cfg = TOOL_CFG,
    providers = [CPythonInfo],
)

def run_py_tool(ctx, tool, python, arguments, inputs = [], **kwargs):
    """ctx.actions.run of the py_tool `tool` on the CPythonInfo target `python`."""
    info = tool[PyToolInfo]
    py = python[CPythonInfo]
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
