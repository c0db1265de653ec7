"""The per-version images' app: the interpreter's version, and markupsafe's speedups (built from
the sdist for this interpreter) and PyYAML's LibYAML bindings (a manylinux wheel) in use."""

import platform

import attr
import markupsafe
import yaml
from markupsafe import _speedups

print("CPython %s: markupsafe speedups %s, libyaml %s, attrs %s, %s" % (
    platform.python_version(),
    _speedups.__file__.rsplit("/", 1)[-1],
    yaml.__with_libyaml__,
    attr.__version__ if hasattr(attr, "__version__") else "ok",
    markupsafe.escape("<ok>"),
))
