"""The reference in docs/ names every public attribute and macro argument, so it cannot drift.

When this fails, add the named attribute or argument to the reference page of its rule or macro
(docs/toolchain.md, docs/debian.md, docs/python.md, docs/image.md), with what it does.
"""

import ast
import re
import sys
import unittest

PAGES = ["docs/toolchain.md", "docs/debian.md", "docs/python.md", "docs/image.md"]
SOURCES = {
    "toolchains/private/cpython.bzl": ["rule"],
    "rules/repositories.bzl": ["macro"],
    "rules/private/debian.bzl": ["rule", "macro"],
    "rules/private/listing.bzl": ["macro"],
    "rules/private/pip.bzl": ["rule", "macro"],
    "rules/private/pex.bzl": ["rule"],
    "rules/private/image.bzl": ["rule", "macro"],
    "rules/private/builder.bzl": ["rule"],
    "rules/private/digests.bzl": ["macro"],
}


def rule_attributes(text):
    """Public attribute names of every rule(...) in a .bzl file."""
    names = set()
    for block in re.findall(r"attrs = \{(.*?)\n    \},\n\)", text, re.S):
        names.update(n for n in re.findall(r'^        "([a-z][a-z0-9_]*)": attr\.', block, re.M))
    return names


def macro_arguments(text):
    """Argument names of the public functions of a .bzl file (Starlark parses as Python here)."""
    names = set()
    for node in ast.parse(text).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            names.update(a.arg for a in node.args.args)
    return names


class DocsTest(unittest.TestCase):
    def test_every_public_name_is_documented(self):
        doc = ""
        for page in PAGES:
            with open(page) as f:
                doc += f.read()
        for source, kinds in SOURCES.items():
            with open(source) as f:
                text = f.read()
            for kind in kinds:
                names = rule_attributes(text) if kind == "rule" else macro_arguments(text)
                self.assertTrue(names, "found no %s names in %s" % (kind, source))
                missing = sorted(n for n in names if "`%s`" % n not in doc)
                self.assertEqual(missing, [], "document these %s names of %s in docs/" % (kind, source))


if __name__ == "__main__":
    unittest.main(verbosity=2)
