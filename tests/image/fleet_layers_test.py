"""Per-package layers across a fleet, read from the built layouts: two images with different
subsets of one lock share the layers of what they have in common (base from one fleet_base,
python, venv, attrs) byte for byte, and each holds only its own packages; an image whose packages
do not fit its layer budget groups them, and its SBOM still lists every package."""

import gzip
import json
import os
import re
import sys
import tarfile
import unittest

FLEET_A, FLEET_B, BUDGET, APP = sys.argv[1:5]
BUDGET_SBOM = [a for a in sys.argv[5:] if a.endswith(".spdx.json")][0]
del sys.argv[1:]


def blob_path(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":")[1])


def layers(layout):
    """{name: (blob digest, diff_id)} of the image, and the names in order."""
    with open(os.path.join(layout, "index.json")) as f:
        manifest_digest = json.load(f)["manifests"][0]["digest"]
    with open(blob_path(layout, manifest_digest)) as f:
        manifest = json.load(f)
    with open(blob_path(layout, manifest["config"]["digest"])) as f:
        config = json.load(f)
    names = [h["created_by"].replace("rules_pyimage: ", "") for h in config["history"]]
    digests = [l["digest"] for l in manifest["layers"]]
    return dict(zip(names, zip(digests, config["rootfs"]["diff_ids"]))), names


def dists(layout, digest):
    """The distributions a layer blob installs into the venv (from its .dist-info directories)."""
    found = set()
    with gzip.open(blob_path(layout, digest)) as raw, tarfile.open(fileobj=raw) as tar:
        for m in tar.getmembers():
            hit = re.search(r"/site-packages/([^/]+)-[^-/]+\.dist-info/METADATA$", m.name)
            if hit:
                found.add(hit.group(1).lower().replace("_", "-"))
    return found


class FleetLayersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.a, cls.a_names = layers(FLEET_A)
        cls.b, cls.b_names = layers(FLEET_B)
        cls.budget, cls.budget_names = layers(BUDGET)
        cls.app, cls.app_names = layers(APP)

    def test_each_image_holds_its_own_packages(self):
        self.assertEqual(["base", "python", "venv", "venv-attrs", "venv-markupsafe", "app"], self.a_names)
        self.assertEqual(["base", "python", "venv", "venv-attrs", "venv-pyyaml", "app"], self.b_names)
        self.assertEqual({"markupsafe"}, dists(FLEET_A, self.a["venv-markupsafe"][0]))
        self.assertEqual(set(), dists(FLEET_A, self.a["venv"][0]))

    def test_what_they_share_is_the_same_blob(self):
        for name in ["base", "python", "venv", "venv-attrs"]:
            self.assertEqual(self.a[name], self.b[name], name)
        # attrs, python and venv are the same layer in //app:image too (another subset, its own base).
        for name in ["python", "venv", "venv-attrs", "venv-markupsafe"]:
            self.assertEqual(self.a[name], self.app[name], name)
        # The same sources in the same place: the app layer does not depend on the binary's name.
        self.assertEqual(self.a["app"], self.b["app"])
        self.assertNotEqual(self.a["venv-markupsafe"], self.b["venv-pyyaml"])

    def test_the_fleet_base_keeps_what_any_image_needs(self):
        # //app:image trims its own base for attrs, markupsafe and pyyaml: the fleet's base keeps
        # at least as much (the union of what fleet_a and fleet_b need).
        with gzip.open(blob_path(FLEET_A, self.a["base"][0])) as raw, tarfile.open(fileobj=raw) as tar:
            fleet = {m.name for m in tar.getmembers()}
        with gzip.open(blob_path(APP, self.app["base"][0])) as raw, tarfile.open(fileobj=raw) as tar:
            own = {m.name for m in tar.getmembers()}
        self.assertEqual(set(), own - fleet)

    def test_a_budget_groups_the_packages(self):
        self.assertLessEqual(len(self.budget_names), 6)
        self.assertEqual(["base", "python", "venv"], self.budget_names[:3])
        self.assertEqual("app", self.budget_names[-1])
        groups = [n for n in self.budget_names if n.startswith("venv-group-")]
        self.assertTrue(groups, self.budget_names)
        held = set()
        for name in self.budget_names[3:-1]:
            found = dists(BUDGET, self.budget[name][0])
            self.assertFalse(held & found, "a package in two layers")
            held |= found
        self.assertEqual({"attrs", "markupsafe", "pyyaml"}, held)
        # A package alone in its slot is the same layer as in the image without a budget.
        for name in self.budget_names[3:-1]:
            if not name.startswith("venv-group-"):
                self.assertEqual(self.app[name], self.budget[name], name)

    def test_the_sbom_lists_every_package_of_a_grouped_image(self):
        with open(BUDGET_SBOM) as f:
            sbom = json.load(f)
        purls = [r["referenceLocator"] for p in sbom["packages"] for r in p.get("externalRefs", [])]
        for name in ["attrs", "markupsafe", "pyyaml"]:
            self.assertTrue([p for p in purls if p.startswith("pkg:pypi/%s@" % name)], name)


if __name__ == "__main__":
    unittest.main(verbosity=2)
