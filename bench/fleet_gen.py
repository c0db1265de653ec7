"""Writes bench/fleet.sh's fixture: a monorepo of 30 services on one wheel lock, two CPython lines.

    python3 bench/fleet_gen.py DIR
    python3 bench/fleet_gen.py --bump     (prints "PACKAGE FROM TO": what the bench bumps)

DIR becomes a Bazel package (DIR/BUILD.bazel, DIR/requirements.in, DIR/app_NN/main.py) of a
checkout of rules_pyimage, and DIR/WORKSPACE.fragment the two `pyimage_pip_packages` it needs.
Apps 00-19 run on the default 3.13 toolchain, 20-29 on 3.11 (a team's upgrade path). Which app
uses which package is fixed (no randomness between runs): pyyaml, the package the bench bumps,
is used by every even app (half the fleet); numpy by every third; pydantic by half; requests by
the other half; and two to five of the small pure ones each, chosen by the app's number.
Each app has one py_image per layer mode (`img_NN` per package, `single_NN` one venv layer)
and the two fleets `fleet` and `fleet_single`; `own_NN`, for three of them, is the image on a
base trimmed for that app alone.
"""

import os
import sys

APPS = 30
# The top-level requirements, pinned so that runs compare. pyyaml is bumped by bench/fleet.sh
# (BUMP_FROM -> BUMP_TO); numpy 2.4 is the newest line with wheels for both 3.11 and 3.13.
BUMP = "pyyaml"
BUMP_FROM = "6.0.3"
BUMP_TO = "6.0.4"
PINS = {
    "numpy": "2.4.6",
    "pydantic": "2.14.4",
    "pyyaml": BUMP_FROM,
    "requests": "2.34.2",
    "httpx": "0.28.1",
    "click": "8.5.1",
    "jinja2": "3.1.6",
    "attrs": "26.1.0",
    "orjson": "3.13.0",
    "msgpack": "1.2.4",
    "structlog": "26.1.0",
    "tenacity": "9.2.1",
    "tabulate": "0.10.0",
    "python-dateutil": "4.0.0",
    "rich": "15.0.0",
    "wrapt": "2.5.2",
    "packaging": "26.3",
}
SMALL = ["httpx", "click", "jinja2", "attrs", "orjson", "msgpack", "structlog", "tenacity", "tabulate", "python-dateutil", "rich", "wrapt", "packaging"]
# The services whose own trimmed base bench/fleet.sh compares with the fleet's (all on 3.13):
# pure packages and pyyaml; pydantic-core and msgpack; numpy.
OWN_BASE = [4, 1, 0]
# The module each package is imported as.
MODULE = {"pyyaml": "yaml", "python-dateutil": "dateutil"}


def repo_name(package):
    return package.lower().replace("-", "_").replace(".", "_")


def packages_of(i):
    """The fixed set of top-level packages of app i."""
    chosen = []
    if i % 2 == 0:
        chosen.append(BUMP)
    if i % 3 == 0:
        chosen.append("numpy")
    chosen.append("pydantic" if i % 4 in (1, 2) else "requests")
    count = 2 + i % 4
    start = (i * 5) % len(SMALL)
    chosen += [SMALL[(start + k) % len(SMALL)] for k in range(count)]
    return sorted(set(chosen))


def main(out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "requirements.in"), "w") as f:
        f.write("# bench/fleet.sh's fleet: every top-level requirement of its 30 apps.\n")
        for name in sorted(PINS):
            f.write("%s==%s\n" % (name, PINS[name]))
    open(os.path.join(out, "requirements.lock.txt"), "w").close()
    with open(os.path.join(out, "WORKSPACE.fragment"), "w") as f:
        for repo, version in (("fleet313", "3.13"), ("fleet311", "3.11")):
            f.write(
                '\npyimage_pip_packages(\n    name = "%s",\n    lock = "//%s:requirements.lock.txt",\n    python_version = "%s",\n)\n'
                % (repo, os.path.basename(out), version)
            )
    build = [
        'load("//rules:defs.bzl", "fleet_base", "py_image", "py_image_fleet", "wheel_lock")',
        "",
        'package(default_visibility = ["//visibility:public"])',
        "",
        'wheel_lock(name = "requirements", lock = "requirements.lock.txt", requirements = "requirements.in")',
        "",
    ]
    lines = {"313": [], "311": []}
    for i in range(APPS):
        app = "app_%02d" % i
        line = "313" if i < 20 else "311"
        lines[line].append(i)
        os.makedirs(os.path.join(out, app), exist_ok=True)
        packages = packages_of(i)
        with open(os.path.join(out, app, "main.py"), "w") as f:
            f.write('"""Service %s of bench/fleet.sh\'s fleet."""\n\n' % app)
            for p in packages:
                f.write("import %s\n" % MODULE.get(p, p))
            f.write('\nprint("%s", %s)\n' % (app, ", ".join(MODULE.get(p, p) + ".__name__" for p in packages)))
        deps = "".join('        "@fleet%s//%s",\n' % (line, repo_name(p)) for p in packages)
        build.append('py_binary(\n    name = "%s",\n    srcs = ["%s/main.py"],\n    main = "%s/main.py",\n    deps = [\n%s    ],\n)\n' % (app, app, app, deps))
        python = '\n    python = "@pyimage_python//:python3.11",' if line == "311" else ""
        for mode, prefix in (("packages", "img"), ("single", "single")):
            build.append(
                'py_image(\n    name = "%s_%02d",\n    base = ":base_%s",\n    binary = ":%s",\n    main = "%s/main.py",%s\n    repo_tag = "fleet/%s:latest",\n    venv_layers = "%s",\n)\n'
                % (prefix, i, line, app, app, python, app, mode)
            )
    # What sharing the fleet's base costs: three services, each on a base trimmed for itself.
    for i in OWN_BASE:
        build.append('py_image(\n    name = "own_%02d",\n    binary = ":app_%02d",\n    main = "app_%02d/main.py",\n    repo_tag = "own/app_%02d:latest",\n)\n'
                     % (i, i, i, i))
    for line, apps in sorted(lines.items()):
        python = '\n    python = "@pyimage_python//:python3.11",' if line == "311" else ""
        binaries = "".join('        ":app_%02d",\n' % i for i in apps)
        build.append('fleet_base(\n    name = "base_%s",\n    binaries = [\n%s    ],%s\n)\n' % (line, binaries, python))
    for name, prefix in (("fleet", "img"), ("fleet_single", "single")):
        images = "".join('        ":%s_%02d",\n' % (prefix, i) for i in range(APPS))
        build.append('py_image_fleet(\n    name = "%s",\n    images = [\n%s    ],\n)\n' % (name, images))
    with open(os.path.join(out, "BUILD.bazel"), "w") as f:
        f.write("\n".join(build))


if __name__ == "__main__":
    if sys.argv[1:] == ["--bump"]:
        print("%s %s %s" % (BUMP, BUMP_FROM, BUMP_TO))
    elif len(sys.argv) == 2:
        main(sys.argv[1])
    else:
        sys.exit("usage: fleet_gen.py DIR | fleet_gen.py --bump")
