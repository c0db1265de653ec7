"""The hermetic builder, entered by in_builder.sh: a compile inside it sees the builder's packages
as its whole filesystem (no host file, no network), it works as root and as an ordinary user,
and a kernel that refuses user namespaces gets an error that names the requirement. The
hardening check tells a program compiled there with the rules' flags from one without.

Usage (from Bazel): builder_test.py IN_BUILDER_SH BUILDER_TAR HARDENING_PY
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

IN_BUILDER = BUILDER = HARDENING = None

PROGRAM = r"""#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    char buf[64];
    strcpy(buf, argv[0]);
    printf("%s %d\n", buf, argc);
    return 0;
}
"""


class BuilderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A directory an ordinary user can reach (Bazel's own trees are under root's home), with
        # the runner and the builder in it.
        cls.dir = tempfile.mkdtemp(prefix="pyimage-builder-test.", dir="/tmp")
        os.chmod(cls.dir, 0o755)
        shutil.copy(IN_BUILDER, os.path.join(cls.dir, "in_builder.sh"))
        shutil.copy(BUILDER, os.path.join(cls.dir, "builder.tar"))
        for name in os.listdir(cls.dir):
            os.chmod(os.path.join(cls.dir, name), 0o755)
        # A file of this host that must not be visible inside.
        cls.tmp = os.path.join(cls.dir, "tmp")  # where in_builder.sh unpacks the builder
        os.mkdir(cls.tmp)
        os.chmod(cls.tmp, 0o1777)
        cls.host_marker = os.path.join(cls.dir, "host-marker")
        with open(cls.host_marker, "w") as f:
            f.write("host\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def run_in_builder(self, script, extra=(), prefix=(), cwd=None):
        cmd = list(prefix) + ["bash", "in_builder.sh", "--rootfs", "builder.tar"] + list(extra) + [
            "--", "/bin/bash", "-c", script]
        result = subprocess.run(cmd, cwd=cwd or self.dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env={"PATH": "/usr/bin:/bin", "PYIMAGE_BUILDER_TMP": self.tmp})
        self.assertEqual(os.listdir(self.tmp), [], "in_builder.sh left its directory behind")
        return result

    def test_compiles_with_only_the_builder(self):
        script = r"""
set -e
printf '#include <stdio.h>\n#include <openssl/ssl.h>\nint main(void){puts(OPENSSL_VERSION_TEXT);return 0;}\n' >/tmp/t.c
gcc /tmp/t.c -o /tmp/t
/tmp/t
gcc --version | head -n1
echo "hostname=$(cat /proc/sys/kernel/hostname)"
echo "interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')"
echo "uid=$(id -u)"
test -e HOST_MARKER && echo "host file visible" || echo "host file hidden"
test -e /etc/apt && echo "host /etc visible" || echo "no /etc/apt"
env | sort | cut -d= -f1 | tr '\n' ' '
""".replace("HOST_MARKER", self.host_marker)
        result = self.run_in_builder(script)
        self.assertEqual(result.returncode, 0, result.stdout)
        out = result.stdout
        self.assertRegex(out, r"OpenSSL 3\.0\.\d+")             # the builder's libssl-dev headers
        self.assertIn("gcc (Debian 12.2.0-14", out)            # the builder's compiler
        self.assertIn("hostname=builder", out)
        self.assertIn("interfaces=lo \n", out)                  # no network but loopback
        self.assertIn("uid=0", out)
        self.assertIn("host file hidden", out)
        self.assertIn("no /etc/apt", out)
        self.assertIn("HOME LC_ALL PATH", out)

    def test_copies_inputs_in_and_results_out(self):
        src = os.path.join(self.dir, "input.txt")
        with open(src, "w") as f:
            f.write("hello\n")
        out = os.path.join(self.dir, "out", "result.txt")
        result = self.run_in_builder("mkdir -p /o && tr a-z A-Z </in/input.txt >/o/result.txt",
                                     extra=["--copy", "input.txt=/in/input.txt", "--out", "/o/result.txt=out/result.txt"])
        self.assertEqual(result.returncode, 0, result.stdout)
        with open(out) as f:
            self.assertEqual(f.read(), "HELLO\n")

    def test_as_an_ordinary_user(self):
        if os.getuid() != 0:
            prefix = []
        else:
            prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        result = self.run_in_builder("echo uid=$(id -u); gcc --version | head -n1", prefix=prefix)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("uid=0", result.stdout)
        self.assertIn("gcc (Debian 12.2.0", result.stdout)

    def test_hardening_check_tells_hardened_from_plain(self):
        # The same program compiled in the builder with the rules' hardening flags and without:
        # hardening.py passes the first and fails the second, naming it and what it lacks.
        with open(os.path.join(self.dir, "prog.c"), "w") as f:
            f.write(PROGRAM)
        script = ("mkdir -p /o && "
                  "gcc -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -Wl,-z,relro -Wl,-z,now /in/prog.c -o /o/hardened && "
                  "gcc -O2 -fno-stack-protector -U_FORTIFY_SOURCE -no-pie -Wl,-z,norelro /in/prog.c -o /o/plain")
        result = self.run_in_builder(script, extra=["--copy", "prog.c=/in/prog.c", "--out", "/o=out-hardening"])
        self.assertEqual(result.returncode, 0, result.stdout)
        out = os.path.join(self.dir, "out-hardening")
        good = subprocess.run([sys.executable, HARDENING, "--core", "hardened", os.path.join(out, "hardened")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(good.returncode, 0, good.stdout)
        self.assertIn("hardened: +canary +fortify +now +nx +pie +relro", good.stdout)
        bad = subprocess.run([sys.executable, HARDENING, "--core", "plain", os.path.join(out, "plain")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(bad.returncode, 1, bad.stdout)
        self.assertIn("plain: plain lacks relro, now, pie, canary, fortify", bad.stdout)

    def test_no_user_namespaces_is_named(self):
        # A user namespace in which no further one may be made: what a kernel that forbids
        # unprivileged user namespaces gives.
        prefix = ["unshare", "--user", "--map-root-user", "--",
                  "sh", "-c", 'echo 0 >/proc/sys/user/max_user_namespaces && exec "$@"', "sh"]
        result = self.run_in_builder("true", prefix=prefix)
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertIn("ERROR: hermetic builder: cannot enter the builder's namespaces", result.stdout)
        self.assertIn("The builder needs user namespaces", result.stdout)
        self.assertIn("user.max_user_namespaces", result.stdout)


if __name__ == "__main__":
    IN_BUILDER, BUILDER, HARDENING = sys.argv.pop(1), sys.argv.pop(1), sys.argv.pop(1)
    unittest.main(verbosity=2)
