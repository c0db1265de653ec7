"""The runners of a `py_image`: `NAME.load`, `NAME.push` and `NAME.verify`, scripts that
`bazel run` starts on the image's ImageInfo."""

load("//rules/private:common.bzl", "oci_ref_name")
load("//rules/private:providers.bzl", "ImageInfo")
load("//rules/private:push_settings.bzl", "PushFromCacheInfo")

def _bin_path(f):
    """Where a file of this build is under bazel-bin (external repositories under external/)."""
    return "external/" + f.short_path[len("../"):] if f.short_path.startswith("../") else f.short_path

_REPO_TAG_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:@"

def _image_runner_impl(ctx):
    for c in ctx.attr.repo_tag.elems():
        if c not in _REPO_TAG_CHARS:
            fail("py_image %s: repo_tag '%s' has the character %s; a name:tag holds letters, digits and . _ - / : @ only" % (ctx.attr.image.label, ctx.attr.repo_tag, repr(c)))
    image = ctx.attr.image[ImageInfo]
    archive, digest, layout = image.archive, image.digest, image.layout

    # A push attaches the SBOM and provenance; only then are they built.
    attached = [image.attachments] if ctx.attr.mode == "push" else []

    # And signs the provenance with cosign when asked (--attest-key).
    provenance = [image.provenance] if ctx.attr.mode == "push" else []

    # A lazy push (//rules:push_from_cache set) reads the manifest only: the blobs stream from
    # the remote cache, so the layout and archive stay out of the runfiles `bazel run` downloads.
    from_cache = ctx.attr._push_from_cache[PushFromCacheInfo].url if ctx.attr.mode == "push" else ""
    if from_cache:
        digest = image.manifest.digest
    image_files = [digest, image.manifest.manifest, ctx.file._push_tool] if from_cache else [archive, digest, layout]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.expand_template(
        template = ctx.file._verify_template if ctx.attr.mode == "verify" else ctx.file._template,
        output = script,
        substitutions = {
            "@@MODE@@": ctx.attr.mode,
            "@@ARCHIVE@@": archive.short_path,
            "@@LAYOUT@@": layout.short_path,
            "@@ATTACHMENTS@@": attached[0].short_path if attached else "",
            "@@PROVENANCE@@": provenance[0].short_path if provenance else "",
            "@@DIGEST@@": digest.short_path,
            "@@REPO_TAG@@": ctx.attr.repo_tag,
            # The layout's own tag: what it was made with, whatever name the push gives it.
            "@@REF_NAME@@": oci_ref_name(image.repo_tag),
            "@@LABEL@@": str(ctx.attr.image.label),
            "@@DIGEST_BIN@@": _bin_path(digest),
            "@@LAYOUT_BIN@@": _bin_path(layout),
            "@@LAYER_NAMES@@": " ".join([layer.name for layer in image.layers]),
            "@@FROM_CACHE@@": from_cache,
            "@@MANIFEST@@": image.manifest.manifest.short_path,
            "@@PUSH_TOOL@@": ctx.file._push_tool.short_path,
        },
        is_executable = True,
    )
    return [DefaultInfo(executable = script, runfiles = ctx.runfiles(files = image_files + attached + provenance))]

image_runner = rule(
    implementation = _image_runner_impl,
    executable = True,
    attrs = {
        "image": attr.label(mandatory = True, providers = [ImageInfo]),
        "mode": attr.string(mandatory = True, values = ["load", "push", "verify"]),
        "repo_tag": attr.string(mandatory = True),
        "_template": attr.label(default = "//rules/private:image_run.sh.tpl", allow_single_file = True),
        "_verify_template": attr.label(default = "//rules/private:image_verify.sh.tpl", allow_single_file = True),
        "_push_from_cache": attr.label(default = "//rules:push_from_cache", providers = [PushFromCacheInfo]),
        "_push_tool": attr.label(default = "//rules/private/tools:fleet_push.py", allow_single_file = True),
    },
)
