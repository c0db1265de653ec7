"""An aspect that collects, below a py_binary, its locked wheels and its first-party files: what a
pex or an image packs."""

load("//rules/private:providers.bzl", "BinaryDepsInfo", "WheelInfo")

def _impl(target, ctx):
    deps = [d[BinaryDepsInfo] for d in getattr(ctx.rule.attr, "deps", []) if BinaryDepsInfo in d]
    if WheelInfo in target:
        w = target[WheelInfo]
        return [BinaryDepsInfo(
            wheels = w.transitive_whls,
            sources = depset(),
            srcs = [],
            wheel_pythons = w.transitive_pythons,
            built = w.transitive_built,
            sdists = w.transitive_sdists,
            locks = w.transitive_locks,
        )]
    own = [
        f
        for f in getattr(ctx.rule.files, "srcs", []) + getattr(ctx.rule.files, "data", [])
        if f.owner.workspace_name == ""
    ]
    return [BinaryDepsInfo(
        wheels = depset(transitive = [d.wheels for d in deps]),
        sources = depset(own, transitive = [d.sources for d in deps]),
        srcs = getattr(ctx.rule.files, "srcs", []),
        wheel_pythons = depset(transitive = [d.wheel_pythons for d in deps]),
        built = depset(transitive = [d.built for d in deps]),
        sdists = depset(transitive = [d.sdists for d in deps]),
        locks = depset(transitive = [d.locks for d in deps]),
    )]

binary_deps_aspect = aspect(implementation = _impl, attr_aspects = ["deps"])

def source_arg(f):
    """`PATH=SHORT_PATH`: a file and where it goes, for the tools' --source flags."""
    return "%s=%s" % (f.path, f.short_path)
