"""`py_pex_binary`: a py_binary and its locked wheels as one reproducible .pex."""

load("//rules/private:binary_deps.bzl", "binary_deps_aspect", "source_arg")
load("//rules/private:providers.bzl", "BinaryDepsInfo")
load("//rules/private:py_tool.bzl", "TOOL_CFG", "USES_TOOLCHAIN", "run_py_tool", "tool_python")

def _module_of(f):
    return f.short_path[:-len(".py")].replace("/", ".")

def _py_pex_binary_impl(ctx):
    binary = ctx.attr.binary
    info = binary[BinaryDepsInfo]
    main = ctx.file.main
    if main not in info.srcs:
        fail("py_pex_binary %s: main '%s' is not among the sources of %s" % (ctx.label, main.short_path, binary.label))
    out = ctx.actions.declare_file(ctx.label.name + ".pex")
    args = ctx.actions.args()
    args.add("--output", out)
    args.add("--entry-point", _module_of(main))
    args.add("--shebang", ctx.attr.shebang)
    args.add_all(info.sources, format_each = "--source=%s", map_each = source_arg)
    args.add_all(info.wheels, before_each = "--wheel", expand_directories = False)
    run_py_tool(
        ctx,
        ctx.attr._tool,
        tool_python(ctx),
        arguments = [args],
        inputs = depset(transitive = [info.sources, info.wheels]),
        outputs = [out],
        mnemonic = "PexBuild",
        progress_message = "Building %s with pex" % out.short_path,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

py_pex_binary = rule(
    implementation = _py_pex_binary_impl,
    doc = """A `py_binary` and its locked third-party wheels as one reproducible `.pex` (pex from
the rules' tools lock, run on the from-source interpreter; nothing is downloaded). Run it with the
interpreter it was built for: `python3 app.pex`.

```starlark
py_pex_binary(name = "app_pex", binary = ":app", main = "main.py")
```
""",
    attrs = {
        "binary": attr.label(mandatory = True, aspects = [binary_deps_aspect], doc = "The py_binary."),
        "main": attr.label(mandatory = True, allow_single_file = [".py"], doc = "Its main file, the pex's entry point."),
        "shebang": attr.string(default = "/opt/pyimage/python/bin/python3", doc = "The pex's `#!` line: the from-source interpreter's path in images."),
        "_tool": attr.label(default = "//rules/private/tools:make_pex", cfg = TOOL_CFG),
    },
    **USES_TOOLCHAIN
)
