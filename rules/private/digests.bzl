"""`image_digests_test`: an image's digests compared with committed ones, on every machine."""

load("//rules/private:lock.bzl", "update_and_test")

_TOOL = Label("//rules/private/tools:image_digests.py")

def image_digests_test(name, image, digests, layer_names = [], **kwargs):
    """`NAME` fails unless `image` has the digests committed in `digests`; `NAME.update` records them.

    ```starlark
    load("@rules_pyimage//rules:defs.bzl", "image_digests_test")

    image_digests_test(name = "image_digests_test", image = ":image", digests = "image.digests")
    ```

    The file holds the manifest and config digests and each layer's compressed and uncompressed
    digest. Because every input of a `py_image` is pinned and every compile runs in the hermetic
    builder, the same commit gives the same digests on every machine: this test, run in CI on a
    fresh machine, is a cross-machine reproducibility check. When it fails it names the layers
    that differ and the update command.

    Args:
      name: the test; `NAME.update` is the `bazel run` target that rewrites `digests`.
      image: a `py_image`.
      digests: the committed file.
      layer_names: the image's layers, base first; by default the names `py_image` writes in
        the image config's history (base, python, venv, `venv-<package>` or
        `venv-group-<first package>` for each package layer, app).
      **kwargs: passed to both targets.
    """
    label = "//%s%s" % (native.package_name(), image) if image.startswith(":") else image
    update_and_test(
        name = name,
        test_name = name,
        tool = _TOOL,
        files = {"--digests": digests},
        inputs = {"--layout": image},
        args = (["--layer-names=" + ",".join(layer_names)] if layer_names else []) + ["'--label=%s'" % label],
        **kwargs
    )
