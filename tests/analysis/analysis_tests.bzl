"""Analysis tests (skylib's analysistest and unittest): the fail() paths of the rules and the pure
helpers, without a build."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts", "unittest")
load("//rules/private:common.bzl", "oci_ref_name")  # buildifier: disable=bzl-visibility
load("//rules/private:providers.bzl", "CPythonInfo", "IMAGE_LAYER_NAMES", "ImageInfo")  # buildifier: disable=bzl-visibility
load("//rules/private/repositories:pip_packages.bzl", "manylinux_platforms")  # buildifier: disable=bzl-visibility

def _failure_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.message)
    return analysistest.end(env)

failure_test = analysistest.make(
    _failure_test_impl,
    expect_failure = True,
    attrs = {"message": attr.string(mandatory = True, doc = "A part of the expected fail() message.")},
)

def _analyses_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.true(env, analysistest.target_under_test(env) != None)
    return analysistest.end(env)

analyses_test = analysistest.make(_analyses_test_impl)

def _image_info_test_impl(ctx):
    env = analysistest.begin(ctx)
    target = analysistest.target_under_test(env)
    image = target[ImageInfo]
    name = target.label.name
    names = [layer.name for layer in image.layers]

    # base, python, venv, then one layer per package (none here: the app has no wheel), app.
    asserts.equals(env, IMAGE_LAYER_NAMES[:3], names[:3])
    asserts.equals(env, IMAGE_LAYER_NAMES[3:], names[-1:])
    asserts.equals(env, [], [n for n in names[3:-1] if not n.startswith("venv-")])
    for layer in image.layers:
        asserts.true(env, layer.tar.basename.endswith(".tar"), "layer %s: tar %s" % (layer.name, layer.tar.basename))
        asserts.equals(env, "%s.%s.tar.gz" % (name, layer.name), layer.blob.basename)
    asserts.equals(env, name, image.layout.basename)
    asserts.equals(env, name + ".tar", image.archive.basename)
    asserts.equals(env, name + ".digest", image.digest.basename)
    asserts.equals(env, name + ".spdx.json", image.sbom.basename)
    asserts.equals(env, "%s:latest" % name, image.repo_tag)

    # The default output is the layout, and the output groups name the same files.
    asserts.equals(env, [image.layout], target[DefaultInfo].files.to_list())
    asserts.equals(env, [image.archive], target[OutputGroupInfo].archive.to_list())
    asserts.equals(env, [layer.tar for layer in image.layers], target[OutputGroupInfo].layers.to_list())
    return analysistest.end(env)

image_info_test = analysistest.make(_image_info_test_impl)

def _layer_names_test_impl(ctx):
    env = analysistest.begin(ctx)
    image = analysistest.target_under_test(env)[ImageInfo]
    want = IMAGE_LAYER_NAMES[:3] + ctx.attr.package_layers + IMAGE_LAYER_NAMES[3:]
    asserts.equals(env, want, [layer.name for layer in image.layers])
    return analysistest.end(env)

layer_names_test = analysistest.make(
    _layer_names_test_impl,
    attrs = {"package_layers": attr.string_list(doc = "The names of the image's package layers, between venv and app.")},
)

def _fleet_outputs_test_impl(ctx):
    env = analysistest.begin(ctx)
    fleet = analysistest.target_under_test(env)
    images = [image[ImageInfo] for image in ctx.attr.images]

    # The fleet's files are its images' layouts, and its output groups merge theirs.
    asserts.equals(env, [i.layout for i in images], fleet[DefaultInfo].files.to_list())
    asserts.equals(env, [i.digest for i in images], fleet[OutputGroupInfo].digest.to_list())
    asserts.equals(env, [i.archive for i in images], fleet[OutputGroupInfo].archive.to_list())
    asserts.equals(env, [i.sbom for i in images], fleet[OutputGroupInfo].sbom.to_list())
    asserts.equals(env, [i.provenance for i in images], fleet[OutputGroupInfo].provenance.to_list())
    asserts.equals(env, [f for i in images for f in i.sizes], fleet[OutputGroupInfo].sizes.to_list())
    return analysistest.end(env)

fleet_outputs_test = analysistest.make(
    _fleet_outputs_test_impl,
    attrs = {"images": attr.label_list(providers = [ImageInfo])},
)

def _interpreter_test_impl(ctx):
    env = analysistest.begin(ctx)
    info = analysistest.target_under_test(env)[CPythonInfo]
    asserts.equals(env, ctx.attr.version, info.version)
    asserts.equals(env, ctx.attr.version.rsplit(".", 1)[0], info.minor)
    asserts.equals(env, "/opt/pyimage/python", info.prefix)

    # Built in the exec configuration, whatever configuration asks for it (cpython_exec).
    asserts.true(env, "-exec-" in info.runtime_tar.path, "the interpreter is not built in the exec configuration: " + info.runtime_tar.path)
    return analysistest.end(env)

interpreter_test = analysistest.make(
    _interpreter_test_impl,
    attrs = {"version": attr.string(mandatory = True)},
)

def _manylinux_test_impl(ctx):
    env = unittest.begin(ctx)
    tags = manylinux_platforms()
    asserts.equals(env, "manylinux_2_36_x86_64", tags[0])
    asserts.true(env, "manylinux_2_17_x86_64" in tags)
    asserts.equals(env, ["manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"], tags[-3:])
    asserts.equals(env, "manylinux_2_28_aarch64", manylinux_platforms(28, "aarch64")[0])
    return unittest.end(env)

manylinux_test = unittest.make(_manylinux_test_impl)

def _oci_ref_name_test_impl(ctx):
    env = unittest.begin(ctx)
    asserts.equals(env, "latest", oci_ref_name("example:latest"))
    asserts.equals(env, "3.11", oci_ref_name("rules_pyimage/versions:3.11"))
    asserts.equals(env, "v1", oci_ref_name("registry:5000/team/app:v1"))
    asserts.equals(env, "latest", oci_ref_name("registry:5000/team/app"))
    asserts.equals(env, "latest", oci_ref_name("app"))
    return unittest.end(env)

oci_ref_name_test = unittest.make(_oci_ref_name_test_impl)
