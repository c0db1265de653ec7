"""The runners of a `py_image`: `NAME.load`, `NAME.push` and `NAME.verify`, scripts that
`bazel run` starts on the image's ImageInfo."""

load("//rules/private:common.bzl", "oci_ref_name")
load("//rules/private:providers.bzl", "ImageInfo")

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
        },
        is_executable = True,
    )
    return [DefaultInfo(executable = script, runfiles = ctx.runfiles(files = [archive, digest, layout] + attached + provenance))]

image_runner = rule(
    implementation = _image_runner_impl,
    executable = True,
    attrs = {
        "image": attr.label(mandatory = True, providers = [ImageInfo]),
        "mode": attr.string(mandatory = True, values = ["load", "push", "verify"]),
        "repo_tag": attr.string(mandatory = True),
        "_template": attr.label(default = "//rules/private:image_run.sh.tpl", allow_single_file = True),
        "_verify_template": attr.label(default = "//rules/private:image_verify.sh.tpl", allow_single_file = True),
    },
)
