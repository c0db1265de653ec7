"""make_sbom.py on a small made-up image: what it lists, that it is the same twice, and that a
layer and its files that disagree are an error naming the difference."""

import io
import json
import os
import shutil
import tarfile
import tempfile
import unittest
import zipfile

from rules.private.tools import make_sbom

EPOCH = 315532800


def tar_file(path, members):
    """A tar at path of {name: text}."""
    with tarfile.open(path, "w") as tar:
        for name, text in sorted(members.items()):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def deb_file(path, package, version):
    """A .deb at path with only a control member (all make_sbom reads)."""
    control = io.BytesIO()
    with tarfile.open(fileobj=control, mode="w:gz") as tar:
        data = ("Package: %s\nVersion: %s\nArchitecture: amd64\n" % (package, version)).encode()
        info = tarfile.TarInfo("./control")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with open(path, "wb") as f:
        f.write(b"!<arch>\n")
        for name, blob in [("debian-binary", b"2.0\n"), ("control.tar.gz", control.getvalue())]:
            f.write(("%-16s%-12s%-6s%-6s%-8s%-10s`\n" % (name, "0", "0", "0", "100644", len(blob))).encode())
            f.write(blob + (b"\n" if len(blob) % 2 else b""))
    return path


class MakeSbomTest(unittest.TestCase):
    def setUp(self):
        self.dir = d = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
        self.base = tar_file(os.path.join(d, "base.tar"), {
            "etc/os-release": 'ID=debian\nVERSION_ID="12"\n',
            "var/lib/dpkg/status.d/libfoo1": "Package: libfoo1\nSource: foo\nVersion: 1.2-3+deb12u1\nArchitecture: amd64\n",
        })
        self.debs = [deb_file(os.path.join(d, "libfoo1.deb"), "libfoo1", "1.2-3+deb12u1")]
        self.python = tar_file(os.path.join(d, "python.tar"), {
            "opt/x/python/lib/python3.13/_sysconfigdata__linux_x86_64-linux-gnu.py":
                "build_time_vars = {'CONFIG_ARGS': \"'--prefix=/opt/x/python'\"}\n",
        })
        self.venv = tar_file(os.path.join(d, "venv.tar"), {
            "opt/x/venv/lib/python3.13/site-packages/attrs-26.1.0.dist-info/METADATA": "Name: attrs\nVersion: 26.1.0\n",
        })
        self.wheels = [self.wheel("attrs", "26.1.0")]
        self.app = tar_file(os.path.join(d, "app.tar"), {"opt/x/app/main.py": "print('hi')\n"})
        self.layout = os.path.join(d, "layout")
        os.makedirs(self.layout)
        with open(os.path.join(self.layout, "index.json"), "w") as f:
            json.dump({"manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                      "digest": "sha256:" + "ab" * 32, "size": 500}]}, f)
        self.digest = os.path.join(d, "digest")
        with open(self.digest, "w") as f:
            f.write("sha256:" + "ab" * 32)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def wheel(self, name, version):
        path = os.path.join(self.dir, "%s-%s-py3-none-any.whl" % (name, version))
        with zipfile.ZipFile(path, "w") as whl:
            whl.writestr("%s-%s.dist-info/METADATA" % (name, version), "Name: %s\nVersion: %s\n" % (name, version))
        return path

    def run_tool(self, out, debs=None, wheels=None):
        argv = ["--name", "x/app:v1", "--label", "//app:image", "--digest", self.digest, "--epoch", str(EPOCH),
                "--rules-version", "0.1.0", "--base", self.base, "--python-tar", self.python,
                "--python-version", "3.13.15", "--python-source-url", "https://python.example/Python-3.13.15.tar.xz",
                "--python-source-sha256", "cd" * 32, "--venv", self.venv, "--app", self.app, "--app-label", "//app:app",
                "--layout", self.layout, "--sbom", os.path.join(out, "sbom.json"),
                "--provenance", os.path.join(out, "provenance.json"), "--attachments", os.path.join(out, "att")]
        for deb in self.debs if debs is None else debs:
            argv += ["--deb", deb]
        for whl in self.wheels if wheels is None else wheels:
            argv += ["--wheel", whl]
        os.makedirs(out, exist_ok=True)
        make_sbom.main(argv)
        with open(os.path.join(out, "sbom.json")) as f:
            return json.load(f)

    def test_lists_the_image(self):
        doc = self.run_tool(os.path.join(self.dir, "one"))
        by_name = {p["name"]: p for p in doc["packages"]}
        deb = by_name["libfoo1"]
        self.assertEqual(deb["externalRefs"][0]["referenceLocator"],
                         "pkg:deb/debian/libfoo1@1.2-3%2Bdeb12u1?arch=amd64&distro=debian-12&upstream=foo")
        self.assertEqual(deb["checksums"][0]["checksumValue"], make_sbom.sha256_file(self.debs[0]))
        self.assertEqual(by_name["CPython"]["sourceInfo"],
                         "compiled from source by rules_pyimage in its hermetic builder: ./configure '--prefix=/opt/x/python'")
        self.assertEqual(by_name["attrs"]["checksums"][0]["checksumValue"], make_sbom.sha256_file(self.wheels[0]))
        self.assertEqual(doc["creationInfo"]["created"], "1980-01-01T00:00:00Z")
        with open(os.path.join(self.dir, "one", "att", "index.json")) as f:
            index = json.load(f)
        self.assertEqual([m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]],
                         ["sbom", "provenance"])
        for m in index["manifests"]:
            with open(os.path.join(self.dir, "one", "att", "blobs", "sha256", m["digest"][7:])) as f:
                self.assertEqual(json.load(f)["subject"]["digest"], "sha256:" + "ab" * 32)

    def test_same_bytes_twice(self):
        self.run_tool(os.path.join(self.dir, "one"))
        self.run_tool(os.path.join(self.dir, "two"))
        for name in ["sbom.json", "provenance.json", "att/index.json"]:
            with open(os.path.join(self.dir, "one", name), "rb") as a, open(os.path.join(self.dir, "two", name), "rb") as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_a_wheel_the_venv_does_not_hold(self):
        with self.assertRaises(SystemExit) as cm:
            self.run_tool(os.path.join(self.dir, "x"), wheels=self.wheels + [self.wheel("pyyaml", "6.0")])
        self.assertIn("the venv layer and its wheels disagree: only in the layer none; only as files ['pyyaml']",
                      str(cm.exception.code))

    def test_a_deb_the_base_does_not_hold(self):
        other = deb_file(os.path.join(self.dir, "libbar1.deb"), "libbar1", "1")
        with self.assertRaises(SystemExit) as cm:
            self.run_tool(os.path.join(self.dir, "x"), debs=[other])
        self.assertIn("the base layer and its .deb files disagree: only in the layer ['libfoo1']; only as files ['libbar1']",
                      str(cm.exception.code))


if __name__ == "__main__":
    unittest.main(verbosity=2)
