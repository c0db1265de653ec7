"""`py_image`: a py_binary, its locked wheels, the from-source interpreter and the Debian base as
an OCI image, built without a container daemon."""

load("//rules/private:binary_deps.bzl", "binary_deps_aspect", "source_arg")
load("//rules/private:common.bzl", "SOURCE_DATE_EPOCH", "label_text", "oci_ref_name")
load("//rules/private:image_actions.bzl", "FAST", "check_base_keep", "image_sbom", "layer_gzip", "slim_base", "slim_pyc")
load("//rules/private:image_runner.bzl", "image_runner")
load("//rules/private:platforms.bzl", "DEFAULT_PLATFORM")
load("//rules/private:providers.bzl", "BinaryDepsInfo", "CPythonInfo", "DebianRootfsInfo", "FleetPlanInfo", "IMAGE_LAYER_NAMES", "ImageInfo", "VenvLayersInfo")
load("//rules/private:py_tool.bzl", "TOOL_CFG", "USES_TOOLCHAIN", "run_py_tool", "tool_python")
load("//rules/private:venv_layers.bzl", "FIXED_LAYERS", "HARD_LAYER_LIMIT", "VENV_MODES", "venv_layer_plan", "venv_layers_aspect", "venv_mode")

# The interpreter flag of each optimisation level; the entrypoint runs with it.
_OPTIMIZE_FLAGS = {0: [], 1: ["-O"], 2: ["-OO"]}

def _user_problem(user):
    """Why `user` (uid, name, uid:gid or name:group) would run the app with root's rights, or None."""
    parts = user.split(":")
    if not user or len(parts) > 2 or "" in parts:
        return "is not uid, uid:gid, name or name:group"
    for part, what in zip(parts, ["user", "group"]):
        if part.isdigit() and int(part) == 0:
            return "runs the app as root (%s %s is 0)" % (what, part)
        if part == "root":
            return "runs the app as root (%s root)" % what
        if not part.isdigit() and not part.replace("-", "").replace("_", "").replace(".", "").isalnum():
            return "has a %s '%s' that is neither a number nor a plain name" % (what, part)
    return None

def _check_wheel_pythons(ctx, info, py, py_what):
    """Fails when a wheel below the binary was fetched or built for another Python minor version."""
    wrong = sorted([w for w in info.wheel_pythons.to_list() if w.split(" ", 1)[0] != py.abi_minor])
    if wrong:
        fail(("py_image %s: %s runs the image, but these wheels below %s are for another Python: %s. " +
              "Fetch the lock for %s (pyimage_pip_packages(python_version = \"%s\"), or the pip_packages " +
              "tag of the module extension), or pick the matching interpreter with `python` " +
              "(@<toolchains>//:python%s).") % (
            ctx.label,
            py_what,
            ctx.attr.binary.label,
            ", ".join(wrong),
            py.abi_minor,
            py.abi_minor,
            wrong[0].split(" ", 1)[0],
        ))

def _py_image_impl(ctx):
    # One platform for now (arm64 is next): everything below reads it, nothing spells it.
    platform = DEFAULT_PLATFORM
    org = ctx.attr.org
    if not org or not org.replace("-", "").replace("_", "").isalnum():
        fail("py_image %s: org '%s' must be a plain name (it becomes /opt/<org>), for example \"pyimage\"" % (ctx.label, org))
    user = ctx.attr.user
    problem = _user_problem(user)
    if problem:
        fail("py_image %s: user '%s' %s; give an unprivileged uid:gid such as \"65532:65532\"" % (ctx.label, user, problem))
    if ctx.attr.python:
        py = ctx.attr.python[CPythonInfo]
        py_what = "the interpreter %s (CPython %s%s)" % (ctx.attr.python.label, py.version, ", free-threaded" if py.free_threaded else "")
    else:
        py = tool_python(ctx)
        py_what = "the default interpreter of the registered rules_pyimage toolchain (CPython %s)" % py.version
    opt = "/opt/" + org
    if py.prefix != opt + "/python":
        fail("py_image %s: %s is installed at %s, but this image puts everything under %s; set org to match or pyimage_register_toolchains(prefix = \"%s/python\")" % (ctx.label, py_what, py.prefix, opt, opt))
    info = ctx.attr.binary[BinaryDepsInfo]
    _check_wheel_pythons(ctx, info, py, py_what)
    main = ctx.file.main
    if main not in info.srcs:
        fail("py_image %s: main '%s' is not among the sources of %s" % (ctx.label, main.short_path, ctx.attr.binary.label))
    if "PYTHONOPTIMIZE" in ctx.attr.env:
        fail("py_image %s: env sets PYTHONOPTIMIZE; use the attribute optimize = %s instead, so that the image holds the .pyc files of that level" % (ctx.label, ctx.attr.env["PYTHONOPTIMIZE"] or "1"))
    check_base_keep(ctx, "py_image")
    if ctx.attr.max_layers > HARD_LAYER_LIMIT or ctx.attr.max_layers <= FIXED_LAYERS:
        fail("py_image %s: max_layers = %d; it must be more than %d (base, python, venv, app) and at most %d (overlay's limit: a container with more layers does not start). Packages beyond the budget are grouped, so a smaller max_layers always builds." % (ctx.label, ctx.attr.max_layers, FIXED_LAYERS, HARD_LAYER_LIMIT))
    optimize = ctx.attr.optimize
    mtime = str(SOURCE_DATE_EPOCH)
    repo_tag = ctx.attr.repo_tag or "%s:latest" % ctx.label.name

    # The venv and app layers run on the image's own interpreter, so every .pyc matches it.
    sourceless = ctx.attr.pyc == "sourceless"
    per_package = ctx.attr.venv_layers == "packages"
    venv_tar = ctx.actions.declare_file(ctx.label.name + (".venv_sources.tar" if sourceless and not per_package else ".venv.tar"))
    venv_args = ctx.actions.args()
    venv_args.add("--venv", opt + "/venv")
    venv_args.add("--python", opt + "/python/bin/python3")
    venv_args.add("--mtime", mtime)
    venv_args.add("--optimize", str(optimize))
    venv_args.add("--output", venv_tar)
    if per_package:
        # The venv's own files only (pyvenv.cfg, the interpreter links); each package is a layer
        # of its own, made once per wheel_library by venv_layers_aspect.
        venv_args.add("--part", "own")
    else:
        venv_args.add_all(info.wheels, before_each = "--wheel", expand_directories = False)
    run_py_tool(
        ctx,
        ctx.attr._make_venv,
        py,
        arguments = [venv_args],
        inputs = [] if per_package else info.wheels,
        outputs = [venv_tar],
        mnemonic = "ImageVenv",
        # Sandboxed, unlike the other image actions: it unpacks what third parties wrote. It runs
        # only when a wheel changes, so the seconds the sandbox costs never fall on an app edit.
        progress_message = "Installing the wheels of %s into %s/venv" % (ctx.label, opt),
    )
    package_layers = []
    if per_package:
        package_layers = venv_layer_plan(
            ctx,
            py,
            ctx.attr.binary[VenvLayersInfo].packages.to_list(),
            ctx.attr.max_layers,
            ctx.attr.private_venv_mode,
            uses = ctx.attr.base[FleetPlanInfo].uses if FleetPlanInfo in ctx.attr.base else None,
        )

    app_tar = ctx.actions.declare_file(ctx.label.name + ".app.tar")
    app_args = ctx.actions.args()
    app_args.add("--app", opt + "/app")
    app_args.add("--mtime", mtime)
    app_args.add("--optimize", str(optimize))
    app_args.add("--output", app_tar)
    app_args.add_all(info.sources, map_each = source_arg, format_each = "--source=%s")
    run_py_tool(
        ctx,
        ctx.attr._make_app,
        py,
        arguments = [app_args],
        inputs = info.sources,
        outputs = [app_tar],
        mnemonic = "ImageApp",
        execution_requirements = FAST,
        progress_message = "Laying out the application of %s in %s/app" % (ctx.label, opt),
    )

    # What the app cannot use stays out: the .pyc of the levels it does not run at (or the
    # sources, with sourceless), and the base's libraries that nothing in the image links to.
    # The app layer's own ELF files, if any, are not looked at: an app change must not redo this.
    python_tar = py.runtime_tar
    if ctx.attr.pyc != "all" or ctx.attr.trim_python:
        level = None if ctx.attr.pyc == "all" else optimize
        python_tar = slim_pyc(ctx, py.runtime_tar, "python", level, sourceless, trim_stdlib = ctx.attr.trim_python)
    if sourceless and not per_package:
        venv_tar = slim_pyc(ctx, venv_tar, "venv", optimize, True)
    venv_tars = [venv_tar] + [layer.tar for layer in package_layers]
    base_tar, base_removed = ctx.file.base, []
    fleet_removed = ctx.attr.base[DebianRootfsInfo].removed if DebianRootfsInfo in ctx.attr.base else None
    if fleet_removed:
        # A fleet_base, trimmed for every image of the fleet: not trimmed again.
        base_removed = [fleet_removed]
    elif ctx.attr.trim_base:
        base_tar, removed = slim_base(ctx, [python_tar] + venv_tars, platform)
        base_removed = [removed]

    # base < python < venv < (one layer per package or group) < app.
    own = zip(IMAGE_LAYER_NAMES, [base_tar, python_tar, venv_tar, app_tar])
    layers = own[:3] + [(layer.name, layer.tar) for layer in package_layers] + own[3:]
    made = {layer.name: layer.blob for layer in package_layers}
    gzs = [made[name] if name in made else layer_gzip(ctx, tar, name) for name, tar in layers]

    # Found at build time, not when the container starts: a library the interpreter or a wheel
    # needs that the base does not have.
    libcheck = ctx.actions.declare_file(ctx.label.name + ".libcheck")
    run_py_tool(
        ctx,
        ctx.attr._check_libs,
        tool_python(ctx),
        arguments = [
            "--stamp",
            libcheck.path,
            "--multiarch",
            platform.multiarch,
            "--base",
            base_tar.path,
            "--base-label",
            str(ctx.attr.base.label),
            python_tar.path,
        ] + [t.path for t in venv_tars],
        inputs = [base_tar, python_tar] + venv_tars,
        outputs = [libcheck],
        mnemonic = "ImageLibCheck",
        execution_requirements = FAST,
        progress_message = "Checking that %s has every library %s needs" % (ctx.attr.base.label, ctx.label),
    )

    module = main.short_path[:-len(".py")].replace("/", ".")
    env = {
        "PATH": "%s/venv/bin:/usr/local/bin:/usr/bin:/bin" % opt,
        "PYTHONPATH": opt + "/app",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "LANG": "C.UTF-8",
        "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
    }
    env.update(ctx.attr.env)
    config = {
        "User": user,
        "Env": ["%s=%s" % (k, v) for k, v in sorted(env.items())],
        "Entrypoint": [opt + "/venv/bin/python3"] + _OPTIMIZE_FLAGS[optimize] + ["-m", module],
        "WorkingDir": ctx.attr.workdir or (opt + "/app"),
        "Labels": dict(ctx.attr.labels),
    }
    if ctx.attr.cmd:
        config["Cmd"] = ctx.attr.cmd
    if ctx.attr.ports:
        config["ExposedPorts"] = {(p if "/" in p else p + "/tcp"): {} for p in ctx.attr.ports}
    spec = ctx.actions.declare_file(ctx.label.name + ".spec.json")
    ctx.actions.write(spec, json.encode({
        "config": config,
        "annotations": dict(ctx.attr.annotations),
        "layer_names": [name for name, _ in layers],
        "os": platform.os,
        "architecture": platform.architecture,
    }))

    stamp_inputs = []
    if ctx.attr.stamp == 1 or (ctx.attr.stamp == -1 and ctx.attr.private_stamp_detect):
        stamp_inputs = [ctx.info_file, ctx.version_file]

    layout = ctx.actions.declare_directory(ctx.label.name)
    archive = ctx.actions.declare_file(ctx.label.name + ".tar")
    digest = ctx.actions.declare_file(ctx.label.name + ".digest")
    args = ctx.actions.args()
    args.add("image")
    args.add("--config-json", spec)
    args.add("--layout", layout.path)
    args.add("--archive", archive)
    args.add("--digest", digest)
    args.add("--repo-tag", repo_tag)
    args.add("--ref-name", oci_ref_name(repo_tag))
    for (name, tar), gz in zip(layers, gzs):
        args.add("--layer", "%s=%s" % (tar.path, gz.path))
    args.add_all(stamp_inputs, before_each = "--stamp-file")
    run_py_tool(
        ctx,
        ctx.attr._image_tool,
        tool_python(ctx),
        arguments = [args],
        inputs = [spec, libcheck] + [t for _, t in layers] + gzs + stamp_inputs,
        outputs = [layout, archive, digest],
        mnemonic = "ImageAssemble",
        execution_requirements = FAST,
        progress_message = "Assembling the OCI image %s" % ctx.label,
    )

    # The manifest and digest again, as the only outputs of an action of their own: a lazy push
    # reads these two files, and Bazel 4 downloads every output of an action one of whose outputs
    # a `bazel run` needs (the layout and archive, if these came from ImageAssemble).
    manifest = ctx.actions.declare_file(ctx.label.name + ".push_ref/manifest.json")
    push_digest = ctx.actions.declare_file(ctx.label.name + ".push_ref/digest")
    run_py_tool(
        ctx,
        ctx.attr._image_tool,
        tool_python(ctx),
        arguments = ["push-ref", layout.path, manifest.path, push_digest.path],
        inputs = [layout],
        outputs = [manifest, push_digest],
        mnemonic = "ImagePushRef",
        execution_requirements = FAST,
        progress_message = "Copying the manifest of %s for a lazy push" % ctx.label,
    )
    sbom, provenance, attached = image_sbom(
        ctx,
        py,
        info,
        repo_tag,
        layout,
        digest,
        base_tar,
        base_removed[0] if base_removed else None,
        venv_tars,
        app_tar,
    )

    # The size report: each layer's sizes and largest paths, as text and as an HTML chart.
    sizes = [ctx.actions.declare_file(ctx.label.name + ".sizes." + ext) for ext in ("txt", "html")]
    sizes_args = ctx.actions.args()
    sizes_args.add("--title", "%s (%s)" % (label_text(ctx.label), repo_tag))
    for (name, tar), gz in zip(layers, gzs):
        sizes_args.add("--layer", "%s=%s=%s" % (name, tar.path, gz.path))
    sizes_args.add("--text", sizes[0])
    sizes_args.add("--html", sizes[1])
    run_py_tool(
        ctx,
        ctx.attr._sizes_tool,
        tool_python(ctx),
        arguments = [sizes_args],
        inputs = [t for _, t in layers] + gzs,
        outputs = sizes,
        mnemonic = "ImageSizes",
        execution_requirements = FAST,
        progress_message = "Reporting the layer sizes of %s" % ctx.label,
    )
    return [
        DefaultInfo(files = depset([layout]), runfiles = ctx.runfiles(files = [layout, archive, digest])),
        ImageInfo(
            layout = layout,
            archive = archive,
            digest = digest,
            manifest = struct(manifest = manifest, digest = push_digest),
            repo_tag = repo_tag,
            layers = [struct(name = name, tar = tar, blob = gz) for (name, tar), gz in zip(layers, gzs)],
            sbom = sbom,
            provenance = provenance,
            attachments = attached,
            sizes = sizes + base_removed,
        ),
        # The same files for `bazel build --output_groups=...` and the NAME.<group> filegroups.
        OutputGroupInfo(
            archive = depset([archive]),
            digest = depset([digest]),
            layers = depset([t for _, t in layers]),
            sbom = depset([sbom]),
            provenance = depset([provenance]),
            attachments = depset([attached]),
            sizes = depset(sizes + base_removed),
        ),
    ]

_py_image = rule(
    implementation = _py_image_impl,
    attrs = {
        "binary": attr.label(mandatory = True, aspects = [binary_deps_aspect, venv_layers_aspect]),
        "main": attr.label(mandatory = True, allow_single_file = [".py"]),
        "base": attr.label(mandatory = True, allow_single_file = [".tar"]),
        "python": attr.label(providers = [CPythonInfo]),
        "org": attr.string(default = "pyimage"),
        "user": attr.string(default = "65532:65532"),
        "env": attr.string_dict(),
        "workdir": attr.string(),
        "cmd": attr.string_list(),
        "ports": attr.string_list(),
        "labels": attr.string_dict(),
        "annotations": attr.string_dict(),
        "repo_tag": attr.string(),
        "stamp": attr.int(default = -1, values = [-1, 0, 1]),
        "private_stamp_detect": attr.bool(default = False),
        "_make_venv": attr.label(default = "//rules/private/tools:make_venv", cfg = TOOL_CFG),
        "_make_app": attr.label(default = "//rules/private/tools:make_app", cfg = TOOL_CFG),
        "_image_tool": attr.label(default = "//rules/private/tools:make_image", cfg = TOOL_CFG),
        "_check_libs": attr.label(default = "//rules/private/tools:check_libs", cfg = TOOL_CFG),
        "_sbom_tool": attr.label(default = "//rules/private/tools:make_sbom", cfg = TOOL_CFG),
        # What the provenance names with a digest: the rules' sources, the lock of their own
        # Python tools and the CPython version table.
        "_rules_srcs": attr.label(default = "//rules:srcs"),
        "_tools_lock": attr.label(default = "//third_party/python:tools.lock.txt", allow_single_file = True),
        "_version_table": attr.label(default = "//toolchains:versions.bzl", allow_single_file = True),
        "_sizes_tool": attr.label(default = "//rules/private/tools:layer_sizes", cfg = TOOL_CFG),
        "_slim_tool": attr.label(default = "//rules/private/tools:slim_layer", cfg = TOOL_CFG),
        "optimize": attr.int(default = 0, values = [0, 1, 2]),
        "pyc": attr.string(default = "one", values = ["one", "all", "sourceless"]),
        "trim_base": attr.bool(default = True),
        "trim_python": attr.bool(default = True),
        "base_keep": attr.string_list(),
        "venv_layers": attr.string(default = "packages", values = ["packages", "single"]),
        "max_layers": attr.int(default = 64),
        # Set by the macro from optimize, pyc and venv_layers: venv_layers_aspect's parameter.
        "private_venv_mode": attr.string(values = VENV_MODES),
    },
    **USES_TOOLCHAIN
)

def py_image(
        name,
        binary,
        main,
        base = Label("//third_party/debian:runtime_rootfs"),
        python = None,
        org = "pyimage",
        user = "65532:65532",
        env = {},
        workdir = "",
        cmd = [],
        ports = [],
        labels = {},
        annotations = {},
        repo_tag = "",
        stamp = -1,
        optimize = 0,
        pyc = "one",
        trim_base = True,
        base_keep = [],
        trim_python = True,
        venv_layers = "packages",
        max_layers = 64,
        **kwargs):
    """An OCI image of a py_binary: base OS < interpreter < venv < one layer per package < app.

    ```starlark
    load("@rules_pyimage//rules:defs.bzl", "py_image")

    py_image(name = "image", binary = ":app", main = "main.py")
    ```

    `bazel build :image` gives the OCI layout directory `image/`; `:image.tar` the docker-archive
    (`podman load -i`); `:image.digest` (output group `digest`) the manifest digest;
    `:image.layers` the layers' uncompressed tars;
    `:image.sbom` its SBOM (`image.spdx.json`, SPDX 2.3: every Debian package, the interpreter and
    its source, every wheel and the sdist of each wheel built here, the app) and
    `:image.provenance` an in-toto statement with a SLSA provenance v1 predicate
    (`image.provenance.json`: the digest as subject, every input with its sha256); both are
    reproducible and are built only when asked for. `:image.sizes` is a size report
    (`image.sizes.txt` and `image.sizes.html`, a chart that needs no network): each layer's
    uncompressed and compressed size, its file count, largest directories and largest files. `bazel run :image.load` loads it
    into podman or docker (arguments before `load`, such as `--root DIR`, go to that tool; a
    first argument `docker` or `podman` picks it);
    `bazel run :image.push -- --repository HOST/NAME:TAG` pushes it with skopeo, checks that the
    registry holds the same digest, and attaches the SBOM and provenance (OCI 1.1 artifacts with
    the image as `subject`, tagged `sha256-<hex>.sbom` and `.provenance`; `--no-attachments`
    leaves them out); `--sign-by FINGERPRINT` or `--sign-by-sigstore-private-key KEY` sign it,
    `--registries.d DIR` says where signatures are stored; `--attest-key KEY` has cosign sign the
    provenance as a DSSE attestation (`cosign verify-attestation --type slsaprovenance1` checks
    it; `--cosign-arg ARG` passes cosign more). `bazel run :image.verify` rebuilds the image in a scratch
    output base, with no cache, and fails unless the digest is the same (bazel flags for that
    build go after `--`; `--keep` first keeps the scratch build to look at).

    Args:
      name: the image: `NAME` (the OCI layout), `NAME.tar`, `NAME.load`, `NAME.push`,
        `NAME.verify`, and the output groups and targets described above.
      binary: the py_binary; its first-party sources go to /opt/<org>/app, its locked wheels into
        the venv at /opt/<org>/venv.
      main: the binary's main file; the entrypoint runs it as a module on the venv's python.
      base: the base layer tar (a `debian_rootfs`); the default is rules_pyimage's own runtime
        base, `@rules_pyimage//third_party/debian:runtime_rootfs`, which needs no declaration.
      python: the interpreter (`@<toolchains>//:python3.11`, where `<toolchains>` is the name given
        to `pyimage_register_toolchains` or the module extension's `toolchains` tag); the default
        is the registered rules_pyimage toolchain's default version. Its minor version must be
        the one the binary's wheels were fetched for.
      org: everything goes under /opt/<org>; must match the toolchain's prefix.
      user: who the container runs as: uid, uid:gid, name or name:group; root in any spelling
        (`0`, `00:00`, `root`, group 0) is refused.
      env: extra environment variables (over PATH, PYTHONPATH, LANG, SSL_CERT_FILE, ...).
      workdir: the working directory (default /opt/<org>/app).
      cmd: arguments given to the entrypoint.
      ports: exposed ports ("8080" or "8080/tcp").
      labels: config labels.
      annotations: manifest annotations.
      repo_tag: the name:tag in the docker-archive and for `load` (default NAME:latest);
        letters, digits and `. _ - / : @` only.
      stamp: 1 stamps the image with the VCS revision and build time (labels
        org.opencontainers.image.revision and .created, and the config's `created`), 0 never,
        -1 (default) only when Bazel runs with `--stamp` (see `--config=release` in .bazelrc).
        Unstamped, the image is reproducible.
      optimize: the optimisation level the entrypoint runs at: 0 (default), 1 (`python -O`:
        asserts and `__debug__` blocks are skipped) or 2 (`-OO`: docstrings dropped as well). The
        .pyc files of the image are compiled at this level. Set it here, not as PYTHONOPTIMIZE in
        env (that fails, naming this attribute).
      pyc: which byte code the image holds. "one" (default): one .pyc per module, at `optimize`;
        CPython's install compiles each stdlib module at all three levels, and the interpreter
        only reads one. "all": the stdlib keeps all three (sizes in docs/image.md), for a container in
        which something runs `python -O` by hand. "sourceless": the .pyc takes the place of the
        .py in the interpreter and venv layers (the app keeps its sources); imports work the
        same, but a traceback through the stdlib or a wheel shows file and line number without
        the line's text, and `inspect.getsource` fails there.
      trim_base: leave out of the base layer the shared libraries that no ELF file of the
        interpreter, the venv or the base itself needs (by DT_NEEDED, transitively), the plugins
        of packages whose libraries all went (a shared object below a library directory, such
        as `krb5/plugins/preauth/spake.so`: its package's library loads it with dlopen), glibc's
        gconv modules (only iconv loads them) and the tz database's leap-second variants
        (`usr/share/zoneinfo/right`, read only for `TZ=right/...`). The dynamic loader, libc,
        libgcc_s and NSS modules always stay. A Debian package whose libraries all go is left
        out whole (its other files, dpkg status and md5sums), so that neither the SBOM nor a
        scanner lists it. The list of what was left out is `NAME.base_removed.txt` (in
        `:NAME.sizes`). False keeps the base as it is.
      base_keep: paths or globs in the base to keep although nothing links to them (and what they
        link to), for code that loads them with dlopen: `["usr/lib/x86_64-linux-gnu/gconv/*"]`
        for an app that calls iconv, `["usr/lib/x86_64-linux-gnu/libstdc++.so.6*"]` for one that
        loads a C++ library through ctypes, `["usr/share/zoneinfo/right*"]` for the
        leap-second time zones.
      trim_python: leave out of the interpreter layer what a program never reads from the
        standard library: `pydoc_data` (the texts of `help("topic")` and `help("keywords")`;
        `help(object)` needs none of it, and pydoc says so when they are missing) and
        `_pydecimal` (decimal's pure-Python fallback, imported only without the `_decimal`
        extension, so it stays where that is missing). About 470 KiB compressed in the example
        image; False keeps them.
      venv_layers: how the venv's packages are laid out. "packages" (default): each installed
        distribution is a layer of its own (`venv-<name>`), made once per `wheel_library` for
        every image that has it, whose bytes depend only on the wheel, the interpreter's version,
        /opt/<org> and the .pyc mode: images that share a package share its layer digest, so a
        registry stores it once and a lock bump re-pushes only the packages that moved. The
        `venv` layer then holds only the venv's own files (pyvenv.cfg, the interpreter's links).
        "single": every wheel in the one `venv` layer, as before (fewer layers; any package
        change re-makes all of it).
      max_layers: the image's layer budget (default 64; at most 125, overlay's limit). The base,
        python, venv and app layers count; when the packages do not fit in the rest, they are
        put in groups (`venv-group-<first package>`) by a hash of their name, so that a change
        to one package re-makes one group and a package added or removed moves at most one
        other. On a `fleet_base`, the packages most of the fleet's binaries share keep their
        own layers (the same blob in every image) and only the least used are grouped, into a
        quarter of the package slots.
      **kwargs: common attributes (tags, visibility).
    """
    _py_image(
        name = name,
        binary = binary,
        main = main,
        base = base,
        python = python,
        org = org,
        user = user,
        env = env,
        workdir = workdir,
        cmd = cmd,
        ports = ports,
        labels = labels,
        annotations = annotations,
        repo_tag = repo_tag,
        stamp = stamp,
        optimize = optimize,
        pyc = pyc,
        trim_base = trim_base,
        base_keep = base_keep,
        trim_python = trim_python,
        venv_layers = venv_layers,
        max_layers = max_layers,
        private_venv_mode = venv_mode(optimize, pyc) if venv_layers == "packages" else "",
        private_stamp_detect = select({
            str(Label("//rules/private:stamp_detect")): True,
            "//conditions:default": False,
        }),
        **kwargs
    )
    native.filegroup(name = name + ".tar", srcs = [name], output_group = "archive", **kwargs)
    native.filegroup(name = name + ".sbom", srcs = [name], output_group = "sbom", **kwargs)
    native.filegroup(name = name + ".provenance", srcs = [name], output_group = "provenance", **kwargs)
    native.filegroup(name = name + ".sizes", srcs = [name], output_group = "sizes", **kwargs)
    native.filegroup(name = name + ".digest", srcs = [name], output_group = "digest", **kwargs)
    native.filegroup(name = name + ".layers", srcs = [name], output_group = "layers", **kwargs)
    tag = repo_tag or "%s:latest" % name
    image_runner(name = name + ".load", image = name, mode = "load", repo_tag = tag, **kwargs)
    image_runner(name = name + ".push", image = name, mode = "push", repo_tag = tag, **kwargs)
    image_runner(name = name + ".verify", image = name, mode = "verify", repo_tag = tag, **kwargs)
