"""`tar_listing_test`: a tar's entries compared with a committed listing."""

load("//rules/private:lock.bzl", "update_and_test")

_TOOL = Label("//rules/private/tools:tar_listing.py")

def tar_listing_test(name, tar, golden, **kwargs):
    """`NAME` fails with a diff when `tar`'s entries differ from `golden`; `NAME.update` rewrites it.

    Each line of the listing: path, type, mode, uid:gid, size and the sha256 of the content.

    Args:
      name: the test; `NAME.update` is the `bazel run` target that rewrites `golden`.
      tar: the tar to list.
      golden: the committed listing.
      **kwargs: passed to the test.
    """
    update_and_test(
        name = name,
        test_name = name,
        tool = _TOOL,
        files = {"--listing": golden},
        inputs = {"--tar": tar},
        **kwargs
    )
