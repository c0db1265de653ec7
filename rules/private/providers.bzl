"""Providers of rules_pyimage. Every field is documented with its type."""

BuilderInfo = provider(
    doc = "The hermetic builder: the root filesystem that compiles run in (see `builder_rootfs`).",
    fields = {
        "rootfs": "(File) the builder's whole filesystem as one uncompressed tar",
        "update_command": "(str) the command that refreshes the lock it was made from, for messages",
    },
)

CPythonInfo = provider(
    doc = "A CPython interpreter compiled from source by `cpython_build`.",
    fields = {
        "version": "(str) the full version, for example \"3.13.15\"",
        "minor": "(str) the minor version, for example \"3.13\"",
        "prefix": "(str) the absolute install prefix inside images, for example \"/opt/pyimage/python\"",
        "interpreter": "(File) the build copy's bin/python3, runnable inside actions",
        "lib": "(File) tree artifact: the build copy's lib/ (stdlib, lib-dynload, config directory)",
        "include": "(File) tree artifact: the build copy's include/ (headers, for building extensions)",
        "runtime_tar": "(File) the runtime copy as a deterministic tar, entries under `prefix` (no headers, no config directory, no static library)",
        "builder": "(BuilderInfo) the hermetic builder it was compiled in; extensions for it are compiled in the same one",
    },
)
