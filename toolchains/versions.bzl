"""The CPython versions rules_pyimage knows how to build.

One line per release: the python.org URL, the sha256 that python.org publishes for it, and where
that hash was confirmed. The URL and hash are what Bazel fetches and checks; a file with another
hash is refused. On hosts without python.org, `tools/mirror_cpython.py` seeds Bazel's repository
cache with the identical tarball from a mirror (Debian's source pool carries some of them byte for
byte, at the path given as `debian_orig`).

Adding a version is one line here. The first entry of each minor version is that minor's default.
"""

# buildifier: disable=line-length
CPYTHON_VERSIONS = {
    "3.13.15": {"url": "https://www.python.org/ftp/python/3.13.15/Python-3.13.15.tar.xz", "sha256": "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76", "debian_orig": "pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz", "confirmed": "python.org sha256, equal to Debian's python3.13_3.13.15.orig.tar.xz, checked 2026-11-28"},
    "3.13.5": {"url": "https://www.python.org/ftp/python/3.13.5/Python-3.13.5.tar.xz", "sha256": "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640", "debian_orig": "pool/main/p/python3.13/python3.13_3.13.5.orig.tar.xz", "confirmed": "python.org sha256, equal to Debian's python3.13_3.13.5.orig.tar.xz, checked 2026-11-28"},
    "3.11.2": {"url": "https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tgz", "sha256": "2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849", "debian_orig": "pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz", "confirmed": "python.org sha256, equal to Debian's python3.11_3.11.2.orig.tar.gz, checked 2026-11-28"},
}

# The version `py_binary`, `py_test` and the rules' own tools run on unless
# `--@pyimage_python//:python_version` (the flag of the repository pyimage_register_toolchains
# generates; another name there, another label here) says otherwise.
DEFAULT_PYTHON_VERSION = "3.13.15"
