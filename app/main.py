"""The example application. Until the image rule lands it runs as a py_binary on the toolchain."""

import platform
import ssl
import sqlite3
import sys


def main():
    print("Hello from rules_pyimage on CPython %s (compiled from source)" % platform.python_version())
    print("interpreter:", sys.executable)
    print("openssl:", ssl.OPENSSL_VERSION, "| sqlite:", sqlite3.sqlite_version)


if __name__ == "__main__":
    main()
