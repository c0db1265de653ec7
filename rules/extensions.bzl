"""The module extension of rules_pyimage (bzlmod): what the three WORKSPACE macros of
`@rules_pyimage//rules:repositories.bzl` do, one tag class each, with the same checks.

```starlark
# MODULE.bazel
bazel_dep(name = "rules_pyimage", version = "0.1.0")

pyimage = use_extension("@rules_pyimage//rules:extensions.bzl", "pyimage")
pyimage.toolchains(name = "python", python_versions = ["3.13.15", "3.11.2"])
pyimage.debian_packages(name = "debian_base", lock = "//third_party:base.lock.json")
pyimage.pip_packages(
    name = "pypi",
    lock = "//:requirements.lock.txt",
    python_version = "3.11",
    toolchains = "python",
    build_from_source = ["markupsafe"],
)
use_repo(pyimage, "python", "debian_base", "pypi")

register_toolchains("@python//:all")
```

Every repository is named by the module that asks for it; `use_repo` makes it visible there.
The rules' own repositories (their tools' wheels, the default base's .deb files) come with
rules_pyimage. One extension holds all three tag classes so that a pip repository can build its
sdists on the interpreter of a toolchains repository of the same extension, by name.
"""

load("//rules/private:cpython.bzl", "DEFAULT_PREFIX")
load("//rules/private/repositories:setup.bzl", "declare_debian_packages", "declare_own_repos", "declare_pip_packages", "declare_toolchains")
load("//toolchains:versions.bzl", "CPYTHON_VERSIONS", "DEFAULT_PYTHON_VERSION")

_OWN = Label("//:BUILD.bazel")

def _label_text(label):
    """A Label as the module that wrote it would: `//pkg:file`, `@rules_pyimage//pkg:file`."""
    if not label.workspace_name:
        repo = ""
    elif label.workspace_name == _OWN.workspace_name:
        repo = "@rules_pyimage"
    else:
        # A canonical name such as `other~` or `other+`: its apparent name comes first.
        repo = "@" + label.workspace_name.replace("+", "~").split("~")[0]
    return "%s//%s:%s" % (repo, label.package, label.name)

def _claim(seen, name, what, module):
    if name in seen:
        fail("rules_pyimage extension: the repository name '%s' is asked for twice (%s in module %s, %s in module %s); give each its own name" % (
            name,
            seen[name][0],
            seen[name][1],
            what,
            module,
        ))
    seen[name] = (what, module)

def _pyimage_impl(mctx):
    seen = {}
    declare_own_repos()
    for mod in mctx.modules:
        for tag in mod.tags.toolchains:
            _claim(seen, tag.name, "toolchains", mod.name)
            table = dict(CPYTHON_VERSIONS)
            for version, entry in tag.extra_versions.items():
                if len(entry) != 2:
                    fail("pyimage.toolchains %s: extra_versions[\"%s\"] must be [url, sha256]; it is %s" % (tag.name, version, entry))
                table[version] = {"url": entry[0], "sha256": entry[1]}
            declare_toolchains(
                "pyimage.toolchains",
                name = tag.name,
                python_versions = tag.python_versions,
                default_version = tag.default_version or None,
                prefix = tag.prefix,
                configure_flags = tag.configure_flags,
                optimizations = tag.optimizations,
                lto = tag.lto,
                plain_versions = tag.plain_versions,
                cpython_versions = table,
                builder_lock = tag.builder_lock,
                builder_lock_text = _label_text(tag.builder_lock),
            )
        for tag in mod.tags.debian_packages:
            _claim(seen, tag.name, "debian_packages", mod.name)
            declare_debian_packages("pyimage.debian_packages", tag.name, tag.lock, _label_text(tag.lock))
        for tag in mod.tags.pip_packages:
            _claim(seen, tag.name, "pip_packages", mod.name)
            declare_pip_packages(
                "pyimage.pip_packages",
                tag.name,
                tag.lock,
                _label_text(tag.lock),
                tag.python_version,
                tag.build_from_source,
                tag.toolchains,
                _label_text(tag.wheel_lock) if tag.wheel_lock else "",
            )
    for mod in mctx.modules:
        for tag in mod.tags.pip_packages:
            if seen.get(tag.toolchains, ("",))[0] != "toolchains":
                fail("pyimage.pip_packages %s: toolchains = \"%s\" names no pyimage.toolchains tag; sdists are built on its python%s. Add pyimage.toolchains(name = \"%s\", ...) or name the one you have." % (
                    tag.name,
                    tag.toolchains,
                    tag.python_version,
                    tag.toolchains,
                ))

_toolchains = tag_class(
    doc = "CPython toolchains compiled from source: `pyimage_register_toolchains`. Register them with `register_toolchains(\"@<name>//:all\")`.",
    attrs = {
        "name": attr.string(default = "pyimage_python", doc = "The repository of toolchains (`@<name>//:python3.13`, `--@<name>//:python_version`)."),
        "python_versions": attr.string_list(default = [DEFAULT_PYTHON_VERSION], doc = "The CPython releases to build, from the table in `@rules_pyimage//toolchains:versions.bzl` (or `extra_versions`); the first is the default. A release with `t` appended (\"3.14.7t\", 3.14 or later) is its free-threaded build: `@<name>//:python3.14t`."),
        "default_version": attr.string(doc = "The release Python targets run on when `--@<name>//:python_version` is not set; the first of `python_versions` if empty."),
        "prefix": attr.string(default = DEFAULT_PREFIX, doc = "The install prefix inside images, `/opt/<org>/python`."),
        "configure_flags": attr.string_list(doc = "Extra ./configure flags for every version."),
        "optimizations": attr.bool(default = True, doc = "Build with profile-guided optimisation (`--enable-optimizations`, a deterministic training run, so the interpreter stays bit-reproducible: docs/toolchain.md)."),
        "lto": attr.bool(default = True, doc = "Build with link-time optimisation (`--with-lto`)."),
        "plain_versions": attr.string_list(doc = "Releases of `python_versions` compiled without PGO and LTO whatever `optimizations` and `lto` say (an old release only tests run on, say)."),
        "extra_versions": attr.string_list_dict(doc = "Releases beyond the table: `{\"3.12.9\": [URL, SHA256]}`."),
        "builder_lock": attr.label(default = "//third_party/debian:builder.lock.json", doc = "The Debian lock of the hermetic builder (a `debian_lock`'s `NAME.lock.json`)."),
    },
)

_debian_packages = tag_class(
    doc = "The .deb files of a Debian lock, as `@<name>//:debs`: `pyimage_debian_packages`.",
    attrs = {
        "name": attr.string(mandatory = True, doc = "The repository; `@<name>//:debs` is every package, `@<name>//:PACKAGE` one."),
        "lock": attr.label(mandatory = True, doc = "The lock of a `debian_lock` named like the file (`base.lock.json` belongs to `base`)."),
    },
)

_pip_packages = tag_class(
    doc = "The distributions of a wheel lock (requirements, uv.lock or pylock.toml), as `@<name>//PACKAGE`: `pyimage_pip_packages`.",
    attrs = {
        "name": attr.string(mandatory = True, doc = "The repository; `@<name>//PACKAGE` is a package (lowercased, `-` and `.` as `_`)."),
        "lock": attr.label(mandatory = True, doc = "A lock named `NAME.lock.txt` of a `wheel_lock(name = NAME)`, a `uv.lock` or a PEP 751 `pylock.toml` (`pyimage_pip_packages`)."),
        "python_version": attr.string(mandatory = True, doc = "The Python minor version the wheels are for, for example \"3.13\"; \"3.14t\" for a free-threaded interpreter (cp314t wheels)."),
        "build_from_source": attr.string_list(doc = "Packages to build from their sdist even when a wheel fits."),
        "toolchains": attr.string(default = "pyimage_python", doc = "The `name` of the `toolchains` tag whose `python<python_version>` builds the sdists."),
        "wheel_lock": attr.label(doc = "The `wheel_lock` that writes a `uv.lock` or pylock.toml, for the update command that errors name."),
    },
)

pyimage = module_extension(
    implementation = _pyimage_impl,
    doc = "CPython toolchains, Debian packages and pip distributions from their locks (see the tag classes).",
    tag_classes = {
        "toolchains": _toolchains,
        "debian_packages": _debian_packages,
        "pip_packages": _pip_packages,
    },
)
