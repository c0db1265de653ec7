"""The example application: one third-party package of each kind, on the from-source interpreter."""

import importlib.metadata
import importlib.util
import platform
import sqlite3
import ssl
import sys

import attr  # pure Python
import markupsafe  # C extension, built here from its sdist and repaired with auditwheel
import yaml  # C extension (LibYAML bindings), from a manylinux wheel


@attr.s(frozen=True)
class Greeting:
    name = attr.ib()


def main():
    greeting = Greeting(name="rules_pyimage")
    print("Hello from %s on CPython %s (compiled from source)" % (greeting.name, platform.python_version()))
    print("interpreter:", sys.executable)
    print("openssl:", ssl.OPENSSL_VERSION, "| sqlite:", sqlite3.sqlite_version)
    print("attrs %s | markupsafe %s speedups=%s | pyyaml %s libyaml=%s" % (
        importlib.metadata.version("attrs"),
        importlib.metadata.version("markupsafe"),
        importlib.util.find_spec("markupsafe._speedups") is not None,
        importlib.metadata.version("pyyaml"),
        yaml.__with_libyaml__,
    ))
    print(markupsafe.escape("<b>%s</b>" % yaml.safe_load("a: [1, 2]")))


if __name__ == "__main__":
    main()
