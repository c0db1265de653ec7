"""The repository rule behind `pyimage_debian_packages`: every .deb of a Debian lock, each
field checked before use and each file fetched by its sha256, as `@NAME//:debs`."""

load("//rules/private/repositories:download.bzl", "apt_mirrors", "download_checked")

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"

# What each field of a Debian lock entry may hold (Debian policy 5.6.1, 5.6.7, 5.6.12). Every
# field is checked before it reaches a path, a URL or the generated BUILD file.
_LOCK_FIELDS = {
    "name": _LOWER + _DIGITS + "+.-",
    "version": _LOWER + _LOWER.upper() + _DIGITS + ".+~:-",
    "architecture": _LOWER + _DIGITS + "-",
    "suite": _LOWER + _DIGITS + "-",
    "filename": _LOWER + _LOWER.upper() + _DIGITS + "._+~%/-",
    "sha256": _DIGITS + "abcdef",
}

def _lock_entry_problem(pkg):
    """(field, why) of the first malformed field of a Debian lock entry, or None."""
    if type(pkg) != "dict":
        return ("entry", "not an object")
    for field, allowed in _LOCK_FIELDS.items():
        value = pkg.get(field)
        if type(value) != "string" or not value:
            return (field, "missing or not a string")
        for c in value.elems():
            if c not in allowed:
                return (field, "the character %s is not allowed" % repr(c))
    if len(pkg["sha256"]) != 64:
        return ("sha256", "not 64 hexadecimal digits")
    if len(pkg["name"]) < 2 or not (pkg["name"][0] in _LOWER or pkg["name"][0] in _DIGITS):
        return ("name", "not a Debian package name")
    filename = pkg["filename"]
    if not filename.startswith("pool/") or not filename.endswith(".deb") or ".." in filename.split("/") or "//" in filename:
        return ("filename", "not a path pool/.../NAME.deb inside the archive")
    return None

def _check_lock_entry(pkg, index, lock_label, update_command):
    """Fails, naming the entry and the field, unless every field of a lock entry is well-formed."""
    problem = _lock_entry_problem(pkg)
    if problem:
        field, why = problem
        value = pkg.get(field) if type(pkg) == "dict" else pkg
        fail(("debian_packages: entry %d of %s has a bad '%s' (%s): %s. The lock is damaged or was " +
              "edited by hand; make it again with: %s") % (index, lock_label, field, why, repr(value), update_command))

def _debian_packages_impl(rctx):
    lock_path = rctx.path(rctx.attr.lock)
    lock_label = str(rctx.attr.lock)
    lock = json.decode(rctx.read(lock_path))
    if type(lock) != "dict" or type(lock.get("packages")) != "list":
        fail("debian_packages %s: %s is not a lock (a JSON object with a 'packages' list); make it with: %s" % (rctx.name, lock_label, rctx.attr.update_command))
    seen = {}
    for index, pkg in enumerate(lock["packages"]):
        _check_lock_entry(pkg, index, lock_label, rctx.attr.update_command)
        if pkg["name"] in seen:
            fail("debian_packages: %s names %s twice; make it again with: %s" % (lock_label, pkg["name"], rctx.attr.update_command))
        seen[pkg["name"]] = True
    archive, security = apt_mirrors(rctx)
    if not archive:
        fail("debian_packages %s: no Debian mirror: this machine's apt configuration names none; pass --repo_env=PYIMAGE_DEBIAN_MIRROR=URL (and PYIMAGE_DEBIAN_SECURITY_MIRROR)" % rctx.name)
    rctx.symlink(lock_path, "lock.json")
    build = [
        'load("@rules_pyimage//rules/private:debian.bzl", "debian_package_set")',
        "",
        'package(default_visibility = ["//visibility:public"])',
        "",
        'exports_files(["lock.json"])',
        "",
    ]
    debs = []
    for pkg in lock["packages"]:
        bases = security if pkg["suite"].endswith("-security") else archive
        deb = "debs/%s_%s_%s.deb" % (pkg["name"], pkg["version"].replace(":", "%3a"), pkg["architecture"])
        rctx.report_progress("Fetching %s %s" % (pkg["name"], pkg["version"]))
        download_checked(
            rctx,
            urls = [b + "/" + pkg["filename"] for b in bases],
            output = deb,
            sha256 = pkg["sha256"],
            what = "Debian package %s %s (%s, locked in %s)" % (pkg["name"], pkg["version"], pkg["suite"], lock_label),
            unreachable_hint = "The mirror no longer serves this version: the lock is stale. Run: %s" % rctx.attr.update_command,
            pinned_in = lock_label,
        )
        debs.append(deb)
        build.append("filegroup(name = %s, srcs = [%s])" % (repr(pkg["name"]), repr(deb)))
    build.append("")
    build.append("debian_package_set(\n    name = \"debs\",\n    debs = %s,\n    lock = \"lock.json\",\n)" % repr(debs))
    rctx.file("BUILD.bazel", "\n".join(build) + "\n")
    rctx.file("WORKSPACE", "workspace(name = \"%s\")\n" % rctx.name)

debian_packages = repository_rule(
    implementation = _debian_packages_impl,
    doc = """Downloads every .deb of a lock by its sha256. `@NAME//:debs` is all of them,
`@NAME//:PACKAGE` one. Mirrors come from this machine's apt configuration or
`--repo_env=PYIMAGE_DEBIAN_MIRROR=URL` / `PYIMAGE_DEBIAN_SECURITY_MIRROR=URL`; the lock holds
only paths inside the archive.""",
    attrs = {
        "lock": attr.label(mandatory = True, allow_single_file = [".json"], doc = "The lock written by `debian_lock`."),
        "update_command": attr.string(mandatory = True, doc = "The command that refreshes the lock, for messages."),
    },
    environ = ["PYIMAGE_DEBIAN_MIRROR", "PYIMAGE_DEBIAN_SECURITY_MIRROR"],
)

# What the base layer leaves out: documentation, manuals and translations. Paths inside the
# rootfs, fnmatch globs (`*` crosses `/`). DEBIAN_KEEP wins over DEBIAN_EXCLUDE.
