#!/usr/bin/env bash
# rules_pyimage as a library, from a team's own workspace (tests/e2e/consumer): its own names for
# every repository (@cpython, @os_base, @wheels), its own Debian package list and requirements,
# both locks starting from empty files, CPython 3.11 only (not the rules' default), Pillow (a
# wheel that vendors shared libraries) and markupsafe built from its sdist.
#
#  1. Bazel 4.2.3, WORKSPACE: lock both (bazel run ...update), build //app:image, run it with
#     podman as 65532, check what it prints;
#  2. Bazel 7.7.1 (tools/bazel7.sh), bzlmod (MODULE.bazel), the same locks: build //app:image;
#  3. the two manifest digests are equal, and so are the SBOMs, provenance statements and size reports;
#     the SBOM lists the consumer's own packages; `bazel run //:outdated` reports on its locks.
# And //svc, a service locked with uv: its uv.lock (from pyproject.toml) and a PEP 751 pylock.toml
# are written by their wheel_lock targets (uv), checked by their tests, fetched by hash and run;
# a tampered hash fails the fetch and a dependency added to pyproject.toml fails the lock test,
# each naming the update command; Bazel 7 builds the same //svc:image.
# Each Bazel builds cold in an output base of its own (the disk cache is shared, but no key of one
# Bazel matches the other's: paths and configuration names differ).
source "$(dirname "$0")/lib.sh"

RULES="$SCRATCH/rules_pyimage"
WS="$SCRATCH/consumer"
clone_to "$RULES"
mkdir -p "$WS"
cp -r "$ROOT/tests/e2e/consumer/." "$WS/"
sed -i "s|@RULES_PYIMAGE@|$RULES|" "$WS/MODULE.bazel" "$WS/WORKSPACE"
[[ ! -s "$WS/base/base.lock.json" && ! -s "$WS/app/requirements.lock.txt" && ! -s "$WS/svc/uv.lock" && ! -s "$WS/svc/pylock.toml" ]] \
  || fail "the consumer's locks must start empty"

# --- 1. Bazel 4, WORKSPACE -------------------------------------------------------------------------
cd "$WS"
bz 4 run --disk_cache="$DISK_CACHE" //base:base.update >"$SCRATCH/lock-base.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/lock-base.log" >&2; fail "bazel run //base:base.update (from an empty lock) failed"; }
grep -q '"libtirpc3"' base/base.lock.json || fail "base.lock.json does not pin libtirpc3"
bz 4 run --disk_cache="$DISK_CACHE" //app:requirements.update >"$SCRATCH/lock-req.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/lock-req.log" >&2; fail "bazel run //app:requirements.update (from an empty lock) failed"; }
grep -q '^pillow==' app/requirements.lock.txt && grep -q '^markupsafe==' app/requirements.lock.txt \
  || fail "requirements.lock.txt lacks pillow or markupsafe: $(cat app/requirements.lock.txt)"
bz 4 test --disk_cache="$DISK_CACHE" //base:base_test //app:requirements_test >"$SCRATCH/lock-tests.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/lock-tests.log" >&2; fail "the consumer's lock tests fail right after the update"; }

# //svc: a uv.lock and a pylock.toml, written from empty files by uv, then checked, fetched and run.
for lock in lock pylock; do
  bz 4 run --disk_cache="$DISK_CACHE" "//svc:$lock.update" >"$SCRATCH/svc-$lock.log" 2>&1 \
    || { tail -n 30 "$SCRATCH/svc-$lock.log" >&2; fail "bazel run //svc:$lock.update (from an empty lock) failed"; }
done
grep -q '^name = "rich"' svc/uv.lock && grep -q '^source = { virtual = "." }' svc/uv.lock || fail "svc/uv.lock is not uv's lock of the project: $(head -c 600 svc/uv.lock)"
grep -q '^lock-version = "1.0"' svc/pylock.toml && grep -q '^name = "urllib3"' svc/pylock.toml || fail "svc/pylock.toml is not a PEP 751 lock with urllib3"
bz 4 test --disk_cache="$DISK_CACHE" //svc:lock_test //svc:pylock_test >"$SCRATCH/svc-tests.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/svc-tests.log" >&2; fail "//svc's lock tests fail right after the update"; }
bz 4 run --disk_cache="$DISK_CACHE" //svc:main >"$SCRATCH/svc-run.log" 2>"$SCRATCH/svc-run.err" \
  || { tail -n 30 "$SCRATCH/svc-run.err" "$SCRATCH/svc-run.log" >&2; fail "bazel run //svc:main failed"; }
for want in "rich $(sed -n '/^name = "rich"/{n;s/version = "\(.*\)"/\1/p}' svc/uv.lock)" \
    "urllib3 $(sed -n '/^name = "urllib3"/{n;s/version = "\(.*\)"/\1/p}' svc/pylock.toml)" "markdown-it "; do
  grep -q "^$want" "$SCRATCH/svc-run.log" || { cat "$SCRATCH/svc-run.log" >&2; fail "//svc:main does not print '$want'"; }
done
echo "ok: //svc from a uv.lock and a pylock.toml (written by uv, tested, fetched by hash): $(tr '\n' ' ' <"$SCRATCH/svc-run.log")"
# Every hash of mdurl in uv.lock tampered (with one file of it left, the fetch would take that one):
# the fetch refuses what the index serves, naming the lock's update command.
cp svc/uv.lock "$SCRATCH/uv.lock.good"
python3 - svc/uv.lock <<'PY'
import re, sys
text = open(sys.argv[1]).read()
start = text.index('name = "mdurl"')
end = text.find("[[package]]", start)
end = len(text) if end < 0 else end
block = re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, text[start:end])
assert block != text[start:end]
open(sys.argv[1], "w").write(text[:start] + block + text[end:])
PY
if bz 4 build --disk_cache="$DISK_CACHE" //svc:main >"$SCRATCH/svc-tampered.log" 2>&1; then fail "//svc:main built from a uv.lock with a tampered hash"; fi
grep -q "which the lock does not list; the file is refused" "$SCRATCH/svc-tampered.log" && grep -qF "bazel run //svc:lock.update" "$SCRATCH/svc-tampered.log" \
  || { tail -n 20 "$SCRATCH/svc-tampered.log" >&2; fail "a tampered uv.lock did not fail naming the refused file and //svc:lock.update"; }
cp "$SCRATCH/uv.lock.good" svc/uv.lock
# A dependency added to pyproject.toml without relocking: the lock test fails naming the update.
cp svc/pyproject.toml "$SCRATCH/pyproject.good"
sed -i 's/^dependencies = \["rich"\]/dependencies = ["rich", "attrs"]/' svc/pyproject.toml
if bz 4 test --disk_cache="$DISK_CACHE" //svc:lock_test >"$SCRATCH/svc-stale.log" 2>&1; then fail "//svc:lock_test passed with attrs added to pyproject.toml"; fi
grep -qF "Run: bazel run //svc:lock.update" "$(bz 4 info bazel-testlogs 2>/dev/null)/svc/lock_test/test.log" \
  || fail "the stale uv.lock's test does not name bazel run //svc:lock.update"
cp "$SCRATCH/pyproject.good" svc/pyproject.toml
echo "ok: a tampered uv.lock fails the fetch, a stale one its test, each naming bazel run //svc:lock.update"
bz 4 build --disk_cache="$DISK_CACHE" --output_groups=+digest //svc:image //svc:image.sbom >"$SCRATCH/svc-image4.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/svc-image4.log" >&2; fail "Bazel 4: bazel build //svc:image failed"; }
S4="$(cat "$(bz 4 info bazel-bin 2>/dev/null)/svc/image.digest")"
# Its SBOM lists what each lock brought, at the locked versions, and nothing of the dev group.
python3 - "$(bz 4 info bazel-bin 2>/dev/null)/svc/image.spdx.json" svc/uv.lock svc/pylock.toml <<'PY' || fail "//svc:image's SBOM does not list what its locks hold"
import json, re, sys, tomllib
norm = lambda name: re.sub(r"[-_.]+", "-", name).lower()
doc = json.load(open(sys.argv[1]))
listed = {norm(p["name"]): p.get("versionInfo") for p in doc["packages"]}
uv = {norm(p["name"]): p["version"] for p in tomllib.load(open(sys.argv[2], "rb"))["package"] if "registry" in p.get("source", {})}
pylock = {norm(p["name"]): p["version"] for p in tomllib.load(open(sys.argv[3], "rb"))["packages"]}
want = {n: uv[n] for n in ("rich", "markdown-it-py", "mdurl", "pygments")}
want.update(pylock)
for name, version in want.items():
    assert listed.get(name) == version, (name, version, listed.get(name))
assert "pytest" in uv and "pytest" not in listed, "the dev group's pytest is in the image"
print("ok: //svc:image's SBOM lists %s at their locked versions, and not the dev group's pytest" % ", ".join(sorted(want)))
PY

bz 4 build --disk_cache="$DISK_CACHE" --output_groups=+digest --execution_log_json_file="$SCRATCH/exec4.json" \
  //app:image //app:image.tar //app:app //app:image.sbom //app:image.provenance //app:image.sizes >"$SCRATCH/build4.log" 2>&1 \
  || { tail -n 40 "$SCRATCH/build4.log" >&2; fail "Bazel 4: bazel build //app:image failed"; }
BIN4="$(bz 4 info bazel-bin 2>/dev/null)"
D4="$(cat "$BIN4/app/image.digest")"
# The fleet: two images on one fleet_base share the base, python, venv and markupsafe layers.
bz 4 build --disk_cache="$DISK_CACHE" --output_groups=+digest //app:fleet >"$SCRATCH/fleet4.log" 2>&1 \
  || { tail -n 40 "$SCRATCH/fleet4.log" >&2; fail "Bazel 4: bazel build //app:fleet failed"; }
fleet_layers() {  # fleet_layers BIN: "NAME DIGEST" per layer of both fleet images, then a check
  python3 - "$1/app/app_in_fleet" "$1/app/tool_in_fleet" <<'PY'
import json, os, sys
def layers(layout):
    blob = lambda d: os.path.join(layout, "blobs", "sha256", d.split(":")[1])
    manifest = json.load(open(blob(json.load(open(os.path.join(layout, "index.json")))["manifests"][0]["digest"])))
    config = json.load(open(blob(manifest["config"]["digest"])))
    return {h["created_by"].split(": ", 1)[1]: l["digest"] for h, l in zip(config["history"], manifest["layers"])}
app, tool = layers(sys.argv[1]), layers(sys.argv[2])
assert sorted(tool) == ["app", "base", "python", "venv", "venv-markupsafe"], sorted(tool)
assert "venv-pillow" in app, sorted(app)
for name in ["base", "python", "venv", "venv-markupsafe"]:
    assert app[name] == tool[name], name
print("ok: the consumer's fleet: base, python, venv and markupsafe are one layer in both images (%s)" % ", ".join(
    "%s %s" % (n, tool[n][7:19]) for n in ["base", "venv-markupsafe"]))
PY
}
fleet_layers "$BIN4" || fail "Bazel 4: the consumer's fleet images do not share their layers"
F4="$(cat "$BIN4/app/app_in_fleet.digest" "$BIN4/app/tool_in_fleet.digest")"
# One CPython compile (3.11.2), whatever ran or was cached; BuildWheel for markupsafe on 3.11.
bz 4 aquery 'mnemonic(CPythonBuild, deps(//app:image + //app:app + //app:requirements_test))' --output=text >"$SCRATCH/aquery4.txt" 2>&1 \
  || { tail -n 20 "$SCRATCH/aquery4.txt" >&2; fail "Bazel 4: bazel aquery failed"; }
n4="$(grep -c '^action ' "$SCRATCH/aquery4.txt" || true)"
[[ "$n4" == 1 ]] || fail "Bazel 4: $n4 CPythonBuild actions for the image, the binary and the lock test (want 1)"
[[ "$(spawn_status "$SCRATCH/exec4.json" BuildWheel)" != absent ]] || fail "Bazel 4: markupsafe was not built from its sdist"

trap 'podman_ system reset -f >/dev/null 2>&1 || true; cleanup' EXIT
podman_ load -i "$BIN4/app/image.tar" >"$SCRATCH/load.log" 2>&1 || { cat "$SCRATCH/load.log" >&2; fail "podman load failed"; }
podman_ run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --read-only --tmpfs /tmp \
  --cap-drop=ALL --security-opt no-new-privileges consumer/app:latest >"$SCRATCH/run.log" 2>&1 \
  || { cat "$SCRATCH/run.log" >&2; fail "podman run consumer/app failed"; }
expect_in "$SCRATCH/run.log" "python 3.11.2"
expect_in "$SCRATCH/run.log" "png True zlib True jpg True"
expect_in "$SCRATCH/run.log" "speedups True &lt;ok&gt;"
uid="$(podman_ run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --entrypoint /opt/pyimage/python/bin/python3 consumer/app:latest -c 'import os; print(os.getuid())' 2>&1)" \
  || fail "podman run of the consumer's interpreter failed: $uid"
[[ "$uid" == 65532 ]] || fail "the consumer's image runs as '$uid', not 65532"
# The SBOM lists the consumer's own base, interpreter and wheels, markupsafe as built from its sdist.
python3 - "$BIN4/app/image.spdx.json" base/base.lock.json "$D4" "$BIN4/app/image.base_removed.txt" <<'PY' || fail "the consumer's SBOM does not list what its image holds"
import json, re, sys
doc, lock, digest = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
left_out = set(re.findall(r"var/lib/dpkg/status\.d/([^/\s]+?)(?<!\.md5sums)$", open(sys.argv[4]).read(), re.M))
names = {p["name"]: p for p in doc["packages"]}
assert names["consumer/app:latest"]["checksums"][0]["checksumValue"] == digest.split(":")[1]
assert names["CPython"]["versionInfo"] == "3.11.2", names["CPython"]
assert {p["name"] for p in lock["packages"]} - left_out <= set(names), "Debian packages missing"
assert not left_out & set(names), "packages trim_base left out are listed: %s" % (left_out & set(names))
built = [r["spdxElementId"] for r in doc["relationships"] if r["relationshipType"] == "GENERATED_FROM"]
assert "SPDXRef-pypi-markupsafe" in built and "SPDXRef-pypi-pillow" not in built, built
assert "pillow" in {p["name"].lower() for p in doc["packages"]}
print("ok: the consumer's SBOM: %d packages, CPython 3.11.2, markupsafe from its sdist, Pillow's wheel" % len(doc["packages"]))
PY
# `bazel run //:outdated` on the consumer's locks: a report (exit 0, or 1 for a pending security
# update), never an error.
set +e
bz 4 run --disk_cache="$DISK_CACHE" //:outdated >"$SCRATCH/outdated.log" 2>&1
rc=$?
set -e
[[ $rc -le 1 ]] || { tail -n 30 "$SCRATCH/outdated.log" >&2; fail "bazel run //:outdated exited $rc"; }
grep -qF "4 locks (//app:requirements, //base:base, //svc:lock, //svc:pylock)" "$SCRATCH/outdated.log" \
  || { tail -n 30 "$SCRATCH/outdated.log" >&2; fail "bazel run //:outdated did not report on the consumer's four locks"; }
echo "ok: bazel run //:outdated in the consumer (exit $rc): $(tail -n 1 "$SCRATCH/outdated.log")"

# --- 2. Bazel 7, bzlmod ----------------------------------------------------------------------------
B7=("$ROOT/tools/bazel7.sh")
# Bazel 7's output base for this scratch workspace lives under tools/bazel7.sh's output user root.
trap '"${B7[@]}" clean --expunge >/dev/null 2>&1 || true; podman_ system reset -f >/dev/null 2>&1 || true; cleanup' EXIT
# --output_groups=+digest: Bazel 7 takes from the disk cache only the outputs asked for.
"${B7[@]}" build --disk_cache="$DISK_CACHE" --output_groups=+digest //app:image //app:image.tar //app:app \
  //app:image.sbom //app:image.provenance //app:image.sizes >"$SCRATCH/build7.log" 2>&1 \
  || { tail -n 40 "$SCRATCH/build7.log" >&2; fail "Bazel 7 (bzlmod): bazel build //app:image failed"; }
BIN7="$("${B7[@]}" info bazel-bin 2>"$SCRATCH/info7.log")" || { cat "$SCRATCH/info7.log" >&2; fail "Bazel 7: bazel info bazel-bin failed"; }
[[ -f "$BIN7/app/image.digest" ]] || { ls -la "$BIN7" "$BIN7/app" >&2 || true; tail -n 20 "$SCRATCH/build7.log" >&2; fail "Bazel 7: no $BIN7/app/image.digest"; }
D7="$(cat "$BIN7/app/image.digest")"
"${B7[@]}" aquery 'mnemonic(CPythonBuild, deps(//app:image + //app:app + //app:requirements_test))' --output=text >"$SCRATCH/aquery7.txt" 2>&1 \
  || { tail -n 20 "$SCRATCH/aquery7.txt" >&2; fail "Bazel 7: bazel aquery failed"; }
n7="$(grep -c '^action ' "$SCRATCH/aquery7.txt" || true)"
[[ "$n7" == 1 ]] || fail "Bazel 7: $n7 CPythonBuild actions for the image, the binary and the lock test (want 1)"
"${B7[@]}" test --disk_cache="$DISK_CACHE" //base:base_test //app:requirements_test //svc:lock_test //svc:pylock_test >"$SCRATCH/lock-tests7.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/lock-tests7.log" >&2; fail "Bazel 7: the consumer's lock tests fail"; }
"${B7[@]}" build --disk_cache="$DISK_CACHE" --output_groups=+digest //svc:image >"$SCRATCH/svc-image7.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/svc-image7.log" >&2; fail "Bazel 7 (bzlmod): bazel build //svc:image failed"; }
S7="$(cat "$BIN7/svc/image.digest")"
[[ "$S4" == "$S7" ]] || fail "//svc:image from the uv.lock and pylock.toml differs: Bazel 4 $S4, Bazel 7 $S7"
echo "ok: //svc:image (uv.lock and pylock.toml) is $S7 on Bazel 4 and Bazel 7"

"${B7[@]}" build --disk_cache="$DISK_CACHE" --output_groups=+digest //app:fleet >"$SCRATCH/fleet7.log" 2>&1 \
  || { tail -n 40 "$SCRATCH/fleet7.log" >&2; fail "Bazel 7 (bzlmod): bazel build //app:fleet failed"; }
F7="$(cat "$BIN7/app/app_in_fleet.digest" "$BIN7/app/tool_in_fleet.digest")"
# The fleet's push from Bazel 7: `bazel run --script_path` writes the runner, which runs here, where
# skopeo is (Bazel 7 runs in its sid root filesystem); a registry on 127.0.0.1 gets both images
# with their built digests, and a second push sends nothing.
start_registry "$SCRATCH/registry"
RPORT="$REGISTRY_PORT"
trap 'kill $REGISTRY_PID 2>/dev/null || true; "${B7[@]}" clean --expunge >/dev/null 2>&1 || true; podman_ system reset -f >/dev/null 2>&1 || true; cleanup' EXIT
"${B7[@]}" run --disk_cache="$DISK_CACHE" --script_path="$SCRATCH/fleet-push7.sh" //app:fleet.push >"$SCRATCH/fleet-push7-build.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/fleet-push7-build.log" >&2; fail "Bazel 7: bazel run --script_path //app:fleet.push failed"; }
for n in 1 2; do
  bash "$SCRATCH/fleet-push7.sh" --registry "127.0.0.1:$RPORT/team" --dest-tls-verify=false >"$SCRATCH/fleet-push7-$n.log" 2>&1 \
    || { tail -n 30 "$SCRATCH/fleet-push7-$n.log" >&2; fail "Bazel 7: the consumer's fleet push ($n) failed"; }
done
python3 - "$SCRATCH/fleet-push7-1.log" "$SCRATCH/fleet-push7-2.log" <<'PY' || fail "Bazel 7: the consumer's fleet push plans are not what they should be"
import json, sys
first, second = (json.loads(open(p).read().strip().splitlines()[-1]) for p in sys.argv[1:])
assert first["total"]["send_blobs"] > 0 and second["total"]["send_blobs"] == 0, (first["total"], second["total"])
PY
read -r want_app want_tool <<<"$(tr '\n' ' ' <<<"$F7")"
for pair in "consumer/app-in-fleet=$want_app" "consumer/tool=$want_tool"; do
  got="$(skopeo inspect --tls-verify=false "docker://127.0.0.1:$RPORT/team/${pair%%=*}:latest" --format '{{.Digest}}')"
  [[ "$got" == "${pair#*=}" ]] || fail "Bazel 7: the registry holds $got for ${pair%%=*}, built ${pair#*=}"
done
echo "ok: Bazel 7 pushed the consumer's fleet with py_image_fleet's push: both images with their built digests, nothing sent the second time"
# And from Bazel 4 (WORKSPACE: the images and rules_pyimage's push tool are in different
# repositories of the runfiles tree) to another prefix of the same registry.
bz 4 run --disk_cache="$DISK_CACHE" //app:fleet.push -- --registry "127.0.0.1:$RPORT/team4" --dest-tls-verify=false \
  >"$SCRATCH/fleet-push4.log" 2>&1 || { tail -n 30 "$SCRATCH/fleet-push4.log" >&2; fail "Bazel 4: the consumer's fleet push failed"; }
read -r want_app want_tool <<<"$(tr '\n' ' ' <<<"$F4")"
for pair in "consumer/app-in-fleet=$want_app" "consumer/tool=$want_tool"; do
  got="$(skopeo inspect --tls-verify=false "docker://127.0.0.1:$RPORT/team4/${pair%%=*}:latest" --format '{{.Digest}}')"
  [[ "$got" == "${pair#*=}" ]] || fail "Bazel 4: the registry holds $got for ${pair%%=*}, built ${pair#*=}"
done
echo "ok: Bazel 4 pushed the consumer's fleet too, both images with their built digests"

# --- 3. the same image -----------------------------------------------------------------------------
[[ "$D4" == "$D7" ]] || fail "the consumer's image differs: Bazel 4 (WORKSPACE) $D4, Bazel 7 (bzlmod) $D7"
[[ "$F4" == "$F7" ]] || fail "the consumer's fleet images differ: Bazel 4 $F4, Bazel 7 $F7"
echo "ok: the consumer's fleet images are the same on Bazel 4 and Bazel 7: $(tr '\n' ' ' <<<"$F4")"
echo "ok: the consumer's //app:image is $D4 on Bazel 4.2.3 (WORKSPACE) and on Bazel 7.7.1 (bzlmod): equal"
for f in image.spdx.json image.provenance.json image.sizes.txt image.sizes.html; do
  cmp -s "$BIN4/app/$f" "$BIN7/app/$f" || fail "the consumer's $f differs between Bazel 4 and Bazel 7"
done
echo "ok: its SBOM, provenance and size report are the same bytes on both ($(sha256sum <"$BIN4/app/image.spdx.json" | cut -c1-16)…)"
echo "  locks made from empty files: $(grep -c '"name"' base/base.lock.json) Debian packages, $(grep -c '==' app/requirements.lock.txt) Python pins; podman run: $(tr '\n' ' ' <"$SCRATCH/run.log")"
