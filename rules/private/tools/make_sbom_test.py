"""make_sbom.py on a small made-up image: what it lists, that it is the same twice, and that a
layer and its files that disagree are an error naming the difference."""

import hashlib
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
        self.layout = self.make_layout("layout", {})
        self.digest = os.path.join(d, "digest")
        with open(self.digest, "w") as f:
            f.write("sha256:" + "ab" * 32)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def make_layout(self, name, labels):
        """An OCI layout whose manifest's config has these labels (all make_sbom reads of it)."""
        layout = os.path.join(self.dir, name)
        blobs = os.path.join(layout, "blobs", "sha256")
        os.makedirs(blobs)

        def blob(obj):
            data = json.dumps(obj).encode()
            digest = hashlib.sha256(data).hexdigest()
            with open(os.path.join(blobs, digest), "wb") as f:
                f.write(data)
            return {"digest": "sha256:" + digest, "size": len(data)}

        config = blob({"architecture": "amd64", "os": "linux", "config": {"Labels": labels}})
        manifest = blob({"schemaVersion": 2, "config": config, "layers": []})
        with open(os.path.join(layout, "index.json"), "w") as f:
            json.dump({"manifests": [dict(manifest, mediaType="application/vnd.oci.image.manifest.v1+json")]}, f)
        return layout

    def wheel(self, name, version):
        path = os.path.join(self.dir, "%s-%s-py3-none-any.whl" % (name, version))
        with zipfile.ZipFile(path, "w") as whl:
            whl.writestr("%s-%s.dist-info/METADATA" % (name, version), "Name: %s\nVersion: %s\n" % (name, version))
        return path

    def run_tool(self, out, debs=None, wheels=None, extra=()):
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
        make_sbom.main(argv + list(extra))
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
        self.assertEqual(by_name["CPython"]["checksums"][0]["checksumValue"], make_sbom.sha256_file(self.python))
        self.assertEqual(doc["creationInfo"]["created"], "1980-01-01T00:00:00Z")
        with open(os.path.join(self.layout, "index.json")) as f:
            layout_digest = json.load(f)["manifests"][0]["digest"]
        with open(os.path.join(self.dir, "one", "att", "index.json")) as f:
            index = json.load(f)
        self.assertEqual([m["annotations"]["org.opencontainers.image.ref.name"] for m in index["manifests"]],
                         ["sbom", "provenance"])
        for m in index["manifests"]:
            with open(os.path.join(self.dir, "one", "att", "blobs", "sha256", m["digest"][7:])) as f:
                self.assertEqual(json.load(f)["subject"]["digest"], layout_digest)

    def test_configure_arguments_of_a_free_threaded_build(self):
        # Its stdlib is lib/python3.14t.
        python = tar_file(os.path.join(self.dir, "python314t.tar"), {
            "opt/x/python/lib/python3.14t/_sysconfigdata_t_linux_x86_64-linux-gnu.py":
                "build_time_vars = {'CONFIG_ARGS': \"'--prefix=/opt/x/python' '--disable-gil'\"}\n",
        })
        self.assertEqual(make_sbom.config_args(python), "'--prefix=/opt/x/python' '--disable-gil'")

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


    def test_a_package_trim_base_left_out(self):
        # libbar1 is an input of the base (a .deb) that trim_base left out whole: the provenance
        # lists it, the SBOM does not; without trim_base's list it is an error.
        bar = deb_file(os.path.join(self.dir, "libbar1.deb"), "libbar1", "2.0-1")
        removed = os.path.join(self.dir, "removed.txt")
        with open(removed, "w") as f:
            f.write("# left out of the base: 2 entries, 10 bytes\n"
                    "         9  var/lib/dpkg/status.d/libbar1\n         1  var/lib/dpkg/status.d/libbar1.md5sums\n")
        out = os.path.join(self.dir, "trim")
        doc = self.run_tool(out, debs=self.debs + [bar], extra=["--base-removed", removed])
        self.assertNotIn("libbar1", [p["name"] for p in doc["packages"]])
        self.assertIn("libfoo1", [p["name"] for p in doc["packages"]])
        with open(os.path.join(out, "provenance.json")) as f:
            deps = json.load(f)["predicate"]["buildDefinition"]["resolvedDependencies"]
        entry = [d for d in deps if d["name"] == "libbar1.deb"]
        self.assertEqual(entry[0]["digest"]["sha256"], make_sbom.sha256_file(bar), deps)
        self.assertIn("trim_base left it out", entry[0]["annotations"]["inImage"])
        with self.assertRaises(SystemExit) as cm:
            self.run_tool(os.path.join(self.dir, "x"), debs=self.debs + [bar])
        self.assertIn("only as files ['libbar1']", str(cm.exception.code))

    def test_spdx_ids_never_collide(self):
        # Debian allows `+` and `-` in names; SPDX IDs allow `-` only: libx++1 and libx--1 must
        # not share SPDXRef-deb-libx--1.
        self.base = tar_file(os.path.join(self.dir, "base2.tar"), {
            "var/lib/dpkg/status.d/libx++1": "Package: libx++1\nVersion: 1\nArchitecture: amd64\n",
            "var/lib/dpkg/status.d/libx--1": "Package: libx--1\nVersion: 1\nArchitecture: amd64\n",
        })
        doc = self.run_tool(os.path.join(self.dir, "ids"), debs=[])
        ids = {p["name"]: p["SPDXID"] for p in doc["packages"]}
        self.assertEqual(ids["libx--1"], "SPDXRef-deb-libx--1")
        self.assertRegex(ids["libx++1"], r"^SPDXRef-deb-libx--1-[0-9a-f]{8}$")
        self.assertEqual(len(set(ids.values())), len(ids))
        for pid in ids.values():
            self.assertRegex(pid, r"^SPDXRef-[A-Za-z0-9.-]+$")

    def test_provenance_names_the_rules_locks_and_revision(self):
        files = {}
        for name in ["rules/defs.bzl", "rules/private/tools/make_sbom.py", "builder.lock.json", "tools.lock.txt",
                     "versions.bzl"]:
            files[name] = os.path.join(self.dir, name.replace("/", "_"))
            with open(files[name], "w") as f:
                f.write("# %s\n" % name)
        self.layout = self.make_layout("stamped", {"org.opencontainers.image.revision": "0123abcd" * 5})
        extra = ["--rules-src", "rules/defs.bzl=" + files["rules/defs.bzl"],
                 "--rules-src", "rules/private/tools/make_sbom.py=" + files["rules/private/tools/make_sbom.py"],
                 "--builder-lock", files["builder.lock.json"], "--tools-lock", files["tools.lock.txt"],
                 "--version-table", files["versions.bzl"]]

        def provenance(out):
            self.run_tool(out, extra=extra)
            with open(os.path.join(out, "provenance.json")) as f:
                return json.load(f)["predicate"]["buildDefinition"]

        build = provenance(os.path.join(self.dir, "p1"))
        self.assertEqual(build["externalParameters"]["source"], {"digest": {"gitCommit": "0123abcd" * 5}})
        deps = {d["name"]: d for d in build["resolvedDependencies"]}
        self.assertEqual(deps["source"]["digest"], {"gitCommit": "0123abcd" * 5})
        for name, key in [("lock of the hermetic builder's Debian packages", "builder.lock.json"),
                          ("lock of rules_pyimage's Python tools", "tools.lock.txt"),
                          ("rules_pyimage's CPython version table (toolchains/versions.bzl)", "versions.bzl")]:
            self.assertEqual(deps[name]["digest"]["sha256"], make_sbom.sha256_file(files[key]), name)
        lines = sorted("%s  %s\n" % (make_sbom.sha256_file(files[n]), n)
                       for n in ["rules/defs.bzl", "rules/private/tools/make_sbom.py"])
        self.assertEqual(deps["rules_pyimage"]["digest"]["sha256"], hashlib.sha256("".join(lines).encode()).hexdigest())
        # One changed source of the rules changes their digest.
        with open(files["rules/defs.bzl"], "a") as f:
            f.write("# changed\n")
        changed = {d["name"]: d for d in provenance(os.path.join(self.dir, "p2"))["resolvedDependencies"]}
        self.assertNotEqual(changed["rules_pyimage"]["digest"], deps["rules_pyimage"]["digest"])
        # Unstamped: no revision anywhere.
        self.layout = self.make_layout("plain", {})
        build = provenance(os.path.join(self.dir, "p3"))
        self.assertNotIn("source", build["externalParameters"])
        self.assertNotIn("source", [d["name"] for d in build["resolvedDependencies"]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
