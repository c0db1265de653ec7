#!/usr/bin/env bash
# Remote-execution readiness, read from the action graph (bazel aquery, no build): the command
# lines and environments of the rules' actions name no absolute path of this host (only paths
# inside the image, under /opt/<org>), none asks for the network, and every one can be cached
# and run remotely (no no-remote/no-cache/local tag). Every one but the builder's runs the compiled
# CPython itself (argv[0]), not a py_binary stub that would need a python3 on the host or worker;
# the compiles (CPythonBuild, BuildWheel, and RepairWheel, which judges what BuildWheel made) run in_builder.sh, whose other absolute paths are inside
# the hermetic builder, and BuilderRootfs runs builder_rootfs.py.
# Inputs being complete and the network not
# needed are shown by building in the sandbox: tests/e2e/reproducible_outputs_test.sh.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bazel aquery --disk_cache="$DISK_CACHE" 'deps(//app:image) union deps(//app:app_pex) union deps(//tests/pip:artifacts_test)' \
  --output=jsonproto >"$SCRATCH/aquery.json" 2>"$SCRATCH/aquery.log" || { tail -n 20 "$SCRATCH/aquery.log" >&2; fail "bazel aquery failed"; }
python3 - "$SCRATCH/aquery.json" <<'PY' || exit 1
import json, re, sys
graph = json.load(open(sys.argv[1]))
OURS = {"CPythonBuild", "BuilderRootfs", "DebianRootfs", "BuildWheel", "RepairWheel", "UnpackWheel", "PexBuild", "ImageVenv", "ImageApp",
        "ImageLibCheck", "LayerGzip", "ImageAssemble"}
STRICT_PATH = "/bin:/usr/bin:/usr/local/bin"  # --incompatible_strict_action_env
BUILDER = {"CPythonBuild": "in_builder.sh", "BuildWheel": "in_builder.sh", "RepairWheel": "in_builder.sh",
           "BuilderRootfs": "builder_rootfs.py"}
# Paths inside the hermetic builder (its own programs, the inputs copied in, the results).
INSIDE_BUILDER = ("/pyimage-in/", "/pyimage-out", "/pyimage-tools/", "/bin/bash", "/build")
ABS = re.compile(r"(?:^|[\s=:,'\"])(/[A-Za-z0-9._-]+(?:/[^\s:,'\"]*)?)")
problems, seen = [], set()
for a in graph["actions"]:
    m = a["mnemonic"]
    if m not in OURS:
        continue
    seen.add(m)
    argv = a.get("arguments", [])
    inside = ()
    if m in BUILDER:
        if not re.match(r"^(external/rules_pyimage/)?rules/private/tools/%s$" % BUILDER[m], argv[0]):
            problems.append("%s: runs %s, not %s" % (m, argv[0], BUILDER[m]))
        inside = INSIDE_BUILDER
    elif not re.match(r"^bazel-out/[^/]+/bin/external/pyimage_python/cpython_[0-9_]+/bin/python3$", argv[0]):
        problems.append("%s: runs %s, not the compiled CPython" % (m, argv[0]))
    texts = list(argv)
    texts += ["%s=%s" % (e["key"], e["value"]) for e in a.get("environmentVariables", [])
              if not (e["key"] == "PATH" and e["value"] == STRICT_PATH)]
    for t in texts:
        for path in ABS.findall(t):
            if not path.startswith(("/opt/",) + inside):
                problems.append("%s: host path %s in %r" % (m, path, t[:120]))
    for e in a.get("executionInfo", []):
        if e["key"] in ("requires-network", "no-remote", "no-remote-exec", "no-cache", "no-remote-cache", "local"):
            problems.append("%s: execution requirement %s" % (m, e["key"]))
# The builder is an input of the compiles and of nothing else: a builder update changes their
# cache keys (and what is built on them), no other action's.
fragments = {f["id"]: f for f in graph.get("pathFragments", [])}
def exec_path(art):
    if "execPath" in art:
        return art["execPath"]
    parts, fid = [], art.get("pathFragmentId")
    while fid:
        parts.append(fragments[fid]["label"])
        fid = fragments[fid].get("parentId")
    return "/".join(reversed(parts))
paths = {a["id"]: exec_path(a) for a in graph.get("artifacts", [])}
depsets = {d["id"]: d for d in graph.get("depSetOfFiles", [])}
def inputs(action):
    todo, seen_sets, out = list(action.get("inputDepSetIds", [])), set(), set()
    while todo:
        d = todo.pop()
        if d in seen_sets:
            continue
        seen_sets.add(d)
        out.update(paths[i] for i in depsets[d].get("directArtifactIds", []))
        todo.extend(depsets[d].get("transitiveDepSetIds", []))
    return out
users = sorted({a["mnemonic"] for a in graph["actions"] if any(p.endswith("/pyimage_python/builder.tar") for p in inputs(a))})
if users != ["BuildWheel", "CPythonBuild", "RepairWheel"]:
    problems.append("the builder should be an input of BuildWheel, CPythonBuild and RepairWheel only, not of %s" % users)
missing = OURS - seen
if missing:
    problems.append("not in the graph (the check would miss them): %s" % ", ".join(sorted(missing)))
if problems:
    sys.exit("FAIL:\n  " + "\n  ".join(problems))
print("ok: %d kinds of action (%s): no host path, no network, all cacheable and remote-executable; the compiles run in the hermetic builder, which is an input of theirs only, the rest on the compiled CPython"
      % (len(seen), ", ".join(sorted(seen))))
PY

# One CPython compile per version for everything `bazel test //...` builds (images, the rules'
# tools, py_binary and py_test, lock targets; not the targets tagged manual, such as bench/'s
# interpreters), on Bazel 4.2.3 (WORKSPACE) and on Bazel 7.7.1 (bzlmod, tools/bazel7.sh): the
# tools are built in the exec configuration and the interpreter only there (cpython_exec), with
# no host configuration anywhere.
EVERYTHING='deps(//... except attr(tags, "\bmanual\b", //...))'
count_compiles() {  # count_compiles AQUERY_TEXT_FILE: "VERSION COUNT" lines (not bench/'s own builds; 3.14.7t for
  # the free-threaded build, whose message says "Compiling CPython 3.14.7 (free-threaded)")
  grep -E "^action 'Compiling CPython [0-9.]+ " "$1" | grep -vE "\((@@?)?//bench:" \
    | awk '{print $4 ($5 == "(free-threaded)" ? "t" : "")}' | sort | uniq -c | awk '{print $2, $1}'
}
want="$(printf '%s 1\n' 3.11.2 3.13.15 3.14.7 3.14.7t)"
bazel aquery "mnemonic(CPythonBuild, $EVERYTHING)" --output=text >"$SCRATCH/compiles4.txt" 2>"$SCRATCH/compiles4.log" \
  || { tail -n 20 "$SCRATCH/compiles4.log" >&2; fail "bazel aquery (Bazel 4) failed"; }
[[ "$(count_compiles "$SCRATCH/compiles4.txt")" == "$want" ]] \
  || fail "Bazel 4: CPythonBuild actions per version for //... are: $(count_compiles "$SCRATCH/compiles4.txt" | tr '\n' ' ')(want each once)"
tools/bazel7.sh aquery "mnemonic(CPythonBuild, $EVERYTHING)" --output=text >"$SCRATCH/compiles7.txt" 2>"$SCRATCH/compiles7.log" \
  || { tail -n 20 "$SCRATCH/compiles7.log" >&2; fail "bazel aquery (Bazel 7, bzlmod) failed"; }
[[ "$(count_compiles "$SCRATCH/compiles7.txt")" == "$want" ]] \
  || fail "Bazel 7: CPythonBuild actions per version for //... are: $(count_compiles "$SCRATCH/compiles7.txt" | tr '\n' ' ')(want each once)"
grep -q 'Configuration: .*-exec-' "$SCRATCH/compiles7.txt" || fail "Bazel 7: the compiles are not in the exec configuration"
echo "ok: //... compiles each of 3.11.2, 3.13.15, 3.14.7 and the free-threaded 3.14.7t once on Bazel 4 and once on Bazel 7 (bzlmod), in the exec configuration"
