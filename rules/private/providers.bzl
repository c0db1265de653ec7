"""Providers of rules_pyimage. Every field is documented with its type."""

BuilderInfo = provider(
    doc = "The hermetic builder: the root filesystem that compiles run in (see `builder_rootfs`).",
    fields = {
        "rootfs": "(File) the builder's whole filesystem as one uncompressed tar",
        "lock": "(File or None) the Debian lock its packages come from, for provenance",
        "update_command": "(str) the command that refreshes the lock it was made from, for messages",
    },
)

CPythonInfo = provider(
    doc = "A CPython interpreter compiled from source by `cpython_build`.",
    fields = {
        "version": "(str) the full version, for example \"3.13.15\"",
        "minor": "(str) the minor version, for example \"3.13\"",
        "free_threaded": "(bool) built without the global interpreter lock (`--disable-gil`)",
        "abi_minor": "(str) the minor version as paths, wheel tags and locks spell it: `minor`, with `t` for a free-threaded build (\"3.14t\": lib/python3.14t, cp314t wheels)",
        "prefix": "(str) the absolute install prefix inside images, for example \"/opt/pyimage/python\"",
        "interpreter": "(File) the build copy's bin/python3, runnable inside actions",
        "lib": "(File) tree artifact: the build copy's lib/ (stdlib, lib-dynload, config directory)",
        "include": "(File) tree artifact: the build copy's include/ (headers, for building extensions)",
        "runtime_tar": "(File) the runtime copy as a deterministic tar, entries under `prefix` (no headers, no config directory, no static library)",
        "builder": "(BuilderInfo) the hermetic builder it was compiled in; extensions for it are compiled in the same one",
        "source_urls": "(list[str]) where its source tarball comes from (python.org's URL first), for SBOMs and provenance",
        "source_sha256": "(str) the sha256 of that tarball, as the version table pins it",
    },
)

DebianRootfsInfo = provider(
    doc = "What a `debian_rootfs` was assembled from, for SBOMs and provenance.",
    fields = {
        "debs": "(depset[File]) the .deb files, each fetched by its lock's sha256",
        "locks": "(depset[File]) the locks they were fetched by (from `DebianPackagesInfo`)",
        "removed": "(File or None) when the base was trimmed for several images (`fleet_base`): the list of what the trim left out; a py_image does not trim such a base again",
    },
)

DebianPackagesInfo = provider(
    doc = "`@REPO//:debs` of `pyimage_debian_packages`: its .deb files are the DefaultInfo files.",
    fields = {
        "lock": "(File) the lock they were fetched by",
    },
)

BuiltWheelInfo = provider(
    doc = "A wheel that `wheel_from_sdist` built here, and what from.",
    fields = {
        "sdist": "(File) the sdist it was built from",
    },
)

PyToolInfo = provider(
    doc = "A Python program that the rules run in their actions on the compiled CPython.",
    fields = {
        "main": "(File) the script",
        "files": "(depset[File]) the script, the modules it imports and the unpacked wheels it needs",
        "pythonpath": "(list[str]) execution-root-relative directories to import from",
        "trees": "(list[File]) the unpacked wheels among `files` (tree artifacts), in `pythonpath` order",
    },
)

WheelInfo = provider(
    doc = "The wheels behind a `wheel_library` and its dependencies.",
    fields = {
        "whl": "(File) this package's wheel",
        "transitive_whls": "(depset[File]) the wheels of this package and all it depends on",
        "python_version": "(str) the Python minor version the wheel was fetched or built for, for example \"3.13\"; empty if any",
        "transitive_pythons": "(depset[str]) `MINOR LABEL` of this package and all it depends on, for the interpreter check",
        "transitive_built": "(depset[tuple[File, File]]) (wheel, sdist) of each wheel among `transitive_whls` that was built here from an sdist",
        "transitive_sdists": "(depset[File]) the sdists of `transitive_built`",
        "transitive_locks": "(depset[File]) the locks this package and its dependencies were fetched by",
    },
)

BinaryDepsInfo = provider(
    doc = "What `binary_deps_aspect` collects below a py_binary.",
    fields = {
        "wheels": "(depset[File]) the wheels of every wheel_library below (files, or directories holding one)",
        "sources": "(depset[File]) first-party files (srcs and data) of the main repository",
        "srcs": "(list[File]) the target's own srcs, not its deps' (where its main file must be)",
        "wheel_pythons": "(depset[str]) `MINOR LABEL` of every wheel below that is for one Python minor version",
        "built": "(depset[tuple[File, File]]) (wheel, sdist) of every wheel below that was built here from an sdist",
        "sdists": "(depset[File]) the sdists of `built`",
        "locks": "(depset[File]) the locks of every wheel below",
    },
)

VenvLayersInfo = provider(
    doc = "What `venv_layers_aspect` collects below a py_binary: one entry per wheel_library, with its own venv layer.",
    fields = {
        "packages": "(depset[struct(name: str, label: Label, whl: File, python: str, tar: File or None, blob: File or None)]) each wheel_library below: its name, label and wheel; `python` is `VERSION PREFIX` of the interpreter its layer was made for, `tar` and `blob` its layer (None when the aspect made none)",
    },
)

FleetPlanInfo = provider(
    doc = "What a `fleet_base` knows of its images' packages, for their layer plans.",
    fields = {
        "uses": "(dict[str, int]) per package label (str), how many of the fleet base's binaries have it below them",
    },
)

LockInfo = provider(
    doc = "A lock made by `debian_lock` or `wheel_lock`, for `pyimage_outdated`.",
    fields = {
        "kind": "(str) \"debian\" or \"wheel\"",
        "lock": "(File) the lock",
        "source": "(File) what it is resolved from: the package list, or requirements.in",
        "update_command": "(str) the command that refreshes it",
        "release": "(str) a Debian lock's release, for example \"bookworm\"; empty for a wheel lock",
        "architecture": "(str) a Debian lock's architecture, for example \"amd64\"; empty for a wheel lock",
    },
)

# The layers of every py_image, base first: ordered by how often they change, so that an app
# change rebuilds and pushes only the last. With per-package layers (py_image's venv_layers),
# one layer per package or group (`venv-<name>`, `venv-group-<name>`) comes between venv and
# app. Each consumer (the load/push scripts, the digests test, the size report) reads the names
# from ImageInfo.layers or from the image config's history.
IMAGE_LAYER_NAMES = ["base", "python", "venv", "app"]

ImageInfo = provider(
    doc = "An OCI image made by `py_image`: what the load, push and verify runners, `pyimage_outdated` and other rules read, instead of digging in output groups.",
    fields = {
        "layout": "(File) tree artifact: the OCI image layout (index.json, oci-layout, blobs/sha256/...)",
        "archive": "(File) the same image as a docker-archive tar (`podman load -i`)",
        "digest": "(File) a text file holding the manifest digest, `sha256:<hex>`",
        "manifest": "(struct(manifest: File, digest: File)) the image manifest's bytes and digest, made apart from the layout: all a lazy push reads, since every blob the manifest names is in the remote cache",
        "repo_tag": "(str) the name:tag in the docker-archive (`NAME:latest` unless py_image's `repo_tag` says otherwise)",
        "layers": "(list[struct(name: str, tar: File, blob: File)]) the layers, base first: each one's name (IMAGE_LAYER_NAMES, with `venv-<package>` layers between venv and app), uncompressed tar and gzipped blob",
        "sbom": "(File) the SPDX 2.3 SBOM (JSON)",
        "provenance": "(File) the in-toto statement with a SLSA provenance predicate",
        "attachments": "(File) tree artifact: an OCI layout of the SBOM and provenance as artifacts whose subject is the image (what `.push` attaches)",
        "sizes": "(list[File]) the size report (text, HTML) and the list of what trim_base left out, if it ran",
    },
)
