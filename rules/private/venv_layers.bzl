"""Per-package venv layers: each wheel installed on its own, once per wheel_library, so that the
same package is the same layer (and blob digest) in every image of a monorepo.

`venv_layers_aspect` runs on the wheel_library targets below a py_image's binary and makes each
one's layer there, not in the image: two images that share a package share the action, its
cache entry and its output. Its parameter `private_venv_mode` (set by the py_image macro from
`optimize` and `pyc`) says which .pyc files the layer holds; the interpreter is the registered
toolchain's. An image whose interpreter is another version makes its own layers with the same
action (`package_layer`): the same bytes, only not shared between images.

`venv_layer_plan` turns an image's packages into its layers under `max_layers`.
"""

load("//rules/private:common.bzl", "SOURCE_DATE_EPOCH")
load("//rules/private:image_actions.bzl", "layer_gzip", "slim_pyc")
load("//rules/private:providers.bzl", "CPythonInfo", "VenvLayersInfo", "WheelInfo")
load("//rules/private:py_tool.bzl", "TOOL_CFG", "run_py_tool")

# The values of `private_venv_mode`: the optimisation level, and "s" for sourceless. "" makes no
# layer (the image has one venv layer).
VENV_MODES = ["", "0", "1", "2", "0s", "1s", "2s"]

# The layers of a py_image that are not packages: base, python, the venv's own files, app.
FIXED_LAYERS = 4

# Above this many layers, overlay mounts fail (the kernel's page of mount options; Docker says
# "max depth exceeded"). An image never has more.
HARD_LAYER_LIMIT = 125

def venv_mode(optimize, pyc):
    """The aspect's `private_venv_mode` for a py_image's `optimize` and `pyc`."""
    return "%d%s" % (optimize, "s" if pyc == "sourceless" else "")

def python_key(py):
    """What a package layer's bytes depend on in the interpreter: its version, ABI and prefix."""
    return "%s%s %s" % (py.version, "t" if py.free_threaded else "", py.prefix)

def venv_path(py):
    """/opt/<org>/venv for an interpreter installed at /opt/<org>/python."""
    return py.prefix.rsplit("/", 1)[0] + "/venv"

def package_layer(ctx, py, wheels, name, mode, tools):
    """A layer holding `wheels` installed into the venv, and its blob.

    Args:
      ctx: the rule's or aspect's ctx (the outputs are named after its label).
      py: the CPythonInfo the layer is for; its .pyc files are compiled by it.
      wheels: the wheel Files (or directories holding one).
      name: the layer's name, in its files' names.
      mode: a value of VENV_MODES but "".
      tools: struct(make_venv, slim, image) of py_tool targets.

    Returns:
      struct(tar, blob).
    """
    sourceless = mode.endswith("s")
    optimize = mode[0]
    tar = ctx.actions.declare_file("%s.%s%s.tar" % (ctx.label.name, name, "_sources" if sourceless else ""))
    args = ctx.actions.args()
    args.add("--part", "packages")
    args.add("--venv", venv_path(py))
    args.add("--python", py.prefix + "/bin/python3")
    args.add("--mtime", str(SOURCE_DATE_EPOCH))
    args.add("--optimize", optimize)
    args.add("--output", tar)
    args.add_all(wheels, before_each = "--wheel", expand_directories = False)
    run_py_tool(
        ctx,
        tools.make_venv,
        py,
        arguments = [args],
        inputs = wheels,
        outputs = [tar],
        mnemonic = "ImageVenvLayer",
        progress_message = "Installing %s into the venv layer %s" % (ctx.label, name),
    )
    if sourceless:
        tar = slim_pyc(ctx, tar, name, int(optimize), True, py = py, tool = tools.slim)
    return struct(tar = tar, blob = layer_gzip(ctx, tar, name, py = py, tool = tools.image))

def tools_of(attr):
    """The py_tools of TOOL_ATTRS, as `package_layer` takes them."""
    return struct(make_venv = attr._make_venv, slim = attr._slim_tool, image = attr._image_tool)

def layer_of(ctx, py, package, name, mode, tools):
    """A package's layer for the interpreter `py`, the aspect's if it fits.

    The aspect's layer is taken when it was made for `py` (in the caller's mode); else the layer
    is made here by the same action: the same bytes, only not shared as an action.

    Args:
      ctx: the rule's ctx.
      py: the CPythonInfo of the image (or fleet base).
      package: a VenvLayersInfo package.
      name: the layer's name, if it is made here.
      mode: a value of VENV_MODES but "".
      tools: tools_of(ctx.attr).

    Returns:
      struct(tar, blob).
    """
    if package.tar and package.python == python_key(py):
        return struct(tar = package.tar, blob = package.blob)
    return package_layer(ctx, py, [package.whl], name, mode, tools)

def _venv_layers_aspect_impl(target, ctx):
    below = [d[VenvLayersInfo].packages for d in getattr(ctx.rule.attr, "deps", []) if VenvLayersInfo in d]
    mode = ctx.attr.private_venv_mode
    if WheelInfo not in target or not mode:
        return [VenvLayersInfo(packages = depset(transitive = below))]
    py = ctx.attr._python[CPythonInfo]
    whl = target[WheelInfo].whl
    layer = None
    if target[WheelInfo].python_version in ("", py.abi_minor):
        layer = package_layer(ctx, py, [whl], "venv_layer_" + mode, mode, tools_of(ctx.attr))
    package = struct(
        name = target.label.name,
        label = target.label,
        whl = whl,
        python = python_key(py),
        tar = layer.tar if layer else None,
        blob = layer.blob if layer else None,
    )
    return [VenvLayersInfo(packages = depset([package], transitive = below))]

TOOL_ATTRS = {
    "_make_venv": attr.label(default = "//rules/private/tools:make_venv", cfg = TOOL_CFG),
    "_slim_tool": attr.label(default = "//rules/private/tools:slim_layer", cfg = TOOL_CFG),
    "_image_tool": attr.label(default = "//rules/private/tools:make_image", cfg = TOOL_CFG),
}

venv_layers_aspect = aspect(
    implementation = _venv_layers_aspect_impl,
    attr_aspects = ["deps"],
    attrs = dict(
        TOOL_ATTRS,
        private_venv_mode = attr.string(values = VENV_MODES),
        _python = attr.label(default = "//rules/private:current_cpython", providers = [CPythonInfo]),
    ),
)

def venv_layer_plan(ctx, py, packages, max_layers, mode, uses = None):
    """The package layers of one image, in order, at most `max_layers - FIXED_LAYERS` of them.

    One layer per package while they fit. Past that, some packages share group layers, made by a
    hash of their name, so that a change to one package remakes one group, and a package added
    or removed moves at most one other. Without `uses` every package is grouped. With `uses`
    (from a fleet_base: how many of the fleet's binaries have each package), the packages most
    of the fleet shares keep a layer of their own, the same blob in every image, and only the
    least used are grouped, into a quarter of the slots (at least one). A package's layer comes
    from the aspect when it was made for this image's interpreter, else it is made here (the
    same bytes).

    Args:
      ctx: the py_image rule's ctx.
      py: the image's CPythonInfo.
      packages: the VenvLayersInfo packages below the binary, as a list.
      max_layers: the image's layer budget.
      mode: the image's venv mode (VENV_MODES).
      uses: None, or FleetPlanInfo.uses of the image's base.

    Returns:
      [struct(name, tar, blob, packages: [str])], in the order the image stacks them.
    """
    slots = max_layers - FIXED_LAYERS
    by_name = {}
    for p in packages:
        other = by_name.setdefault(p.name, p)
        if other.label != p.label:
            fail("py_image %s: two packages below %s are named %s: %s and %s; a venv holds one of each (rename one wheel_library, or drop one)" % (ctx.label, ctx.attr.binary.label, p.name, other.label, p.label))
    names = sorted(by_name)
    tools = tools_of(ctx.attr)
    own, grouped, group_slots = names, [], 0
    if len(names) > slots:
        if uses == None:
            own, grouped, group_slots = [], names, slots
        else:
            group_slots = max(1, slots // 4)

            # The most used first; among equals, by name, so that the plan is the same everywhere.
            ranked = [n for _, n in sorted([(-uses.get(str(by_name[n].label), 0), n) for n in names])]
            own, grouped = sorted(ranked[:slots - group_slots]), ranked[slots - group_slots:]
    buckets = {}
    for n in grouped:
        buckets.setdefault(hash(n) % group_slots, []).append(n)
    groups = sorted([[n] for n in own] + [sorted(b) for b in buckets.values()])
    layers = []
    for group in groups:
        if len(group) == 1:
            name = "venv-" + group[0]
            made = layer_of(ctx, py, by_name[group[0]], name, mode, tools)
        else:
            name = "venv-group-" + group[0]
            made = package_layer(ctx, py, [by_name[n].whl for n in group], name, mode, tools)
        layers.append(struct(name = name, tar = made.tar, blob = made.blob, packages = group))
    return layers
