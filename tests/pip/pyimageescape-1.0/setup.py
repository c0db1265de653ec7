"""A test sdist whose build hook tries to get a file of the build host copied out of the builder.

A hostile sdist's build code runs as root inside the hermetic builder, where no host file is
visible. Next to the wheel in the builder's results directory (/pyimage-out) it plants a link to
/etc/shadow: a host path it cannot read, but which a copy-out that followed links would read on
the host and put into the wheel's output and from there into the caches. rules_pyimage must
refuse the result, naming the link (tests/e2e/bad_input_test.sh builds
//tests/pip:pyimageescape_wheel and expects that). Replacing the results directory itself, and
the other tricks, are tried by tests/builder/builder_test.py.
"""

import os

from setuptools import setup

OUT = "/pyimage-out"

if os.path.isdir(OUT) and not os.path.lexists(os.path.join(OUT, "stolen.whl")):
    os.symlink("/etc/shadow", os.path.join(OUT, "stolen.whl"))

setup(name="pyimageescape", version="1.0", packages=["pyimageescape"])
