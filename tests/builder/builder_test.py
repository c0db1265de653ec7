"""The hermetic builder, entered by in_builder.sh: a compile inside it sees the builder's packages
as its whole filesystem (no host file, no network), it works as root and as an ordinary user,
and a kernel that refuses user namespaces gets an error that names the requirement. The
hardening check tells a program compiled there with the rules' flags from one without.

A hostile command (what an sdist's build hook may be) cannot write to the builder's root or its
inputs, and cannot get a file of this host copied out: a result that is a link, lies under one,
or holds a link leading out of it, a special file or a set-user-ID file is refused, and nothing
of it reaches the destination.

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
        result = self.run_in_builder("tr a-z A-Z </in/input.txt >/pyimage-out/result.txt",
                                     extra=["--copy", "input.txt=/in/input.txt", "--out", "/pyimage-out/result.txt=out/result.txt"])
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
        script = ("mkdir -p /pyimage-out/o && cd /pyimage-out/o && "
                  "gcc -O2 -rdynamic -fstack-protector-strong -fstack-clash-protection -fcf-protection "
                  "-D_FORTIFY_SOURCE=3 -Wl,-z,relro -Wl,-z,now /in/prog.c -o hardened && "
                  "gcc -O2 -rdynamic -fno-stack-protector -fcf-protection=none -U_FORTIFY_SOURCE -no-pie "
                  "-Wl,-z,norelro /in/prog.c -o plain")
        result = self.run_in_builder(script, extra=["--copy", "prog.c=/in/prog.c", "--out", "/pyimage-out/o=out-hardening"])
        self.assertEqual(result.returncode, 0, result.stdout)
        out = os.path.join(self.dir, "out-hardening")
        good = subprocess.run([sys.executable, HARDENING, "--core", "hardened", os.path.join(out, "hardened")],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(good.returncode, 0, good.stdout)
        self.assertIn("hardened: +canary +fortify +ibt +now +nx +pie +relro", good.stdout)
        bad = subprocess.run([sys.executable, HARDENING, "--core", "plain", os.path.join(out, "plain")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(bad.returncode, 1, bad.stdout)
        self.assertIn("plain: plain lacks relro, now, pie, canary, fortify, ibt", bad.stdout)

    def test_root_and_inputs_are_read_only(self):
        with open(os.path.join(self.dir, "input.txt"), "w") as f:
            f.write("hello\n")
        script = r"""
for path in /usr/bin/planted /in/input.txt /build/planted /root/planted /pyimage-in-planted; do
  (echo x >"$path") 2>/dev/null && echo "wrote $path" || echo "cannot write $path"
done
mount -o remount,rw,bind / 2>/dev/null && echo "remounted /" || echo "cannot remount /"
echo y >/tmp/scratch && echo y >/pyimage-out/result && echo "wrote /tmp and /pyimage-out"
"""
        result = self.run_in_builder(script, extra=["--copy", "input.txt=/in/input.txt",
                                                    "--out", "/pyimage-out/result=out-ro/result"])
        self.assertEqual(result.returncode, 0, result.stdout)
        for path in ["/usr/bin/planted", "/in/input.txt", "/build/planted", "/root/planted", "/pyimage-in-planted"]:
            self.assertIn("cannot write " + path, result.stdout)
        self.assertIn("cannot remount /", result.stdout)
        self.assertIn("wrote /tmp and /pyimage-out", result.stdout)

    def assert_refused(self, script, out, message):
        """Runs script, which tampers with its result; the copy-out must refuse it, naming it."""
        # A file of this host that the command cannot see; tampering points links at it.
        secret = os.path.join(self.dir, "secret")
        with open(secret, "w") as f:
            f.write("host secret\n")
        os.chmod(secret, 0o600)
        dest = os.path.join(self.dir, "out-refused")
        shutil.rmtree(dest, ignore_errors=True)
        result = self.run_in_builder(script.replace("SECRET", secret), extra=["--out", out + "=out-refused"])
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertIn("ERROR: hermetic builder: the command's result " + message, result.stdout)
        self.assertIn("nothing is copied out", result.stdout)
        self.assertFalse(os.path.lexists(dest), "a refused result reached the destination")
        return result

    def test_a_link_to_a_host_file_is_refused(self):
        self.assert_refused("mkdir /pyimage-out/w && echo ok >/pyimage-out/w/a.whl && ln -s SECRET /pyimage-out/w/b.whl",
                            "/pyimage-out/w", "/pyimage-out/w/b.whl is a link to the absolute path " + os.path.join(self.dir, "secret"))

    def test_a_relative_link_out_of_the_result_is_refused(self):
        # ../../ from inside the result would climb, on this host, into the directory in_builder.sh
        # made, and from there anywhere.
        self.assert_refused("mkdir -p /pyimage-out/w/d /pyimage-out/x && ln -s ../../x /pyimage-out/w/d/up",
                            "/pyimage-out/w", "/pyimage-out/w/d/up is a link that leads out of /pyimage-out/w (to /pyimage-out/x)")

    def test_a_result_that_is_a_link_is_refused(self):
        # The result itself, or a directory on its way, replaced by a link to a host path.
        self.assert_refused("ln -s SECRET /pyimage-out/w", "/pyimage-out/w", "/pyimage-out/w is, or lies under, a link")
        self.assert_refused("ln -s /etc /pyimage-out/d", "/pyimage-out/d/passwd", "/pyimage-out/d/passwd is, or lies under, a link")

    def test_the_results_directory_cannot_be_replaced(self):
        result = self.run_in_builder("rm -rf /pyimage-out 2>/dev/null; mv /pyimage-out /pyimage-moved 2>/dev/null; "
                                     "ln -sfn /etc /pyimage-out 2>/dev/null; test -L /pyimage-out && echo replaced || echo kept; "
                                     "echo ok >/pyimage-out/r", extra=["--out", "/pyimage-out/r=out-kept/r"])
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("kept", result.stdout)
        with open(os.path.join(self.dir, "out-kept", "r")) as f:
            self.assertEqual(f.read(), "ok\n")

    def test_special_and_setuid_files_are_refused(self):
        self.assert_refused("mkdir /pyimage-out/w && mkfifo /pyimage-out/w/fifo", "/pyimage-out/w",
                            "/pyimage-out/w/fifo is neither a file, a directory nor a link")
        self.assert_refused("mkdir /pyimage-out/w && echo x >/pyimage-out/w/s && chmod 4755 /pyimage-out/w/s",
                            "/pyimage-out/w", "/pyimage-out/w/s has a set-user-ID or set-group-ID bit")

    def test_links_inside_the_result_are_kept_as_links(self):
        result = self.run_in_builder("mkdir -p /pyimage-out/w/lib && echo v >/pyimage-out/w/lib/real.txt && "
                                     "ln -s lib/real.txt /pyimage-out/w/alias", extra=["--out", "/pyimage-out/w=out-links"])
        self.assertEqual(result.returncode, 0, result.stdout)
        alias = os.path.join(self.dir, "out-links", "alias")
        self.assertEqual(os.readlink(alias), "lib/real.txt")
        with open(alias) as f:
            self.assertEqual(f.read(), "v\n")

    def test_results_outside_the_results_directory_are_refused(self):
        result = self.run_in_builder("true", extra=["--out", "/o=out-o"])
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertIn("--out /o=out-o: the path inside the builder must be /pyimage-out or below it", result.stdout)
        result = self.run_in_builder("true", extra=["--out", "/pyimage-out/../etc=out-o"])
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertIn("without '.' or '..'", result.stdout)

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
