"""`py_pex_binary`: a py_binary and its locked wheels as one reproducible .pex."""

load("//rules/private:pip.bzl", "WheelInfo")

_PexInfo = provider(
    doc = "What an aspect collects below a py_binary for a pex.",
    fields = {
        "wheels": "(depset[File]) the wheels (files, or directories holding one)",
        "sources": "(depset[File]) first-party .py files",
    },
)

def _collect_impl(target, ctx):
    deps = getattr(ctx.rule.attr, "deps", [])
    wheels = [d[_PexInfo].wheels for d in deps if _PexInfo in d]
    sources = [d[_PexInfo].sources for d in deps if _PexInfo in d]
    if WheelInfo in target:
        return [_PexInfo(wheels = target[WheelInfo].transitive_whls, sources = depset())]
    own = [f for f in getattr(ctx.rule.files, "srcs", []) if f.extension == "py" and f.owner.workspace_name == ""]
    return [_PexInfo(wheels = depset(transitive = wheels), sources = depset(own, transitive = sources))]

_collect = aspect(implementation = _collect_impl, attr_aspects = ["deps"])

def _module_of(f):
    return f.short_path[:-len(".py")].replace("/", ".")

def _py_pex_binary_impl(ctx):
    binary = ctx.attr.binary
    info = binary[_PexInfo]
    main = ctx.file.main
    if main not in info.sources.to_list():
        fail("py_pex_binary %s: main '%s' is not among the sources of %s" % (ctx.label, main.short_path, binary.label))
    out = ctx.actions.declare_file(ctx.label.name + ".pex")
    args = ctx.actions.args()
    args.add("--output", out)
    args.add("--entry-point", _module_of(main))
    args.add("--shebang", ctx.attr.shebang)
    args.add_all(info.sources, format_each = "--source=%s", map_each = _source_arg)
    args.add_all(info.wheels, before_each = "--wheel", expand_directories = False)
    ctx.actions.run(
        executable = ctx.executable._tool,
        arguments = [args],
        inputs = depset(transitive = [info.sources, info.wheels]),
        outputs = [out],
        mnemonic = "PexBuild",
        progress_message = "Building %s with pex" % out.short_path,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

def _source_arg(f):
    return "%s=%s" % (f.path, f.short_path)

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
        "binary": attr.label(mandatory = True, aspects = [_collect], doc = "The py_binary."),
        "main": attr.label(mandatory = True, allow_single_file = [".py"], doc = "Its main file, the pex's entry point."),
        "shebang": attr.string(default = "/opt/pyimage/python/bin/python3", doc = "The pex's `#!` line: the from-source interpreter's path in images."),
        "_tool": attr.label(default = "//rules/private/tools:make_pex", executable = True, cfg = "exec"),
    },
)
