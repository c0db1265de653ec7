"""A test sdist whose build hook has side effects, as a hostile sdist's would.

Whatever runs this file (pip reading the sdist's metadata, or the build itself) appends to a
marker file, /tmp/pyimage-hook-marker unless PYIMAGE_HOOK_MARKER names another, and records in
the package it builds where it ran. rules_pyimage runs it only in the sandboxed build action:
fetching never runs it (rules/private/tools/fetch_wheels_test.py, tests/e2e/bad_input_test.sh),
and what it writes to /tmp stays in the builder's private /tmp (tests/pip/sdist_hook_test.py).
"""

import json
import os
import socket

from setuptools import setup

MARKER = os.environ.get("PYIMAGE_HOOK_MARKER", "/tmp/pyimage-hook-marker")

with open(MARKER, "a") as f:
    f.write("the build hook of pyimagehook 1.0 ran here\n")

WHERE = {
    "hostname": socket.gethostname(),
    "interfaces": sorted(name for _, name in socket.if_nameindex()),
    "environment": sorted(os.environ),
    "marker": MARKER,
    "marker_written": os.path.exists(MARKER),
}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pyimagehook", "where.json"), "w") as f:
    json.dump(WHERE, f, indent=1, sort_keys=True)

setup(
    name="pyimagehook",
    version="1.0",
    packages=["pyimagehook"],
    package_data={"pyimagehook": ["where.json"]},
)
