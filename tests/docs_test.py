"""The reference in docs/ names every public attribute and macro argument, so it cannot drift.

When this fails, add the named attribute or argument to the page it names (with what it does).
"""

import ast
import re
import sys
import unittest

PAGES = {
    "docs/toolchain.md": {
        "toolchains/private/cpython.bzl": "rule",
        "rules/repositories.bzl": "macro",
    },
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
        for page, sources in PAGES.items():
            with open(page) as f:
                doc = f.read()
            for source, kind in sources.items():
                with open(source) as f:
                    text = f.read()
                names = rule_attributes(text) if kind == "rule" else macro_arguments(text)
                self.assertTrue(names, "found no %s names in %s" % (kind, source))
                missing = sorted(n for n in names if "`%s`" % n not in doc)
                self.assertEqual(missing, [], "%s: document these %s names of %s" % (page, kind, source))


if __name__ == "__main__":
    unittest.main(verbosity=2)
