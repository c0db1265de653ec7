"""Constants every part of rules_pyimage shares."""

# The fixed SOURCE_DATE_EPOCH of every build (1980-01-01, the earliest a zip can hold): it fixes
# __DATE__/__TIME__ in the interpreter, makes every .pyc checked-hash, and is the mtime of every
# tar entry.
SOURCE_DATE_EPOCH = 315532800

# The version of rules_pyimage (MODULE.bazel's), recorded in SBOMs and provenance.
RULES_VERSION = "0.1.0"

def oci_ref_name(repo_tag):
    """The tag of a `name:tag`: what an OCI layout's `org.opencontainers.image.ref.name` holds.

    Args:
      repo_tag: for example "rules_pyimage/versions:3.11" or "registry:5000/app".

    Returns:
      The part after the last ':' ("3.11"), or "latest" when there is none, or when that part
      has a '/' (it was a registry's port).
    """
    parts = repo_tag.rsplit(":", 1)
    if len(parts) == 2 and parts[1] and "/" not in parts[1]:
        return parts[1]
    return "latest"

def label_text(label):
    """A label as text that is the same on every Bazel.

    `//pkg:name` for the main repository (Bazel 7's str() writes `@@//pkg:name`), so that what
    records a label (SBOMs, reports) is the same on both.

    Args:
      label: the Label.

    Returns:
      `@repo//pkg:name`, or `//pkg:name` in the main repository.
    """
    repo = "@" + label.workspace_name if label.workspace_name else ""
    return "%s//%s:%s" % (repo, label.package, label.name)

# The hardening of everything compiled here (CPython and wheels built from sdists). It starts
# from what Debian bookworm's `dpkg-buildflags` gives with DEB_BUILD_MAINT_OPTIONS=hardening=+all
# (a stack protector, fortified libc calls, format-string checks, full RELRO: relro + BIND_NOW;
# PIE is gcc's default on Debian) and adds what Debian trixie, Fedora, Ubuntu and the OpenSSF
# compiler options guide use and the builder's gcc 12 and glibc 2.36 support:
# `-fstack-clash-protection` (a large stack allocation probes each page, so it cannot jump over
# the guard page), `_FORTIFY_SOURCE=3` (fortified calls also where the object's size is known only
# at run time), and each platform's control-flow protection (`hardening_cflags` in
# platforms.bzl: `-fcf-protection` on amd64, which marks indirect-branch targets with ENDBR64 and
# the objects with IBT and SHSTK properties). rules/private/tools/hardening.py checks the result
# in the build.
HARDENING_CFLAGS = ["-fstack-protector-strong", "-fstack-clash-protection", "-Wformat", "-Werror=format-security"]
HARDENING_CPPFLAGS = ["-D_FORTIFY_SOURCE=3"]
HARDENING_LDFLAGS = ["-Wl,-z,relro", "-Wl,-z,now"]

def hardening_cflags(platform):
    """The C compiler's hardening flags for `platform` (an entry of PLATFORMS)."""
    return HARDENING_CFLAGS + platform.hardening_cflags

def wheel_lock_format(lock):
    """A wheel lock's format from its file name, as pypi_lock.py's lock_format reads it.

    Args:
      lock: the lock's label as text, for example "//svc:uv.lock".

    Returns:
      "uv.lock", "pylock" (PEP 751: pylock.toml, pylock.NAME.toml) or "requirements".
    """
    filename = lock.split(":")[-1].split("/")[-1]
    if filename == "uv.lock":
        return "uv.lock"
    if filename.startswith("pylock.") and filename.endswith(".toml"):
        return "pylock"
    return "requirements"
