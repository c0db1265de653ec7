"""docs/reference.md from the doc strings of rules_pyimage's public .bzl files.

In:  the rules' sources (//rules:srcs; the .bzl files of SOURCES and those rules/defs.bzl loads
     are read, as Python: Starlark parses as Python); every public rule, macro, tag class,
     provider and attribute there must have a doc string.
Out: `update` writes docs/reference.md (under BUILD_WORKSPACE_DIRECTORY: the source tree);
     `check` fails, with a diff and the update command, when the committed file differs from
     what would be written, or when a public name has no doc string.

Usage: gen_reference.py update|check --reference FILE --srcs PATH ... [--update-command CMD]
"""

import argparse
import ast
import difflib
import os
import re
import sys

# (path in the repository, heading, the load line users write)
SOURCES = [
    ("rules/defs.bzl", "Rules and macros", 'load("@rules_pyimage//rules:defs.bzl", ...)'),
    ("rules/extensions.bzl", "Module extension (bzlmod)", 'pyimage = use_extension("@rules_pyimage//rules:extensions.bzl", "pyimage")'),
    ("rules/repositories.bzl", "WORKSPACE macros", 'load("@rules_pyimage//rules:repositories.bzl", ...)'),
    ("rules/private/toolchain.bzl", "Toolchain rules (declared by the generated toolchains repository)", None),
    ("rules/private/providers.bzl", "Providers", 'load("@rules_pyimage//rules:defs.bzl", "CPythonInfo", ...)'),
]


def defs_files(defs_text):
    """The files behind rules/defs.bzl's re-exports: those it loads, but the ones SOURCES
    documents under their own heading (the providers)."""
    own = {path for path, _, _ in SOURCES}
    loaded = re.findall(r'^load\("//([^:"]*):([^"]+\.bzl)"', defs_text, re.M)
    return [p for p in ("%s/%s" % pair for pair in loaded) if p not in own]


class Missing(Exception):
    pass


def text_of(node):
    """A doc string argument: a literal, or the source of an expression built from literals."""
    try:
        value = ast.literal_eval(node)
        if isinstance(value, str):
            return value
    except ValueError:
        pass
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return text_of(node.left) + text_of(node.right)
    return ast.unparse(node)


def kwargs(call):
    return {k.arg: k.value for k in call.keywords if k.arg}


def call_name(node):
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name):
            return f.id
        if isinstance(f, ast.Attribute):
            return ast.unparse(f)
    return None


def attrs_table(attrs_node, owner, problems):
    rows = []
    if not isinstance(attrs_node, ast.Dict):
        return rows
    for key, value in zip(attrs_node.keys, attrs_node.values):
        name = ast.literal_eval(key)
        if name.startswith("_"):
            continue
        kind, doc, default, mandatory = "?", "", "", False
        if isinstance(value, ast.Call):
            kind = ast.unparse(value.func).replace("attr.", "")
            kw = kwargs(value)
            doc = text_of(kw["doc"]) if "doc" in kw else ""
            default = ast.unparse(kw["default"]) if "default" in kw else ""
            mandatory = "mandatory" in kw and ast.unparse(kw["mandatory"]) == "True"
        if not doc:
            problems.append("%s: attribute '%s' has no doc" % (owner, name))
        rows.append((name, kind, "mandatory" if mandatory else (default or "-"), " ".join(doc.split())))
    return rows


def exports(text):
    """The names rules/defs.bzl re-exports (`name = _name`)."""
    return {n.targets[0].id for n in ast.parse(text).body
            if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name)}


def document(path, text, problems, only=None):
    """Markdown sections for the public rules, macros, tag classes and providers of one file
    (those named in `only`, when given)."""
    tree = ast.parse(text)
    sections, tags = [], {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
            kind = call_name(value)
            if kind == "tag_class":
                tags[name] = value
                continue
            if kind not in ("rule", "provider", "module_extension") or name.startswith("_"):
                continue
            if only is not None and name not in only:
                continue
            kw = kwargs(value)
            doc = text_of(kw["doc"]) if "doc" in kw else ""
            if not doc:
                problems.append("%s: %s '%s' has no doc" % (path, kind, name))
            out = ["### `%s` (%s)" % (name, kind.replace("module_extension", "module extension")), "", doc.strip(), ""]
            if kind == "rule":
                rows = attrs_table(kw.get("attrs"), "%s %s" % (path, name), problems)
                if rows:
                    out += ["| attribute | type | default | |", "|---|---|---|---|"]
                    out += ["| `%s` | %s | `%s` | %s |" % (n, k, d, doc) if d != "mandatory" and d != "-" else
                            "| `%s` | %s | %s | %s |" % (n, k, d, doc) for n, k, d, doc in rows]
                    out.append("")
            if kind == "provider" and isinstance(kw.get("fields"), ast.Dict):
                out += ["| field | |", "|---|---|"]
                for key, val in zip(kw["fields"].keys, kw["fields"].values):
                    out.append("| `%s` | %s |" % (ast.literal_eval(key), " ".join(text_of(val).split())))
                out.append("")
            if kind == "module_extension":
                for key, val in zip(kw["tag_classes"].keys, kw["tag_classes"].values):
                    tag = tags[val.id]
                    tkw = kwargs(tag)
                    tdoc = text_of(tkw["doc"]) if "doc" in tkw else ""
                    if not tdoc:
                        problems.append("%s: tag class '%s' has no doc" % (path, ast.literal_eval(key)))
                    out += ["#### `%s.%s(...)` (tag class)" % (name, ast.literal_eval(key)), "", tdoc.strip(), ""]
                    rows = attrs_table(tkw.get("attrs"), "%s tag %s" % (path, ast.literal_eval(key)), problems)
                    out += ["| attribute | type | default | |", "|---|---|---|---|"]
                    out += ["| `%s` | %s | %s | %s |" % (n, k, d if d in ("mandatory", "-") else "`%s`" % d, doc) for n, k, d, doc in rows]
                    out.append("")
            sections.append("\n".join(out))
        elif isinstance(node, ast.FunctionDef) and not node.name.startswith("_") and (only is None or node.name in only):
            doc = ast.get_docstring(node) or ""
            if not doc:
                problems.append("%s: macro '%s' has no doc string" % (path, node.name))
            sig = ", ".join(a.arg for a in node.args.args)
            sections.append("\n".join(["### `%s(%s)` (macro)" % (node.name, sig), "", doc.strip(), ""]))
    return sections


def generate(files):
    problems = []
    out = [
        "# rules_pyimage reference",
        "",
        "Generated from the doc strings of the .bzl files by `docs/gen_reference.py`: do not edit.",
        "`bazel run //docs:reference.update` writes it again; `bazel test //docs:reference_test` fails",
        "when it differs from the sources. The guides (docs/toolchain.md, debian.md, python.md,",
        "image.md, team.md) say how the pieces fit together.",
        "",
    ]
    with open(files["rules/defs.bzl"]) as f:
        defs_text = f.read()
    public = exports(defs_text)
    defs = defs_files(defs_text)
    for path, heading, load in SOURCES:
        out += ["## %s" % heading, ""]
        if load:
            out += ["    " + load, ""]
        paths = defs if path == "rules/defs.bzl" else [path]
        for p in paths:
            only = public if p in defs or p == "rules/private/providers.bzl" else None
            with open(files[p]) as f:
                out += document(p, f.read(), problems, only)
    if problems:
        raise Missing("\n  ".join(["public names without a doc string:"] + problems))
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(usage=__doc__)
    parser.add_argument("mode", choices=["update", "check"])
    parser.add_argument("--reference", required=True)
    parser.add_argument("--srcs", nargs="+", default=[], help="the rules' sources (//rules:srcs), by their path in the repository")
    parser.add_argument("--update-command", default="bazel run //docs:reference.update")
    args = parser.parse_args(argv)
    files = {p: p for p in args.srcs if p.endswith(".bzl")}
    try:
        want = generate(files)
    except Missing as err:
        sys.exit("ERROR: %s" % err)
    if args.mode == "check":
        with open(args.reference) as f:
            have = f.read()
        if have != want:
            diff = difflib.unified_diff(have.splitlines(True), want.splitlines(True), "docs/reference.md (committed)", "docs/reference.md (from the sources)")
            sys.stdout.writelines(list(diff)[:200])
            sys.exit("ERROR: docs/reference.md is out of date with the .bzl doc strings; run: %s" % args.update_command)
        print("ok: docs/reference.md matches the doc strings of %d files" % len(files))
        return
    path = os.path.join(os.environ.get("BUILD_WORKSPACE_DIRECTORY", ""), args.reference)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(want)
    os.replace(tmp, path)
    print("wrote %s" % path)


if __name__ == "__main__":
    main()
