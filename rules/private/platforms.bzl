"""The platforms rules_pyimage builds for, in one table that every architecture-dependent place
reads: the image config, the Debian locks, the wheels' platform tags, the library directories
the checks search, the builder's headers, the toolchains' constraints.

Each platform is spelled the ways its ecosystems spell it, side by side, so that no file derives
one spelling from another: `amd64` (Debian, OCI), `x86_64` (the kernel, manylinux tags, the
`@platforms//cpu` constraint), `x86_64-linux-gnu` (Debian's multiarch directories).
"""

# The glibc of the Debian release the bases and the builder come from (bookworm): the newest
# manylinux tag a wheel may have, and auditwheel's policy for wheels built here.
GLIBC_VERSION = "2.36"

PLATFORMS = {
    "linux_amd64": struct(
        name = "linux_amd64",
        # The OCI image config's `os` and `architecture`.
        os = "linux",
        architecture = "amd64",
        # Debian's name of the architecture (locks, `dpkg --print-architecture`).
        debian_architecture = "amd64",
        # `uname -m`, the manylinux platform tags' suffix.
        cpu = "x86_64",
        # Debian's multiarch triplet: lib/<triplet>, usr/lib/<triplet>, usr/include/<triplet>.
        multiarch = "x86_64-linux-gnu",
        # The compiler's control-flow protection on this architecture (common.bzl's hardening).
        hardening_cflags = ["-fcf-protection"],
        # Bazel's constraint values for an execution or target platform of this kind.
        constraints = ["@platforms//os:linux", "@platforms//cpu:x86_64"],
    ),
}

# What the rules build for and on, until a rule takes a platform of its own (arm64 is next).
DEFAULT_PLATFORM = PLATFORMS["linux_amd64"]

def manylinux_tag(platform, glibc = GLIBC_VERSION):
    """The manylinux platform tag of wheels for `platform` on that glibc.

    Args:
      platform: an entry of PLATFORMS.
      glibc: the glibc version, "MAJOR.MINOR".

    Returns:
      For example "manylinux_2_36_x86_64".
    """
    return "manylinux_%s_%s" % (glibc.replace(".", "_"), platform.cpu)
