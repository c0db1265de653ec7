"""apt_sources: both source formats, options in brackets, security suites, the env overrides."""

import os
import tempfile
import unittest

from rules.private.tools import apt_sources


def tree(files):
    root = tempfile.mkdtemp()
    for path, text in files.items():
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return root


class AptSourcesTest(unittest.TestCase):
    def test_deb822(self):
        root = tree({"etc/apt/sources.list.d/debian.sources": (
            "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
            "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
            "Types: deb\nURIs: http://mirror.example/debian-security/\nSuites: bookworm-security\n"
            "Components: main\n\n"
            "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\nComponents: main\n\n"
            "Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\n")})
        archive, security, keyring = apt_sources.host_mirrors(root)
        self.assertEqual(archive, ["http://mirror.example/debian"])
        self.assertEqual(security, ["http://mirror.example/debian-security"])
        self.assertEqual(keyring, "/usr/share/keyrings/debian-archive-keyring.gpg")

    def test_one_line_with_options(self):
        # The options in brackets hold spaces: their words are not URIs.
        root = tree({"etc/apt/sources.list": (
            "# a comment\n"
            "deb [a=1 b=2 signed-by=/k.gpg] http://one.example/debian bookworm main\n"
            "deb http://one.example/debian-security bookworm-security main\n"
            "deb-src http://one.example/debian bookworm main\n")})
        archive, security, keyring = apt_sources.host_mirrors(root)
        self.assertEqual(archive, ["http://one.example/debian"])
        self.assertEqual(security, ["http://one.example/debian-security"])
        self.assertEqual(keyring, "/k.gpg")

    def test_env_overrides(self):
        root = tree({"etc/apt/sources.list": "deb http://one.example/debian bookworm main\n"})
        archive, security, _ = apt_sources.mirrors(root, {"PYIMAGE_DEBIAN_MIRROR": "http://m.example/d/",
                                                          "PYIMAGE_DEBIAN_SECURITY_MIRROR": "http://s.example/"})
        self.assertEqual((archive, security), (["http://m.example/d"], ["http://s.example"]))

    def test_nothing(self):
        self.assertEqual(apt_sources.host_mirrors(tree({})), ([], [], None))


if __name__ == "__main__":
    unittest.main(verbosity=2)
