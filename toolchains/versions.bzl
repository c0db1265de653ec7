"""The CPython releases rules_pyimage knows how to build.

One line per release, newest first: python.org's URL, the sha256 of that file, the path of
Debian's byte-identical copy in its source pool (`debian_orig`) and what vouched for the hash.
Bazel fetches the URL and refuses a file with another hash; on hosts without python.org,
`tools/mirror_cpython.py` seeds Bazel's repository cache with Debian's copy, checked against the
same hash.

Lines are written by `bazel run //toolchains:versions.update [-- 3.14 | 3.14.7]`, never by hand:
it takes each hash from text a Debian signature covers (the signed Sources index, or the
upload's .dsc signed by its uploader, checked against debian-keyring) and writes it only when
the tarball this machine's mirror serves has that hash. `bazel test //toolchains:versions_test`
checks the committed lines the same way. Which of them are built is `python_versions`' choice
(WORKSPACE, MODULE.bazel); pre-releases (3.15.0rc1) are previews, never a default.
"""

# buildifier: disable=line-length
CPYTHON_VERSIONS = {
    "3.15.0rc1": {"url": "https://www.python.org/ftp/python/3.15.0/Python-3.15.0rc1.tar.xz", "sha256": "f84dad680ab2147417d2739355c2678f0f9acffe4ae8ef77895de1454b384b07", "debian_orig": "pool/main/p/python3.15/python3.15_3.15.0~rc1.orig.tar.xz", "confirmed": "sha256 from python3.15_3.15.0~rc1-1.dsc, signed by Stefano Rivera (debian-keyring_2025.07.26_all.deb); the mirror's python3.15_3.15.0~rc1.orig.tar.xz matched, 2026-12-05"},
    "3.14.7": {"url": "https://www.python.org/ftp/python/3.14.7/Python-3.14.7.tar.xz", "sha256": "3b48dac8fb59f62eaa67ac83c1eb12bda1b7a08406dd286e252c11a66be27f81", "debian_orig": "pool/main/p/python3.14/python3.14_3.14.7.orig.tar.xz", "confirmed": "sha256 from python3.14_3.14.7-1.dsc, signed by Matthias Klose (debian-keyring_2025.07.26_all.deb); the mirror's python3.14_3.14.7.orig.tar.xz matched, 2026-12-05"},
    "3.13.15": {"url": "https://www.python.org/ftp/python/3.13.15/Python-3.13.15.tar.xz", "sha256": "1e66a7945a48390ee4c2a4268a0e4185884059a13c4aab6d148aa208deea4a76", "debian_orig": "pool/main/p/python3.13/python3.13_3.13.15.orig.tar.xz", "confirmed": "python.org sha256, equal to Debian's python3.13_3.13.15.orig.tar.xz, checked 2026-11-28"},
    "3.13.5": {"url": "https://www.python.org/ftp/python/3.13.5/Python-3.13.5.tar.xz", "sha256": "93e583f243454e6e9e4588ca2c2662206ad961659863277afcdb96801647d640", "debian_orig": "pool/main/p/python3.13/python3.13_3.13.5.orig.tar.xz", "confirmed": "python.org sha256, equal to Debian's python3.13_3.13.5.orig.tar.xz, checked 2026-11-28"},
    "3.11.2": {"url": "https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tgz", "sha256": "2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849", "debian_orig": "pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz", "confirmed": "python.org sha256, equal to Debian's python3.11_3.11.2.orig.tar.gz, checked 2026-11-28"},
}

# The version `py_binary`, `py_test` and the rules' own tools run on unless
# `--@pyimage_python//:python_version` (the flag of the repository pyimage_register_toolchains
# generates; another name there, another label here) says otherwise.
DEFAULT_PYTHON_VERSION = "3.14.7"
