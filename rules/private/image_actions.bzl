"""The actions of `py_image` that stand on their own: compressing a layer, leaving out what the
app cannot use, and the SBOM with the provenance. Each takes the rule's ctx and the files it
works on, registers its action and returns what it declared."""

load("//rules/private:common.bzl", "RULES_VERSION", "SOURCE_DATE_EPOCH", "label_text")
load("//rules/private:providers.bzl", "DebianRootfsInfo")
load("//rules/private:py_tool.bzl", "run_py_tool", "tool_python")

# The image actions run Python with its whole stdlib (a tree of ~2,400 files) as inputs; setting
# up a linux-sandbox for that takes seconds, longer than the work. These actions read only their
# declared inputs (and stay cacheable and remote-executable), so locally they skip the sandbox:
# a one-line app change then rebuilds the image in about a second on top of Bazel's no-op.
FAST = {"no-sandbox": "1"}

def layer_gzip(ctx, tar, name, py = None, tool = None):
    """The layer `name`'s tar, gzipped without a name or time in the header: the blob.

    Args:
      ctx: the py_image rule's ctx (or venv_layers_aspect's).
      tar: the layer's uncompressed tar.
      name: the layer's name, in the blob's file name.
      py: the CPythonInfo to run the tool on (default: the toolchain's; an aspect gives its own).
      tool: the make_image py_tool (default: ctx.attr._image_tool).

    Returns:
      The .tar.gz File.
    """
    gz = ctx.actions.declare_file("%s.%s.tar.gz" % (ctx.label.name, name))
    run_py_tool(
        ctx,
        tool or ctx.attr._image_tool,
        py or tool_python(ctx),
        arguments = ["gzip", tar.path, gz.path],
        inputs = [tar],
        outputs = [gz],
        mnemonic = "LayerGzip",
        execution_requirements = FAST,
        progress_message = "Compressing the %s layer of %s" % (name, ctx.label),
    )
    return gz

def slim_pyc(ctx, tar, name, optimize, sourceless, py = None, tool = None, trim_stdlib = False):
    """`tar` with one .pyc per module at `optimize` (in place of the .py with sourceless).

    Args:
      ctx: the py_image rule's ctx (or venv_layers_aspect's).
      tar: the layer's tar (the interpreter's or the venv's).
      name: the layer's name, in the output's file name.
      optimize: 0, 1 or 2, the level the entrypoint runs at; None keeps every level.
      sourceless: whether the .pyc replaces the .py.
      py: the CPythonInfo to run the tool on (default: the toolchain's).
      tool: the slim_layer py_tool (default: ctx.attr._slim_tool).
      trim_stdlib: also leave out what a program never reads from the stdlib (pydoc_data,
        _pydecimal beside _decimal; slim_layer.py says why).

    Returns:
      The new tar.
    """
    out = ctx.actions.declare_file("%s.%s.tar" % (ctx.label.name, name))
    args = ["pyc", "--optimize", "all" if optimize == None else str(optimize)]
    args += (["--sourceless"] if sourceless else []) + (["--trim-stdlib"] if trim_stdlib else [])
    run_py_tool(
        ctx,
        tool or ctx.attr._slim_tool,
        py or tool_python(ctx),
        arguments = args + [tar.path, out.path],
        inputs = [tar],
        outputs = [out],
        mnemonic = "ImageSlimPyc",
        execution_requirements = FAST,
        progress_message = "Leaving out of the %s layer of %s what it never reads (%s)" % (
            name,
            ctx.label,
            ", ".join(([] if optimize == None else ["the .pyc of other levels"]) + (["unused stdlib modules"] if trim_stdlib else [])),
        ),
    )
    return out

def check_base_keep(ctx, kind):
    """Fails on a `base_keep` pattern that is empty or climbs out of the base.

    Args:
      ctx: a rule ctx with a `base_keep` attribute.
      kind: the rule's name, for the message (py_image, fleet_base).
    """
    for pattern in ctx.attr.base_keep:
        if not pattern or pattern.startswith("./") or ".." in pattern.split("/"):
            fail("%s %s: base_keep has '%s'; give a path or glob in the base without ./ or .., for example \"usr/lib/x86_64-linux-gnu/gconv/*\"" % (kind, ctx.label, pattern))

def slim_base(ctx, uppers, platform):
    """The base without the libraries that no ELF file needs, and the list of what it left out.

    The ELF files read are those of `uppers` and of the base itself.

    Args:
      ctx: the py_image rule's ctx (its `base` and `base_keep`).
      uppers: the tars of the layers above the base.
      platform: the image's entry of PLATFORMS (where its libraries are).

    Returns:
      (the base's new tar, the list of what it left out as a text File).
    """
    out = ctx.actions.declare_file(ctx.label.name + ".base.tar")
    removed = ctx.actions.declare_file(ctx.label.name + ".base_removed.txt")
    args = ctx.actions.args()
    args.add("base")
    args.add("--output", out)
    args.add("--removed", removed)
    args.add("--multiarch", platform.multiarch)
    args.add_all(ctx.attr.base_keep, before_each = "--keep")
    args.add(ctx.file.base)
    args.add_all(uppers)
    run_py_tool(
        ctx,
        ctx.attr._slim_tool,
        tool_python(ctx),
        arguments = [args],
        inputs = [ctx.file.base] + uppers,
        outputs = [out, removed],
        mnemonic = "ImageSlimBase",
        execution_requirements = FAST,
        progress_message = "Leaving out of %s what no ELF file of %s needs" % (ctx.attr.base.label, ctx.label),
    )
    return out, removed

def _built_arg(pair):
    """`WHEEL=SDIST` of a wheel built here, for make_sbom.py's --built."""
    return "%s=%s" % (pair[0].path, pair[1].path)

def _rules_src(f):
    """`PATH_IN_THE_RULES=PATH` of one of rules_pyimage's sources, for make_sbom.py.

    The first part is the same whatever the repository is called (rules_pyimage, rules_pyimage~
    or rules_pyimage+), so Bazel 4 and Bazel 7 write the same provenance.
    """
    short = f.short_path
    if short.startswith("../"):
        short = short.split("/", 2)[2]
    return "%s=%s" % (short, f.path)

def image_sbom(ctx, py, info, repo_tag, layout, digest, base_tar, base_removed, venv_tars, app_tar):
    """The image's SPDX SBOM and in-toto provenance statement, and an OCI layout of both.

    Both are made from the image's layers and inputs; the layout holds them as artifacts whose
    subject is the image (what NAME.push attaches).

    Args:
      ctx: the py_image rule's ctx.
      py: the interpreter's CPythonInfo.
      info: the binary's BinaryDepsInfo.
      repo_tag: the image's name:tag.
      layout: the image's OCI layout.
      digest: the file holding its manifest digest.
      base_tar: the base layer's tar, as the image holds it (after trim_base).
      base_removed: trim_base's list of what it left out, or None.
      venv_tars: the venv layers' tars (one, or the venv's own and one per package or group).
      app_tar: the app layer's tar.

    Returns:
      (the SBOM, the provenance, the attachments' layout).
    """
    sbom = ctx.actions.declare_file(ctx.label.name + ".spdx.json")
    provenance = ctx.actions.declare_file(ctx.label.name + ".provenance.json")
    attached = ctx.actions.declare_directory(ctx.label.name + ".attachments")
    base_info = ctx.attr.base[DebianRootfsInfo] if DebianRootfsInfo in ctx.attr.base else None
    debs = base_info.debs if base_info else depset()
    debian_locks = base_info.locks if base_info else depset()
    args = ctx.actions.args()
    args.add("--name", repo_tag)
    args.add("--label", label_text(ctx.label))
    args.add("--digest", digest)
    args.add("--epoch", str(SOURCE_DATE_EPOCH))
    args.add("--rules-version", RULES_VERSION)
    args.add_all(ctx.files._rules_srcs, map_each = _rules_src, before_each = "--rules-src")
    provenance_inputs = {
        "--tools-lock": ctx.file._tools_lock,
        "--version-table": ctx.file._version_table,
        "--builder-lock": py.builder.lock,
    }
    for flag, f in provenance_inputs.items():
        if f:
            args.add(flag, f)
    args.add("--base", base_tar)
    if base_removed:
        args.add("--base-removed", base_removed)
    args.add_all(debs, before_each = "--deb")
    args.add("--python-tar", py.runtime_tar)
    args.add("--python-version", py.version)

    # Empty for a cpython_build that does not say (the SBOM then says NOASSERTION).
    args.add("--python-source-url", py.source_urls[0] if py.source_urls else "")
    args.add("--python-source-sha256", py.source_sha256 or "")
    args.add_all(venv_tars, before_each = "--venv")
    args.add_all(info.wheels, before_each = "--wheel", expand_directories = False)
    args.add_all(info.built, map_each = _built_arg, before_each = "--built")
    args.add_all(debian_locks, format_each = "--lock=Debian package lock=%s")
    args.add_all(info.locks, format_each = "--lock=Python package lock=%s")
    args.add("--app", app_tar)
    args.add("--app-label", label_text(ctx.attr.binary.label))
    args.add("--layout", layout.path)
    args.add("--sbom", sbom)
    args.add("--provenance", provenance)
    args.add("--attachments", attached.path)
    run_py_tool(
        ctx,
        ctx.attr._sbom_tool,
        tool_python(ctx),
        arguments = [args],
        inputs = depset(
            [layout, digest, base_tar, py.runtime_tar, app_tar] + venv_tars + ([base_removed] if base_removed else []),
            transitive = [
                debs,
                debian_locks,
                info.wheels,
                info.sdists,
                info.locks,
                depset(ctx.files._rules_srcs + [f for f in provenance_inputs.values() if f]),
            ],
        ),
        outputs = [sbom, provenance, attached],
        mnemonic = "ImageSbom",
        execution_requirements = FAST,
        progress_message = "Writing the SBOM and provenance of %s" % ctx.label,
    )
    return sbom, provenance, attached
