"""Run by an interpreter under test: exercises every stdlib module that needs a system library.

Prints one line per module and exits non-zero naming those that failed. It does real work with
each one (compress and decompress, open a database, load a library), not just the import.
"""

import sys
import tempfile
import os


def check_ssl():
    import ssl
    ctx = ssl.create_default_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    return ssl.OPENSSL_VERSION


def check_hashlib():
    import _hashlib  # noqa: F401  the OpenSSL backend, not the builtin fallbacks
    import hashlib
    assert hashlib.sha256(b"abc").hexdigest().startswith("ba7816bf")
    return "openssl sha3_256 %s" % hashlib.new("sha3_256", b"").hexdigest()[:8]


def check_sqlite3():
    import sqlite3
    db = sqlite3.connect(":memory:")
    assert db.execute("select 6 * 7").fetchone() == (42,)
    return "sqlite " + sqlite3.sqlite_version


def check_ctypes():
    import ctypes
    import ctypes.util
    libc = ctypes.CDLL(None)
    assert libc.strlen(b"four") == 4
    return "libffi ok"


def roundtrip(mod):
    data = b"rules_pyimage " * 100
    assert mod.decompress(mod.compress(data)) == data
    return "roundtrip ok"


def check_lzma():
    import lzma
    return roundtrip(lzma)


def check_bz2():
    import bz2
    return roundtrip(bz2)


def check_zlib():
    import zlib
    roundtrip(zlib)
    return "zlib " + zlib.ZLIB_RUNTIME_VERSION


def check_uuid():
    import _uuid  # noqa: F401  libuuid, not the pure-Python fallback
    import uuid
    return str(uuid.uuid4().version)


def check_readline():
    import readline
    return getattr(readline, "_READLINE_LIBRARY_VERSION", "ok")


def check_curses():
    import curses
    import _curses_panel  # noqa: F401
    return curses.version.decode() if isinstance(curses.version, bytes) else str(curses.version)


def check_decimal():
    import _decimal  # the C implementation (libmpdec)
    import decimal
    assert decimal.Decimal("0.1") + decimal.Decimal("0.2") == decimal.Decimal("0.3")
    return "libmpdec " + _decimal.__libmpdec_version__


def check_dbm_gnu():
    import dbm.gnu
    with tempfile.TemporaryDirectory() as tmp:
        db = dbm.gnu.open(os.path.join(tmp, "db"), "c")
        db[b"k"] = b"v"
        assert db[b"k"] == b"v"
        db.close()
    import dbm.ndbm  # libgdbm-compat
    return "gdbm ok"


def check_zoneinfo():
    import zoneinfo
    zoneinfo.available_timezones()
    return "ok"


def check_expat():
    import xml.etree.ElementTree as ET
    assert ET.fromstring("<a><b/></a>")[0].tag == "b"
    return "ok"


CHECKS = [(name[len("check_"):], fn) for name, fn in sorted(globals().items()) if name.startswith("check_")]


def main():
    failed = []
    for name, fn in CHECKS:
        try:
            print("%-10s %s" % (name, fn()))
        except Exception as err:  # report every failure, not just the first
            print("%-10s FAILED: %r" % (name, err))
            failed.append(name)
    print("python", sys.version.replace("\n", " "))
    if failed:
        sys.exit("stdlib modules failed: " + ", ".join(failed))


if __name__ == "__main__":
    main()
