"""`cpython_build`: compiles CPython from its release tarball in one cacheable action.

Loaded by the repository that `pyimage_register_toolchains` generates; users normally reach the
result through `@pyimage_python//:python3.13` and the registered Python toolchain.
"""

load("//rules/private:builder.bzl", "BUILDER_OUT", "HOST_ENV", "IN_BUILDER", "builder_command")
load("//rules/private:common.bzl", "HARDENING_CPPFLAGS", "HARDENING_LDFLAGS", "SOURCE_DATE_EPOCH", "hardening_cflags")
load("//rules/private:platforms.bzl", "DEFAULT_PLATFORM")
load("//rules/private:providers.bzl", "BuilderInfo", "CPythonInfo")

DEFAULT_PREFIX = "/opt/pyimage/python"

# What no image needs, removed from both copies. Paths are relative to the prefix; `{minor}` is
# the minor version with its ABI flag (3.14, or 3.14t for a free-threaded build: the stdlib is in
# lib/python3.14t); globs are allowed.
TRIM_ALWAYS = [
    "lib/python{minor}/test",
    "lib/python{minor}/*/test",
    "lib/python{minor}/*/tests",
    "lib/python{minor}/idlelib",
    "lib/python{minor}/tkinter",
    "lib/python{minor}/turtledemo",
    "lib/python{minor}/turtle.py",
    "lib/python{minor}/__pycache__/turtle.*",
    "lib/python{minor}/ensurepip",
    "lib/python{minor}/lib-dynload/_tkinter*",
    "lib/python{minor}/lib-dynload/_test*",
    "lib/python{minor}/lib-dynload/_ctypes_test*",
    "lib/python{minor}/lib-dynload/_xxtestfuzz*",
    "lib/python{minor}/lib-dynload/xx*",
    "lib/python{minor}/config-*/libpython*.a",
    "lib/python{minor}/config-*/python.o",
    "lib/libpython*.a",
    "bin/idle3*",
    "bin/2to3*",
    "share",
]

# Removed from the runtime copy only: what building an extension needs, and nothing runs.
TRIM_RUNTIME = [
    "include",
    "lib/python{minor}/config-*",
    "lib/pkgconfig",
    "bin/python3*-config",
]

# Stdlib modules that need a system library: the build fails, naming the package, if one of them
# does not import (with REQUIRED_MODULES_SINCE below: `required_modules(minor)`).
REQUIRED_MODULES = {
    "_ssl": "libssl-dev",
    "_hashlib": "libssl-dev",
    "_sqlite3": "libsqlite3-dev",
    "_ctypes": "libffi-dev",
    "_lzma": "liblzma-dev",
    "_bz2": "libbz2-dev",
    "zlib": "zlib1g-dev",
    "_uuid": "uuid-dev",
    "readline": "libreadline-dev",
    "_curses": "libncurses-dev",
    "_curses_panel": "libncurses-dev",
    "_decimal": "nothing (libmpdec is bundled); see make's log",
    "_dbm": "libgdbm-compat-dev",
    "_gdbm": "libgdbm-dev",
    "pyexpat": "nothing (expat is bundled); see make's log",
    "zoneinfo": "nothing; see make's log",
}

# Where a minor version differs from REQUIRED_MODULES: {first minor: {module: package, or None
# for "no longer required"}}, each entry applying to that minor and every later one.
REQUIRED_MODULES_SINCE = {
    "3.14": {"_zstd": "libzstd-dev"},
    # 3.15 bundles no libmpdec, and Debian bookworm (the builder) has no libmpdec-dev: _decimal
    # does not build, and `decimal` runs on its pure-Python twin, _pydecimal (docs/toolchain.md).
    "3.15": {"_decimal": None},
}

# What the compile needs from the builder, checked before configure runs: {path in the builder:
# the Debian package that provides it}. A builder lock without one fails at once, naming both.
BUILDER_REQUIRES = {
    "bin/bash": "bash",
    "bin/sh": "dash",
    "bin/sed": "sed",
    "bin/grep": "grep",
    "bin/tar": "tar",
    "bin/gzip": "gzip",
    "usr/bin/xz": "xz-utils",
    "usr/bin/awk": "mawk",
    "usr/bin/find": "findutils",
    "usr/bin/cmp": "diffutils",
    "usr/bin/gcc": "gcc",
    "usr/bin/make": "make",
    "usr/bin/ld": "binutils",
    "usr/bin/strip": "binutils",
    "usr/bin/pkg-config": "pkg-config",
    "usr/include/stdio.h": "libc6-dev",
    "usr/include/openssl/ssl.h": "libssl-dev",
    "usr/include/%s/ffi.h" % DEFAULT_PLATFORM.multiarch: "libffi-dev",
    "usr/include/zlib.h": "zlib1g-dev",
    "usr/include/bzlib.h": "libbz2-dev",
    "usr/include/lzma.h": "liblzma-dev",
    "usr/include/sqlite3.h": "libsqlite3-dev",
    "usr/include/uuid/uuid.h": "uuid-dev",
    "usr/include/readline/readline.h": "libreadline-dev",
    "usr/include/ncursesw/curses.h": "libncurses-dev",
    "usr/include/gdbm.h": "libgdbm-dev",
    "usr/include/ndbm.h": "libgdbm-compat-dev",
    "usr/include/zstd.h": "libzstd-dev",
}

def _minor_key(minor):
    return [int(p) for p in minor.split(".")]

def required_modules(minor):
    """The stdlib modules that must build for a minor version.

    Args:
      minor: the minor version, "3.14".

    Returns:
      {module: the Debian -dev package (or a hint) that it needs}.
    """
    modules = dict(REQUIRED_MODULES)
    for since in sorted(REQUIRED_MODULES_SINCE.keys(), key = _minor_key):
        if _minor_key(since) <= _minor_key(minor):
            modules.update(REQUIRED_MODULES_SINCE[since])
    return {m: pkg for m, pkg in modules.items() if pkg}

def _minor(version):
    """"3.14" of "3.14.7" (and of a pre-release, "3.15.0rc1"); fails on anything else."""
    parts = version.split(".")
    micro = parts[-1]
    for stage in ("rc", "a", "b"):
        if stage in micro:
            micro, _, serial = micro.partition(stage)
            if not serial.isdigit():
                micro = ""
            break
    if len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit() and micro.isdigit()):
        fail("cpython_build: version '%s' is not of the form MAJOR.MINOR.MICRO, with a pre-release's suffix (a1, b2, rc1) if any" % version)
    return parts[0] + "." + parts[1]

# The first minor version whose free-threaded build (`--disable-gil`) is supported (PEP 779); 3.13
# had it as an experiment.
FREE_THREADED_SINCE = "3.14"

def _cpython_build_impl(ctx):
    version = ctx.attr.version
    minor = _minor(version)
    if ctx.attr.free_threaded and _minor_key(minor) < _minor_key(FREE_THREADED_SINCE):
        fail("cpython_build %s: free_threaded needs CPython %s or later (PEP 779); %s has no supported free-threaded build" % (ctx.label, FREE_THREADED_SINCE, version))
    prefix = ctx.attr.prefix
    if not prefix.startswith("/") or prefix.endswith("/") or "//" in prefix or " " in prefix:
        fail("cpython_build %s: prefix '%s' must be an absolute path without a trailing slash or spaces, for example \"%s\"" % (ctx.label, prefix, DEFAULT_PREFIX))
    flags = list(ctx.attr.configure_flags)
    for flag in flags:
        if flag.split("=", 1)[0] in ("--prefix", "--enable-optimizations", "--with-lto", "--disable-gil", "--enable-gil"):
            fail("cpython_build %s: configure_flags has '%s'; use the 'prefix', 'optimizations', 'lto' and 'free_threaded' attributes instead" % (ctx.label, flag))
    if ctx.attr.lto:
        flags.append("--with-lto")
    if ctx.attr.free_threaded:
        flags.append("--disable-gil")

    # The minor version as paths and wheel tags spell it: lib/python3.14t, cp314t.
    abi_minor = minor + ("t" if ctx.attr.free_threaded else "")

    name = ctx.label.name
    interpreter = ctx.actions.declare_file(name + "/bin/python3")
    lib = ctx.actions.declare_directory(name + "/lib")
    include = ctx.actions.declare_directory(name + "/include")
    runtime_tar = ctx.actions.declare_file(name + ".runtime.tar")
    builder = ctx.attr.builder[BuilderInfo]

    # Inside the builder: the inputs under /pyimage-in, the results under BUILDER_OUT. The PGO
    # training's files only when there is a training: a plain build's cache key leaves them out.
    src = "/pyimage-in/" + ctx.file.src.basename
    copies = [
        (ctx.file.src, src),
        (ctx.file._script, "/pyimage-in/build_cpython.sh"),
        (ctx.file._tar_tool, "/pyimage-in/dtar.py"),
        (ctx.file._hardening_tool, "/pyimage-in/hardening.py"),
    ]
    if ctx.attr.optimizations:
        copies += [
            (ctx.file._pgo_task, "/pyimage-in/pgo_task.py"),
            (ctx.file._pgo_isolate, "/pyimage-in/pgo_isolate.c"),
            (ctx.file._pgo_preload, "/pyimage-in/pgo_preload.c"),
        ]
    args = ctx.actions.args()
    args.add_all(builder_command(
        builder,
        copies = copies,
        outs = [
            (BUILDER_OUT + "/bin/python3", interpreter),
            (BUILDER_OUT + "/lib", lib),
            (BUILDER_OUT + "/include", include),
            (BUILDER_OUT + "/runtime.tar", runtime_tar),
        ],
        command = ["/bin/bash", "/pyimage-in/build_cpython.sh"],
    ))
    args.add("--src", src)
    args.add("--version", version)
    args.add("--prefix", prefix)
    args.add("--source-date-epoch", str(SOURCE_DATE_EPOCH))
    args.add("--out", BUILDER_OUT)
    args.add("--tar-tool", "/pyimage-in/dtar.py")
    args.add("--hardening-tool", "/pyimage-in/hardening.py")
    args.add("--cflags", " ".join(hardening_cflags(DEFAULT_PLATFORM)))
    args.add("--cppflags", " ".join(HARDENING_CPPFLAGS))
    args.add("--ldflags", " ".join(HARDENING_LDFLAGS))
    args.add("--update-command", builder.update_command)
    args.add("--abi-minor", abi_minor)
    args.add_all([p.format(minor = abi_minor) for p in TRIM_ALWAYS], before_each = "--trim")
    args.add_all([p.format(minor = abi_minor) for p in TRIM_RUNTIME], before_each = "--runtime-trim")
    args.add_all(["%s=%s" % (m, pkg) for m, pkg in required_modules(minor).items()], before_each = "--module")
    args.add_all(["%s=%s" % (path, pkg) for path, pkg in BUILDER_REQUIRES.items()], before_each = "--require")
    args.add_all(flags, before_each = "--configure")
    if ctx.attr.optimizations:
        args.add("--pgo-task", "/pyimage-in/pgo_task.py")
        args.add("--pgo-isolate", "/pyimage-in/pgo_isolate.c")
        args.add("--pgo-preload", "/pyimage-in/pgo_preload.c")

    optimised = [what for what, on in [("PGO", ctx.attr.optimizations), ("LTO", ctx.attr.lto)] if on]
    kind = " (free-threaded)" if ctx.attr.free_threaded else ""
    ctx.actions.run(
        executable = ctx.executable._in_builder,
        arguments = [args],
        inputs = [f for f, _ in copies] + [builder.rootfs],
        outputs = [interpreter, lib, include, runtime_tar],
        env = HOST_ENV,
        mnemonic = "CPythonBuild",
        progress_message = "Compiling CPython %s%s from source%s in the hermetic builder (%s)" % (
            version,
            kind,
            " with " + " and ".join(optimised) if optimised else "",
            ctx.label,
        ),
    )

    runfiles = ctx.runfiles(files = [interpreter, lib])
    return [
        DefaultInfo(
            executable = interpreter,
            files = depset([interpreter]),
            runfiles = runfiles,
        ),
        OutputGroupInfo(
            runtime_tar = depset([runtime_tar]),
            build_copy = depset([interpreter, lib, include]),
        ),
        CPythonInfo(
            version = version,
            minor = minor,
            free_threaded = ctx.attr.free_threaded,
            abi_minor = abi_minor,
            prefix = prefix,
            interpreter = interpreter,
            lib = lib,
            include = include,
            runtime_tar = runtime_tar,
            builder = builder,
            source_urls = ctx.attr.source_urls,
            source_sha256 = ctx.attr.source_sha256,
        ),
        PyRuntimeInfo(
            interpreter = interpreter,
            files = depset([lib]),
            python_version = "PY3",
            # The launcher that finds the runfiles and then starts this interpreter; Bazel's
            # default asks for `python`, which Debian does not have.
            stub_shebang = "#!/usr/bin/env python3",
            **({"bootstrap_template": ctx.file._bootstrap_template} if ctx.attr._bootstrap_template else {})
        ),
    ]

# Bazel 6 and later start py_binary through a template that the Python runtime names (Bazel 4
# has no such field). `config_common.toolchain_type` tells the two apart (Bazel 6+).
_BOOTSTRAP_TEMPLATE = "@bazel_tools//tools/python:python_bootstrap_template.txt" if hasattr(config_common, "toolchain_type") else None

cpython_build = rule(
    implementation = _cpython_build_impl,
    executable = True,
    doc = """Compiles CPython from its release tarball: configure, make, make install into `prefix`,
inside the hermetic `builder` (its packages are the compile's whole filesystem; nothing of the
host's compiler, headers or tools is used), with no network, hardened as Debian trixie and
Fedora harden their packages (`HARDENING_*` in `rules/private/common.bzl`: stack protector, stack
clash protection, `_FORTIFY_SOURCE=3`, `-fcf-protection`, full RELRO, PIE); the build fails,
naming the file, if an ELF file lacks what can be seen of that hardening.

The action removes what no image needs (`TRIM_ALWAYS`: test suites, idlelib, tkinter, turtledemo,
ensurepip, the static libpython), fails naming the -dev package when a stdlib module that needs a
system library did not build, strips the ELF files and checks that no build path is left. It
returns the build copy (with headers, used to run actions and build extensions; output group
`build_copy`, with `bin/python3` as the default output and `lib/` in its runfiles) and the runtime
copy as one deterministic tar (output group `runtime_tar`, without `TRIM_RUNTIME`).

`bazel run` on the target runs the interpreter.

```starlark
cpython_build(
    name = "cpython_3_13_15",
    src = "@pyimage_cpython_3_13_15//file",
    version = "3.13.15",
    builder = ":builder",
)
```
""",
    attrs = {
        "src": attr.label(
            mandatory = True,
            allow_single_file = [".tar.xz", ".tgz", ".tar.gz"],
            doc = "The CPython release tarball, as python.org publishes it.",
        ),
        "version": attr.string(
            mandatory = True,
            doc = "The full version the tarball must hold, for example \"3.13.15\"; the build checks it against Include/patchlevel.h.",
        ),
        "source_urls": attr.string_list(
            doc = "Where `src` comes from (the version table's URL), recorded in SBOMs and provenance; nothing is fetched from them here.",
        ),
        "source_sha256": attr.string(
            doc = "The sha256 that the version table pins for `src`, recorded in SBOMs and provenance.",
        ),
        "prefix": attr.string(
            default = DEFAULT_PREFIX,
            doc = "The absolute install prefix, where the interpreter lives in images (`/opt/<org>/python`).",
        ),
        "configure_flags": attr.string_list(
            doc = "Extra flags for ./configure, for example `[\"--with-computed-gotos\"]`. Use `prefix`, `optimizations` and `lto` for those.",
        ),
        "optimizations": attr.bool(
            default = True,
            doc = "Profile-guided optimisation (`--enable-optimizations`): the interpreter is built instrumented, runs `toolchains/private/pgo_task.py` (a deterministic training run) and is built again with that profile. It costs compile time and stays bit-reproducible; both measured in docs/toolchain.md.",
        ),
        "lto": attr.bool(
            default = True,
            doc = "Link-time optimisation (`--with-lto`): the interpreter's C code is optimised as one program.",
        ),
        "free_threaded": attr.bool(
            default = False,
            doc = "The free-threaded build (`--disable-gil`, PEP 703/779; CPython 3.14 or later): no global interpreter lock, so threads run Python code on several cores at once. Its stdlib is in `lib/python3.14t`, its interpreter `bin/python3.14t` (with `python3.14` and `python3` naming it), and it loads only extensions built for that ABI (`cp314t` wheels; abi3 wheels do not fit). docs/toolchain.md measures its cost on one thread.",
        ),
        "builder": attr.label(
            mandatory = True,
            providers = [BuilderInfo],
            doc = "The hermetic builder to compile in (a `builder_rootfs`): its packages are the compile's whole filesystem.",
        ),
        "_in_builder": IN_BUILDER,
        "_script": attr.label(
            default = "//toolchains/private:build_cpython.sh",
            allow_single_file = True,
        ),
        "_tar_tool": attr.label(
            default = "//rules/private/tools:dtar.py",
            allow_single_file = True,
        ),
        "_hardening_tool": attr.label(
            default = "//rules/private/tools:hardening.py",
            allow_single_file = True,
        ),
        "_pgo_task": attr.label(
            default = "//toolchains/private:pgo_task.py",
            allow_single_file = True,
        ),
        "_pgo_isolate": attr.label(
            default = "//toolchains/private:pgo_isolate.c",
            allow_single_file = True,
        ),
        "_pgo_preload": attr.label(
            default = "//toolchains/private:pgo_preload.c",
            allow_single_file = True,
        ),
        "_bootstrap_template": attr.label(
            default = _BOOTSTRAP_TEMPLATE,
            allow_single_file = True,
        ),
    },
)
