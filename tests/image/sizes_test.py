"""//app:image.sizes against the image itself: each layer's uncompressed size is its tar's, its
compressed size is the layer blob's size in the image manifest, the largest file listed is the
largest regular file of the tar; the HTML page draws a chart inline and fetches nothing.

Usage: sizes_test.py IMAGE_LAYOUT SIZES_TXT_AND_HTML... LAYER_TAR...
"""

import json
import os
import re
import sys
import tarfile
import unittest

LAYOUT = sys.argv[1]
TXT = [a for a in sys.argv[2:] if a.endswith(".sizes.txt")][0]
HTML = [a for a in sys.argv[2:] if a.endswith(".sizes.html")][0]
LAYERS = [a for a in sys.argv[2:] if a.endswith(".tar")]
del sys.argv[1:]


def mib(n):
    return "%.1f MiB" % (n / 1048576.0) if n >= 1048576 else "%.1f KiB" % (n / 1024.0)


def manifest_layers():
    with open(os.path.join(LAYOUT, "index.json")) as f:
        digest = json.load(f)["manifests"][0]["digest"].split(":")[1]
    with open(os.path.join(LAYOUT, "blobs", "sha256", digest)) as f:
        return [layer["size"] for layer in json.load(f)["layers"]]


def layer_tar(name):
    """image.base.tar for base; a package's layer is its wheel_library's: attrs.venv_layer_0.tar."""
    want = name[len("venv-"):] + ".venv_layer_" if name.startswith("venv-") else "image.%s.tar" % name
    found = [t for t in LAYERS if os.path.basename(t).startswith(want)]
    assert len(found) == 1, (name, LAYERS)
    return found[0]


class SizesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(TXT) as f:
            cls.text = f.read()
        cls.reported = re.findall(r"^layer ([\w-]+): ([\d.]+ [KM]iB) uncompressed, ([\d.]+ [KM]iB) compressed, (\d+) files$",
                                  cls.text, re.M)

    def test_every_layer_with_its_sizes(self):
        self.assertEqual([r[0] for r in self.reported],
                         ["base", "python", "venv", "venv-attrs", "venv-markupsafe", "venv-pyyaml", "app"])
        compressed = manifest_layers()
        self.assertEqual(len(LAYERS), len(self.reported))
        for (name, uncompressed, gz, count), blob in zip(self.reported, compressed):
            self.assertEqual(gz, mib(blob), name)
            tar_path = layer_tar(name)
            self.assertEqual(uncompressed, mib(os.path.getsize(tar_path)), name)
            with tarfile.open(tar_path) as tar:
                files = [m for m in tar.getmembers() if m.isreg()]
            self.assertEqual(int(count), len(files), name)
            biggest = max(files, key=lambda m: m.size)
            section = self.text.split("layer %s:" % name, 1)[1].split("\nlayer ", 1)[0]
            first_file = re.search(r"^  file +([\d.]+ [KM]iB)  (\S+)$", section, re.M)
            self.assertEqual(first_file.group(1), mib(biggest.size), name)

    def test_the_page_needs_no_network(self):
        with open(HTML) as f:
            page = f.read()
        self.assertIn("<svg", page)
        self.assertEqual(page.count("<rect"), 2 * len(self.reported))  # two bars a layer
        self.assertNotRegex(page, r"<script|<link|<img|src=|href=|url\(")
        # The only URL is the SVG namespace, which a browser never fetches.
        self.assertEqual(re.findall(r"https?://[^\"' ]+", page), ["http://www.w3.org/2000/svg"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
