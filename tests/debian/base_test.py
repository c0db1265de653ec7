"""The Debian base layer works as a root filesystem: unpacked and entered with chroot, its dynamic
loader resolves libssl within the layer, and the from-source interpreter's runtime copy, put on top,
runs with every stdlib module that needs a system library and loads the CA bundle.

Arguments: --rootfs TAR --python-runtime TAR --prefix /opt/ORG/python --check-script PATH
"""

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest

ARGS = None
LOADER = "/lib64/ld-linux-x86-64.so.2"


def unpack(tar_path, root):
    with tarfile.open(tar_path) as tar:
        for m in tar.getmembers():
            if m.isdir():
                os.makedirs(os.path.join(root, m.name), exist_ok=True)
            elif m.issym():
                path = os.path.join(root, m.name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                if os.path.lexists(path):
                    os.unlink(path)
                os.symlink(m.linkname, path)
            elif m.isreg():
                path = os.path.join(root, m.name)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "wb") as f:
                    f.write(tar.extractfile(m).read())
                os.chmod(path, m.mode)


class BaseLayerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.root = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        unpack(ARGS.rootfs, cls.root)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def chroot(self, *argv):
        # Only what the layer holds: a minimal environment, no host PATH.
        chroot = shutil.which("chroot", path="/usr/sbin:/usr/bin:/sbin:/bin")
        self.assertIsNotNone(chroot, "chroot (coreutils) is missing on this host")
        return subprocess.run([chroot, self.root] + list(argv), env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def test_loader_resolves_libssl_inside_the_layer(self):
        out = self.chroot(LOADER, "--list", "/usr/lib/x86_64-linux-gnu/libssl.so.3")
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertNotIn("not found", out.stdout)
        resolved = [l.split("=>")[1].split("(")[0].strip() for l in out.stdout.splitlines() if "=>" in l]
        self.assertTrue(any("libcrypto.so.3" in p for p in resolved), out.stdout)
        for path in resolved:
            self.assertTrue(os.path.exists(os.path.join(self.root, path.lstrip("/"))), path)

    def test_files_the_image_needs(self):
        with open(os.path.join(self.root, "etc/passwd")) as f:
            self.assertIn("nonroot:x:65532:65532:", f.read())
        with open(os.path.join(self.root, "etc/os-release")) as f:
            self.assertIn('VERSION_CODENAME=bookworm', f.read())
        with open(os.path.join(self.root, "etc/ssl/certs/ca-certificates.crt")) as f:
            self.assertGreater(f.read().count("BEGIN CERTIFICATE"), 100)
        status = os.listdir(os.path.join(self.root, "var/lib/dpkg/status.d"))
        self.assertIn("libssl3", status)
        for absent in ["usr/share/man", "usr/share/locale", "usr/bin/dpkg", "usr/bin/apt", "usr/bin/gcc"]:
            self.assertFalse(os.path.exists(os.path.join(self.root, absent)), absent)

    def test_user_lookup_goes_through_nsswitch(self):
        with open(os.path.join(self.root, "etc/nsswitch.conf")) as f:
            self.assertIn("passwd: files", f.read())
        unpack(ARGS.python_runtime, self.root)
        python = ARGS.prefix + "/bin/python3"
        out = self.chroot(python, "-I", "-c", "import pwd, grp; print(pwd.getpwuid(65532).pw_name, grp.getgrgid(65532).gr_name)")
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertEqual(out.stdout.strip(), "nonroot nonroot")

    def test_interpreter_runs_on_the_base(self):
        unpack(ARGS.python_runtime, self.root)
        shutil.copy(ARGS.check_script, os.path.join(self.root, "tmp/check_stdlib.py"))
        python = ARGS.prefix + "/bin/python3"
        out = self.chroot(python, "-I", "/tmp/check_stdlib.py")
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertNotIn("FAILED", out.stdout)
        out = self.chroot(python, "-I", "-c", "import ssl; print(ssl.create_default_context().cert_store_stats()['x509_ca'])")
        self.assertEqual(out.returncode, 0, out.stdout)
        self.assertGreater(int(out.stdout.strip()), 100, out.stdout)


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    for flag in ["--rootfs", "--python-runtime", "--prefix", "--check-script"]:
        parser.add_argument(flag, required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
