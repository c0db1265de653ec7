"""//app:image.sbom and //app:image.provenance, read as a consumer of them would.

The SBOM must validate with spdx-tools (what `pyspdxtools -i` runs) and agree with the locks
and the image: every package of the base's Debian lock with the lock's sha256, every pin of the
app's lock with one of its hashes (a wheel built here: its sdist's), the interpreter with the
version table's source sha256; and the packages the image CONTAINS are exactly the ones its
layers hold (dpkg status entries, the venv's .dist-info directories, the interpreter, the app).
The provenance must parse with the in-toto attestation bindings, as a Statement and as a SLSA
provenance v1 predicate, with the image digest as its subject.

Usage: sbom_test.py SBOM PROVENANCE DIGEST RUNTIME_LOCK APP_LOCK LAYER_TAR...  (the image's
       layers, uncompressed: its output group `layers`)
"""

import hashlib
import json
import re
import sys
import tarfile
import unittest

from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.resource_descriptor import ResourceDescriptor
from in_toto_attestation.v1.statement import Statement
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

SBOM, PROVENANCE, DIGEST, RUNTIME_LOCK, APP_LOCK = sys.argv[1:6]
LAYERS = sys.argv[6:]
del sys.argv[1:]
CPYTHON_SHA256 = "3b48dac8fb59f62eaa67ac83c1eb12bda1b7a08406dd286e252c11a66be27f81"  # 3.14.7, toolchains/versions.bzl


def load(path):
    with open(path) as f:
        return json.load(f)


def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def app_lock():
    """{name: (version, {hashes})} of a pip-compile lock."""
    pins, current = {}, None
    with open(APP_LOCK) as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
            if m:
                current = norm(m.group(1))
                pins[current] = (m.group(2), set())
            for h in re.findall(r"--hash=sha256:([0-9a-f]{64})", line):
                pins[current][1].add(h)
    return pins


def sha256_of(pkg):
    return {c["checksumValue"] for c in pkg.get("checksums", []) if c["algorithm"] == "SHA256"}


def purls(pkg):
    return [r["referenceLocator"] for r in pkg.get("externalRefs", []) if r["referenceType"] == "purl"]


class SbomTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.doc = load(SBOM)
        cls.by_id = {p["SPDXID"]: p for p in cls.doc["packages"]}
        cls.contained = [cls.by_id[r["relatedSpdxElement"]] for r in cls.doc["relationships"]
                         if r["spdxElementId"] == "SPDXRef-Image" and r["relationshipType"] == "CONTAINS"]
        with open(DIGEST) as f:
            cls.digest = f.read().strip()

    def test_spdx_tools_validates_it(self):
        messages = validate_full_spdx_document(parse_file(SBOM))
        self.assertEqual([m.validation_message for m in messages], [])
        self.assertEqual(self.doc["spdxVersion"], "SPDX-2.3")

    def test_it_describes_the_built_image(self):
        image = self.by_id["SPDXRef-Image"]
        self.assertEqual(sha256_of(image), {self.digest.split(":", 1)[1]})
        self.assertIn({"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                       "relatedSpdxElement": "SPDXRef-Image"}, self.doc["relationships"])
        self.assertIn(self.digest.split(":", 1)[1], self.doc["documentNamespace"])
        self.assertEqual(self.doc["creationInfo"]["created"], "1980-01-01T00:00:00Z")

    def test_every_debian_package_of_the_lock_with_its_hash(self):
        # Every package of the lock that the base layer still holds (trim_base leaves out whole
        # the packages whose libraries nothing links to: libstdc++6 here), none other.
        debs = {p["name"]: p for p in self.contained if any(u.startswith("pkg:deb/") for u in purls(p))}
        held = set()
        for layer in LAYERS:
            with tarfile.open(layer) as tar:
                for m in tar.getmembers():
                    if "var/lib/dpkg/status.d/" in m.name and m.isreg() and not m.name.endswith(".md5sums"):
                        held.add(m.name.split("/")[-1])
        lock = [p for p in load(RUNTIME_LOCK)["packages"] if p["name"] in held]
        self.assertEqual(sorted(debs), sorted(p["name"] for p in lock))
        left_out = {p["name"] for p in load(RUNTIME_LOCK)["packages"]} - held
        self.assertIn("libstdc++6", left_out)
        self.assertNotIn("libc6", left_out)
        for entry in lock:
            pkg = debs[entry["name"]]
            self.assertEqual(pkg["versionInfo"], entry["version"], entry["name"])
            self.assertEqual(sha256_of(pkg), {entry["sha256"]}, entry["name"])
            self.assertTrue(purls(pkg)[0].startswith("pkg:deb/debian/%s@" % entry["name"]), purls(pkg))

    def test_every_pin_of_the_app_lock_with_a_locked_hash(self):
        wheels = {norm(p["name"]): p for p in self.contained if any(u.startswith("pkg:pypi/") for u in purls(p))}
        pins = app_lock()
        self.assertEqual(sorted(wheels), sorted(pins))
        generated = {r["spdxElementId"]: self.by_id[r["relatedSpdxElement"]] for r in self.doc["relationships"]
                     if r["relationshipType"] == "GENERATED_FROM"}
        for name, (version, hashes) in pins.items():
            pkg = wheels[name]
            self.assertEqual(pkg["versionInfo"], version, name)
            if pkg["SPDXID"] in generated:  # built here: the sdist is what the lock pins
                sdist = generated[pkg["SPDXID"]]
                self.assertEqual(len(sha256_of(sdist) & hashes), 1, name)
                self.assertIn("built here from its sdist", pkg["sourceInfo"])
            else:
                self.assertEqual(len(sha256_of(pkg) & hashes), 1, name)
        self.assertIn("markupsafe", [n for n, p in wheels.items() if p["SPDXID"] in generated])

    def test_ids_are_unique(self):
        ids = [p["SPDXID"] for p in self.doc["packages"]]
        self.assertEqual(len(ids), len(set(ids)))

    def test_the_interpreter_and_its_source(self):
        python = self.by_id["SPDXRef-python-cpython-3.14.7"]
        self.assertIn(python, self.contained)
        self.assertRegex(python["checksums"][0]["checksumValue"], r"^[0-9a-f]{64}$")
        self.assertIn("--prefix=/opt/pyimage/python", python["sourceInfo"])
        source = self.by_id["SPDXRef-source-cpython-3.14.7"]
        self.assertEqual(sha256_of(source), {CPYTHON_SHA256})
        self.assertNotIn(source, self.contained)  # not in the image: the interpreter was made from it

    def test_nothing_the_image_does_not_hold(self):
        debs, dists = set(), set()
        for layer in LAYERS:
            with tarfile.open(layer) as tar:
                for m in tar.getmembers():
                    if "var/lib/dpkg/status.d/" in m.name and m.isreg() and not m.name.endswith(".md5sums"):
                        debs.add(m.name.split("/")[-1])
                    elif "/venv/" in m.name and m.isdir() and m.name.endswith(".dist-info"):
                        dists.add(norm(re.sub(r"-[^-]+\.dist-info$", "", m.name.split("/")[-1])))
        # base, python, the venv's own files, one layer per package (attrs, markupsafe, pyyaml), app
        self.assertEqual(len(LAYERS), 7)
        self.assertTrue(debs and dists)
        held = {("deb", d) for d in debs} | {("pypi", d) for d in dists} | {("python", "CPython"), ("app", "//app:app")}
        listed = set()
        for p in self.contained:
            kind = "app" if p["SPDXID"] == "SPDXRef-App" else "python" if p["name"] == "CPython" else \
                re.match(r"pkg:(\w+)/", purls(p)[0]).group(1)
            listed.add((kind, norm(p["name"]) if kind == "pypi" else p["name"]))
        self.assertEqual(listed, held)


class ProvenanceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(PROVENANCE) as f:
            cls.text = f.read()
        cls.doc = json.loads(cls.text)
        with open(DIGEST) as f:
            cls.digest = f.read().strip()

    def test_in_toto_bindings_parse_it(self):
        statement = json_format.Parse(self.text, statement_pb2.Statement())
        Statement.copy_from_pb(statement).validate()
        self.assertEqual(statement.predicate_type, "https://slsa.dev/provenance/v1")
        predicate = json_format.ParseDict(self.doc["predicate"], provenance_pb2.Provenance())
        for dep in predicate.build_definition.resolved_dependencies:
            ResourceDescriptor.copy_from_pb(dep).validate()

    def test_subject_is_the_built_digest(self):
        self.assertEqual([s["digest"]["sha256"] for s in self.doc["subject"]], [self.digest.split(":", 1)[1]])

    def test_every_input_with_its_digest(self):
        deps = self.doc["predicate"]["buildDefinition"]["resolvedDependencies"]
        digests = {d["digest"]["sha256"] for d in deps if "digest" in d}
        self.assertIn(CPYTHON_SHA256, digests)
        for entry in load(RUNTIME_LOCK)["packages"]:
            self.assertIn(entry["sha256"], digests, entry["name"])
        for name, (_, hashes) in app_lock().items():
            self.assertEqual(len(hashes & digests), 1, name)
        self.assertIn("rules_pyimage", [d["name"] for d in deps])
        rules = [d for d in deps if d["name"] == "rules_pyimage"][0]
        self.assertRegex(rules["digest"]["sha256"], r"^[0-9a-f]{64}$")
        names = [d["name"] for d in deps]
        for name in ["lock of the hermetic builder's Debian packages", "lock of rules_pyimage's Python tools",
                     "rules_pyimage's CPython version table (toolchains/versions.bzl)"]:
            self.assertIn(name, names)
        for lock in (RUNTIME_LOCK, APP_LOCK):  # the locks themselves, by content
            with open(lock, "rb") as f:
                self.assertIn(hashlib.sha256(f.read()).hexdigest(), digests, lock)


if __name__ == "__main__":
    unittest.main(verbosity=2)
