"""Public API of rules_pyimage.

```starlark
load("@rules_pyimage//rules:defs.bzl", "builder_rootfs", "cpython_build", "debian_lock", "debian_rootfs", "fleet_base", "image_digests_test", "py_image", "py_image_fleet", "py_pex_binary", "py_pytest_test", "pyimage_outdated", "tar_listing_test", "wheel_lock")
load("@rules_pyimage//rules:defs.bzl", "BuilderInfo", "CPythonInfo", "IMAGE_LAYER_NAMES", "ImageInfo", "WheelInfo")
```

A rule of yours that takes a `py_image` reads its `ImageInfo` (the layout, the archive, the
digest, each layer's name, tar and blob, the SBOM):

```starlark
def _impl(ctx):
    image = ctx.attr.image[ImageInfo]
    blobs = [layer.blob for layer in image.layers]
```

Repository setup: `@rules_pyimage//rules:extensions.bzl` (bzlmod, MODULE.bazel) or
`@rules_pyimage//rules:repositories.bzl` (WORKSPACE).
"""

load("//rules/private:builder.bzl", _builder_rootfs = "builder_rootfs")
load("//rules/private:cpython.bzl", _cpython_build = "cpython_build")
load("//rules/private:debian.bzl", _debian_lock = "debian_lock", _debian_rootfs = "debian_rootfs")
load("//rules/private:digests.bzl", _image_digests_test = "image_digests_test")
load("//rules/private:fleet.bzl", _fleet_base = "fleet_base", _py_image_fleet = "py_image_fleet")
load("//rules/private:image.bzl", _py_image = "py_image")
load("//rules/private:listing.bzl", _tar_listing_test = "tar_listing_test")
load("//rules/private:outdated.bzl", _pyimage_outdated = "pyimage_outdated")
load("//rules/private:pex.bzl", _py_pex_binary = "py_pex_binary")
load("//rules/private:pip.bzl", _wheel_lock = "wheel_lock")
load("//rules/private:providers.bzl", _BuilderInfo = "BuilderInfo", _CPythonInfo = "CPythonInfo", _IMAGE_LAYER_NAMES = "IMAGE_LAYER_NAMES", _ImageInfo = "ImageInfo", _WheelInfo = "WheelInfo")
load("//rules/private:pytest.bzl", _py_pytest_test = "py_pytest_test")

BuilderInfo = _BuilderInfo
builder_rootfs = _builder_rootfs
CPythonInfo = _CPythonInfo
cpython_build = _cpython_build
debian_lock = _debian_lock
debian_rootfs = _debian_rootfs
fleet_base = _fleet_base
IMAGE_LAYER_NAMES = _IMAGE_LAYER_NAMES
ImageInfo = _ImageInfo
image_digests_test = _image_digests_test
py_pytest_test = _py_pytest_test
tar_listing_test = _tar_listing_test
wheel_lock = _wheel_lock
WheelInfo = _WheelInfo
py_pex_binary = _py_pex_binary
py_image = _py_image
py_image_fleet = _py_image_fleet
pyimage_outdated = _pyimage_outdated
