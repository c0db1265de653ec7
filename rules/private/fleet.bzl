"""A fleet of images: `fleet_base`, one trimmed base for all of them, so that they share its
layer, and `py_image_fleet`, which builds them and pushes them with a plan."""

load("//rules/private:common.bzl", "oci_ref_name")
load("//rules/private:image_actions.bzl", "check_base_keep", "slim_base")
load("//rules/private:platforms.bzl", "DEFAULT_PLATFORM")
load("//rules/private:providers.bzl", "CPythonInfo", "DebianRootfsInfo", "FleetPlanInfo", "ImageInfo", "VenvLayersInfo")
load("//rules/private:push_settings.bzl", "PushFromCacheInfo")
load("//rules/private:py_tool.bzl", "USES_TOOLCHAIN", "tool_python")
load("//rules/private:venv_layers.bzl", "TOOL_ATTRS", "layer_of", "tools_of", "venv_layers_aspect")

def _fleet_base_impl(ctx):
    check_base_keep(ctx, "fleet_base")
    py = ctx.attr.python[CPythonInfo] if ctx.attr.python else tool_python(ctx)

    # The ELF files that decide what stays: the interpreter's and every package's below any of
    # the binaries (each package once, whichever binaries share it).
    packages = {}
    uses = {}
    for binary in ctx.attr.binaries:
        for p in binary[VenvLayersInfo].packages.to_list():
            packages.setdefault(p.label, p)
            uses[str(p.label)] = uses.get(str(p.label), 0) + 1
    tools = tools_of(ctx.attr)
    uppers = [py.runtime_tar] + [
        layer_of(ctx, py, packages[label], "elf-" + packages[label].name, "0", tools).tar
        for label in sorted(packages, key = str)
    ]
    out, removed = slim_base(ctx, uppers, DEFAULT_PLATFORM)
    info = ctx.attr.base[DebianRootfsInfo] if DebianRootfsInfo in ctx.attr.base else None
    return [
        DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out])),
        DebianRootfsInfo(
            debs = info.debs if info else depset(),
            locks = info.locks if info else depset(),
            removed = removed,
        ),
        # What the images' layer plans read: a package many of them share keeps its own layer.
        FleetPlanInfo(uses = uses),
        OutputGroupInfo(removed = depset([removed])),
    ]

fleet_base = rule(
    implementation = _fleet_base_impl,
    doc = """The base of several images, trimmed once for all of them: it keeps every shared
library that the interpreter or any package below any of `binaries` needs (by DT_NEEDED), so
that the images built on it (`py_image(base = ":NAME")`) share one base layer, stored and pulled
once, instead of one trimmed base each.

```starlark
load("@rules_pyimage//rules:defs.bzl", "fleet_base", "py_image")

fleet_base(name = "base", binaries = ["//svc/a", "//svc/b"])

py_image(name = "a_image", binary = "//svc/a", main = "//svc/a:main.py", base = ":base")
```

A py_image does not trim such a base again (its `trim_base` is not used); its SBOM lists what the
base holds, and `NAME.base_removed.txt` (output group `removed`) what the trim left out. What
sharing costs an image is the libraries that only the other images need (docs/team.md).

The fleet base also tells its images how many of `binaries` use each package: an image with more
packages than its `max_layers` allows keeps the packages most of the fleet shares as layers of
their own (the same blob in every image) and groups those the fewest use.""",
    attrs = dict(
        TOOL_ATTRS,
        binaries = attr.label_list(
            mandatory = True,
            aspects = [venv_layers_aspect],
            doc = "The py_binary targets of the images that will share this base.",
        ),
        base = attr.label(
            default = "//third_party/debian:runtime_rootfs",
            allow_single_file = [".tar"],
            doc = "The base to trim (a `debian_rootfs`); the default is rules_pyimage's runtime base.",
        ),
        python = attr.label(
            providers = [CPythonInfo],
            doc = "The images' interpreter, when it is not the registered toolchain's default.",
        ),
        base_keep = attr.string_list(doc = "Paths or globs to keep although nothing links to them, as py_image's `base_keep`."),
        # venv_layers_aspect's parameter: the package layers of optimize = 0, pyc = "one", the
        # ones the images' defaults make (their ELF files are the same in every mode).
        private_venv_mode = attr.string(default = "0", values = ["0"]),
    ),
    **USES_TOOLCHAIN
)

def _fleet_impl(ctx):
    images = [image[ImageInfo] for image in ctx.attr.images]

    # The images' own output groups, merged: `--output_groups=+digest` on the fleet as on one image.
    return [
        DefaultInfo(files = depset([image.layout for image in images])),
        OutputGroupInfo(
            archive = depset([image.archive for image in images]),
            digest = depset([image.digest for image in images]),
            sbom = depset([image.sbom for image in images]),
            provenance = depset([image.provenance for image in images]),
            sizes = depset(transitive = [depset(image.sizes) for image in images]),
        ),
    ]

_fleet = rule(
    implementation = _fleet_impl,
    attrs = {"images": attr.label_list(mandatory = True, providers = [ImageInfo])},
)

def _runfile(ctx, f):
    """f's path in the runfiles tree: its repository's directory, then the path in it."""
    return f.short_path[len("../"):] if f.short_path.startswith("../") else ctx.workspace_name + "/" + f.short_path

def _fleet_push_impl(ctx):
    images = [image[ImageInfo] for image in ctx.attr.images]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")

    # Lazy (//rules:push_from_cache set): the manifests only; the blobs stream from the cache.
    from_cache = ctx.attr._push_from_cache[PushFromCacheInfo].url
    lines = [
        "#!/usr/bin/env bash",
        "# Generated by py_image_fleet: `bazel run %s -- --registry HOST[:PORT][/PREFIX]`." % ctx.label,
        "set -euo pipefail",
        # Each file by its runfiles path: rules_pyimage's tool and a workspace's images live in
        # different repositories of the runfiles tree.
        'if [[ -n "${RUNFILES_DIR:-}" ]]; then HERE="$RUNFILES_DIR"; elif [[ -d "$0.runfiles" ]]; then HERE="$0.runfiles"; else HERE="$(dirname "$PWD")"; fi',
    ]
    if not from_cache:
        lines.append("command -v skopeo >/dev/null 2>&1 || { echo 'ERROR: the fleet push needs skopeo (apt-get install skopeo)' >&2; exit 1; }")
    lines.append('exec python3 "$HERE/%s" \\' % _runfile(ctx, ctx.file._tool))
    if from_cache:
        # Checked at analysis by //rules:push_from_cache: no quote or shell character in it.
        lines.append("  --from-cache '%s' \\" % from_cache)
    for image in images:
        # Checked at analysis by each image's runner: no quote or shell character in a repo_tag.
        if from_cache:
            lines.append("  --manifest \"$HERE/%s=%s\" \\" % (_runfile(ctx, image.manifest.manifest), image.repo_tag))
        else:
            lines.append("  --image \"$HERE/%s=%s=%s\" \\" % (_runfile(ctx, image.layout), oci_ref_name(image.repo_tag), image.repo_tag))
    lines.append('  "$@"')
    ctx.actions.write(script, "\n".join(lines) + "\n", is_executable = True)
    return [DefaultInfo(
        executable = script,
        runfiles = ctx.runfiles(files = [ctx.file._tool] + [image.manifest.manifest if from_cache else image.layout for image in images]),
    )]

_fleet_push = rule(
    implementation = _fleet_push_impl,
    executable = True,
    attrs = {
        "images": attr.label_list(mandatory = True, providers = [ImageInfo]),
        "_tool": attr.label(default = "//rules/private/tools:fleet_push.py", allow_single_file = True),
        "_push_from_cache": attr.label(default = "//rules:push_from_cache", providers = [PushFromCacheInfo]),
    },
)

def py_image_fleet(name, images, **kwargs):
    """The images of a fleet, built together and pushed together.

    ```starlark
    load("@rules_pyimage//rules:defs.bzl", "py_image_fleet")

    py_image_fleet(name = "fleet", images = ["//svc/a:image", "//svc/b:image"])
    ```

    `bazel build :NAME` builds every image (`--output_groups=+digest`, `+archive`, `+sbom`,
    `+provenance`, `+sizes` add those files of every image); `bazel run :NAME.push -- --registry HOST[:PORT][/PREFIX]`
    pushes each one to `HOST/PREFIX/<its repo_tag>`. It prints a push plan first: per image,
    the blobs (config and layers) and bytes that will be sent, and those the registry already
    holds, in that repository or in another of the fleet (mounted across repositories, so no
    byte moves); a blob that two images share is sent once; an image whose tag already names
    its built digest is up to date and left alone. Then one skopeo copy per other image,
    checked against the built digest; the last line is the plan as JSON. `--plan` prints the
    plan and pushes nothing. Other arguments go to skopeo copy (`--dest-tls-verify=false` for a
    plain-http registry, `--dest-creds USER:PASS`, which the plan's queries use too).

    Args:
      name: the fleet: `NAME` (every image's layout) and `NAME.push`.
      images: the py_image targets.
      **kwargs: common attributes (tags, visibility).
    """
    _fleet(name = name, images = images, **kwargs)
    _fleet_push(name = name + ".push", images = images, **kwargs)
