#!/usr/bin/env bash
# The example image, used for real: skopeo and umoci accept the OCI layout; podman (runc) loads the
# docker-archive and runs it; inside, the app prints what it should with all three kinds of
# dependency, runs as 65532, cannot write to /opt/pyimage, loads the CA bundle and imports every
# stdlib module that needs a system library. The layers hold no compiler, header, pip,
# setuptools or setuid file. Built again from another checkout the digest is the same, and
# changing one app source file changes only the app layer.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
DC="--disk_cache=$DISK_CACHE"
bazel build "$DC" //app:image //app:image.tar >"$SCRATCH/build.log" 2>&1 || { tail -n 30 "$SCRATCH/build.log" >&2; fail "build failed"; }
BIN="$(bazel info bazel-bin 2>/dev/null)"
LAYOUT="$BIN/app/image" ARCHIVE="$BIN/app/image.tar"
DIGEST="$(cat "$BIN/app/image.digest")"

# --- the layout is valid OCI ----------------------------------------------------------------------
skopeo inspect "oci:$LAYOUT:latest" >"$SCRATCH/inspect.json" || fail "skopeo rejects the layout"
python3 - "$SCRATCH/inspect.json" "$DIGEST" <<'PY' || exit 1
import json, sys
info = json.load(open(sys.argv[1]))
assert info["Digest"] == sys.argv[2], (info["Digest"], sys.argv[2])
# base, python, venv, one layer each for attrs, markupsafe and pyyaml, app
assert len(info["Layers"]) == 7, info["Layers"]
assert info["Created"].startswith("1980-01-01"), info["Created"]
print("ok: skopeo inspect: digest %s, 7 layers, created %s" % (info["Digest"], info["Created"]))
PY
umoci unpack --image "$LAYOUT:latest" "$SCRATCH/bundle" >/dev/null || fail "umoci rejects the layout"
python3 - "$SCRATCH/bundle/config.json" <<'PY' || exit 1
import json, sys
cfg = json.load(open(sys.argv[1]))
assert cfg["process"]["user"]["uid"] == 65532 and cfg["process"]["user"]["gid"] == 65532, cfg["process"]["user"]
assert cfg["process"]["args"][:2] == ["/opt/pyimage/venv/bin/python3", "-m"], cfg["process"]["args"]
print("ok: umoci unpack: runs %s as 65532:65532" % " ".join(cfg["process"]["args"]))
PY

# --- what the layers hold, and do not -------------------------------------------------------------
python3 - "$ARCHIVE" <<'PY' || exit 1
import fnmatch, gzip, io, json, sys, tarfile
outer = tarfile.open(sys.argv[1])
manifest = json.load(outer.extractfile("manifest.json"))[0]
bad = []
forbidden = ["usr/bin/gcc*", "usr/bin/cc", "usr/bin/c++", "usr/bin/ld", "usr/bin/ld.*", "usr/bin/as",
             "usr/bin/x86_64-linux-gnu-*", "*.h", "*/site-packages/pip", "*/site-packages/pip/*",
             "*/bin/pip", "*/bin/pip3*", "*/site-packages/setuptools", "*/site-packages/setuptools/*",
             "*/site-packages/_distutils_hack*", "usr/bin/apt*", "usr/bin/dpkg*"]
counts = []
for layer in manifest["Layers"]:
    data = gzip.decompress(outer.extractfile(layer).read())
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = tar.getmembers()
    counts.append(len(members))
    for m in members:
        if any(fnmatch.fnmatch(m.name, p) for p in forbidden):
            bad.append("%s: %s" % (layer[-12:], m.name))
        if m.mode & 0o6000:
            bad.append("%s: setuid/setgid %s" % (layer[-12:], m.name))
        if (m.uid, m.gid) != (0, 0) and not m.name.startswith("home/"):
            bad.append("%s: owned by %d:%d: %s" % (layer[-12:], m.uid, m.gid, m.name))
if bad:
    sys.exit("FAIL: the layers hold what the runtime must not:\n  " + "\n  ".join(bad[:20]))
print("ok: no compiler, header, pip, setuptools, package manager or setuid file in %s entries" % "+".join(map(str, counts)))
PY

# --- it runs ----------------------------------------------------------------------------------------
run_() { podman_ run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 "$@"; }
trap 'podman_ system reset -f >/dev/null 2>&1 || true; cleanup' EXIT
# `bazel run //app:image.load` with podman's storage options before `load`.
# shellcheck disable=SC2046
bazel run "$DC" //app:image.load -- $(podman_opts) >"$SCRATCH/load.log" 2>&1 || { cat "$SCRATCH/load.log" >&2; fail "bazel run //app:image.load failed"; }
expect_in "$SCRATCH/load.log" "loaded rules_pyimage/example:latest (manifest $DIGEST) into podman; podman lists it by its image ID"
run_ rules_pyimage/example:latest >"$SCRATCH/run.log" 2>&1 || { cat "$SCRATCH/run.log" >&2; fail "the container failed"; }
for want in "Hello from rules_pyimage on CPython 3.14.7" "interpreter: /opt/pyimage/venv/bin/python3" \
            "markupsafe 3.0.4 speedups=True" "pyyaml 6.0.4 libyaml=True" "attrs 26.1.0" "&lt;b&gt;"; do
  expect_in "$SCRATCH/run.log" "$want"
done
echo "ok: podman run prints: $(head -n1 "$SCRATCH/run.log")"

# Every other CPython of the table as an image on the default base, each with markupsafe built from
# its sdist for that interpreter (tests/image): they load and run, on their own interpreter.
bazel build "$DC" //tests/image:image_3_11.tar //tests/image:image_3_13_15.tar >"$SCRATCH/versions.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/versions.log" >&2; fail "building the per-version images failed"; }
for v in 3.11.2:3_11:3.11 3.13.15:3_13_15:3.13.15; do
  IFS=: read -r full target tag <<<"$v"
  podman_ load -i "$BIN/tests/image/image_$target.tar" >"$SCRATCH/load-$target.log" 2>&1 \
    || { cat "$SCRATCH/load-$target.log" >&2; fail "podman load of //tests/image:image_$target failed"; }
  run_ "rules_pyimage/versions:$tag" >"$SCRATCH/run-$target.log" 2>&1 \
    || { cat "$SCRATCH/run-$target.log" >&2; fail "//tests/image:image_$target failed to run"; }
  minor="${full%.*}"
  expect_in "$SCRATCH/run-$target.log" "CPython $full: markupsafe speedups _speedups.cpython-${minor/./}-x86_64-linux-gnu.so, libyaml True"
  echo "ok: //tests/image:image_$target prints: $(cat "$SCRATCH/run-$target.log")"
done

# The free-threaded twin (CPython 3.14.7t, numpy's cp314t wheel): the GIL is off and stays off
# with numpy imported, and its stdlib and site-packages are the t-suffixed ones.
bazel build "$DC" //app:image_free_threaded.tar >"$SCRATCH/ft.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/ft.log" >&2; fail "building //app:image_free_threaded failed"; }
podman_ load -i "$BIN/app/image_free_threaded.tar" >"$SCRATCH/load-ft.log" 2>&1 \
  || { cat "$SCRATCH/load-ft.log" >&2; fail "podman load of //app:image_free_threaded failed"; }
run_ rules_pyimage/example:free-threaded >"$SCRATCH/run-ft.log" 2>&1 \
  || { cat "$SCRATCH/run-ft.log" >&2; fail "//app:image_free_threaded failed to run"; }
for want in "Hello from rules_pyimage on CPython 3.14.7 (free-threaded build: True, GIL enabled: False)" \
            "numpy 2.5.5: sum of 1..10000 = 50005000" "after importing numpy, GIL enabled: False" \
            "two threads counted 2262 and 2262 primes below 20000"; do
  expect_in "$SCRATCH/run-ft.log" "$want"
done
run_ --entrypoint /opt/pyimage/venv/bin/python3 rules_pyimage/example:free-threaded -c \
  'import numpy, sys, sysconfig; print(sys.abiflags, sysconfig.get_path("purelib"), numpy.__file__)' >"$SCRATCH/ft-paths.log" 2>&1 \
  || { cat "$SCRATCH/ft-paths.log" >&2; fail "the free-threaded probe failed"; }
expect_in "$SCRATCH/ft-paths.log" "t /opt/pyimage/venv/lib/python3.14t/site-packages /opt/pyimage/venv/lib/python3.14t/site-packages/numpy/__init__.py"
run_ -v "$ROOT/tests/toolchain/check_stdlib.py:/tmp/check_stdlib.py:ro" --entrypoint /opt/pyimage/venv/bin/python3 \
  rules_pyimage/example:free-threaded /tmp/check_stdlib.py >"$SCRATCH/ft-stdlib.log" 2>&1 \
  || { cat "$SCRATCH/ft-stdlib.log" >&2; fail "stdlib modules fail in the free-threaded image"; }
echo "ok: //app:image_free_threaded prints: $(head -n1 "$SCRATCH/run-ft.log"); $(sed -n 4p "$SCRATCH/run-ft.log"); its stdlib modules work"

PROBE='
import os, ssl
print("uid", os.getuid(), os.getgid())
try:
    open("/opt/pyimage/app/x", "w"); print("WRITABLE")
except OSError as e:
    print("readonly", e.errno)
try:
    open("/opt/pyimage/venv/lib/python3.14/site-packages/x", "w"); print("WRITABLE")
except OSError as e:
    print("readonly", e.errno)
print("ca", ssl.create_default_context().cert_store_stats()["x509_ca"])
'
run_ --entrypoint /opt/pyimage/venv/bin/python3 rules_pyimage/example:latest -c "$PROBE" >"$SCRATCH/probe.log" 2>&1 \
  || { cat "$SCRATCH/probe.log" >&2; fail "the probe failed"; }
expect_in "$SCRATCH/probe.log" "uid 65532 65532"
grep -q WRITABLE "$SCRATCH/probe.log" && fail "the app can write to its own code or site-packages"
[[ "$(grep -c '^readonly 13' "$SCRATCH/probe.log")" == 2 ]] || { cat "$SCRATCH/probe.log"; fail "expected EACCES twice"; }
ca="$(sed -n 's/^ca //p' "$SCRATCH/probe.log")"
[[ "$ca" -gt 100 ]] || fail "ssl loaded $ca CA certificates"
echo "ok: runs as 65532:65532, /opt/pyimage is read-only to it, ssl loads $ca CA certificates"
run_ -v "$ROOT/tests/toolchain/check_stdlib.py:/tmp/check_stdlib.py:ro" --entrypoint /opt/pyimage/venv/bin/python3 \
  rules_pyimage/example:latest /tmp/check_stdlib.py >"$SCRATCH/stdlib.log" 2>&1 || { cat "$SCRATCH/stdlib.log" >&2; fail "stdlib modules fail in the image"; }
echo "ok: every stdlib module that needs a system library works in the image"

# What py_image leaves out: //app:image keeps one .pyc per module, no gconv (iconv cannot
# convert to UTF-16 there), no leap-second zones and no pydoc topics; //tests/image:image_sourceless
# runs at -OO from .pyc alone, and keeps all three through base_keep and trim_python = False.
ICONV='import ctypes; libc = ctypes.CDLL(None); libc.iconv_open.restype = ctypes.c_void_p; print("iconv", libc.iconv_open(b"UTF-16", b"UTF-8") != ctypes.c_void_p(-1).value)
import io, pydoc, zoneinfo
try:
    right = zoneinfo.ZoneInfo("right/UTC").key
except zoneinfo.ZoneInfoNotFoundError:
    right = "no-right"
print("zone", zoneinfo.ZoneInfo("Europe/Berlin").key, right)
out = io.StringIO(); pydoc.Helper(output=out).help("if"); print("topics", "not available" not in out.getvalue())'
run_ --entrypoint /opt/pyimage/venv/bin/python3 rules_pyimage/example:latest -c "$ICONV" >"$SCRATCH/iconv.log" 2>&1 \
  || { cat "$SCRATCH/iconv.log" >&2; fail "the iconv probe failed"; }
expect_in "$SCRATCH/iconv.log" "iconv False"
expect_in "$SCRATCH/iconv.log" "zone Europe/Berlin no-right"
expect_in "$SCRATCH/iconv.log" "topics False"
bazel build "$DC" //tests/image:image_sourceless.tar >"$SCRATCH/sourceless.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/sourceless.log" >&2; fail "building //tests/image:image_sourceless failed"; }
podman_ load -i "$BIN/tests/image/image_sourceless.tar" >"$SCRATCH/load-sourceless.log" 2>&1 \
  || { cat "$SCRATCH/load-sourceless.log" >&2; fail "podman load of //tests/image:image_sourceless failed"; }
run_ rules_pyimage/sourceless:latest >"$SCRATCH/run-sourceless.log" 2>&1 \
  || { cat "$SCRATCH/run-sourceless.log" >&2; fail "//tests/image:image_sourceless failed to run"; }
expect_in "$SCRATCH/run-sourceless.log" "attrs 26.1.0 | markupsafe 3.0.4 speedups=True | pyyaml 6.0.4 libyaml=True"
PROBE='
import json, sys, yaml
print("optimize", sys.flags.optimize, json.__file__, yaml.__file__, json.dumps.__doc__)
'
run_ --entrypoint /opt/pyimage/venv/bin/python3 rules_pyimage/sourceless:latest -OO -c "$PROBE$ICONV" >"$SCRATCH/sourceless-probe.log" 2>&1 \
  || { cat "$SCRATCH/sourceless-probe.log" >&2; fail "the sourceless probe failed"; }
expect_in "$SCRATCH/sourceless-probe.log" "optimize 2 /opt/pyimage/python/lib/python3.14/json/__init__.pyc /opt/pyimage/venv/lib/python3.14/site-packages/yaml/__init__.pyc None"
expect_in "$SCRATCH/sourceless-probe.log" "iconv True"
expect_in "$SCRATCH/sourceless-probe.log" "zone Europe/Berlin right/UTC"
expect_in "$SCRATCH/sourceless-probe.log" "topics True"
run_ --entrypoint /opt/pyimage/venv/bin/python3 rules_pyimage/sourceless:latest -OO -c 'import json; json.loads("{")' \
  >"$SCRATCH/traceback.log" 2>&1 && fail "json.loads('{') did not fail"
expect_in "$SCRATCH/traceback.log" 'json/decoder.py", line'
grep -q "scan_once" "$SCRATCH/traceback.log" && { cat "$SCRATCH/traceback.log"; fail "the sourceless traceback shows source text"; }
skopeo inspect --config "docker-archive:$BIN/tests/image/image_sourceless.tar" >"$SCRATCH/sourceless-config.json"
python3 - "$SCRATCH/sourceless-config.json" <<'PY' || exit 1
import json, sys
entrypoint = json.load(open(sys.argv[1]))["config"]["Entrypoint"]
assert entrypoint == ["/opt/pyimage/venv/bin/python3", "-OO", "-m", "app.main"], entrypoint
PY
echo "ok: //app:image has no gconv (iconv to UTF-16 fails), no right/ zones, no pydoc topics; //tests/image:image_sourceless runs at -OO, imports json and yaml from .pyc alone, its traceback names json/decoder.py without the line's text, and keeps gconv and right/ through base_keep and the topics through trim_python = False"

# --- stamping only with --stamp --------------------------------------------------------------------------
bazel build "$DC" --config=release //app:image >"$SCRATCH/stamp.log" 2>&1 || { tail -n 20 "$SCRATCH/stamp.log" >&2; fail "stamped build failed"; }
skopeo inspect "oci:$LAYOUT:latest" >"$SCRATCH/stamped.json"
python3 - "$SCRATCH/stamped.json" "$(git -C "$ROOT" rev-parse HEAD)" "$DIGEST" <<'PY' || exit 1
import json, sys
info = json.load(open(sys.argv[1]))
labels = info["Labels"]
assert labels.get("org.opencontainers.image.revision") == sys.argv[2], labels
assert not info["Created"].startswith("1980"), info["Created"]
assert info["Digest"] != sys.argv[3]
print("ok: --config=release stamps revision %s and created %s" % (sys.argv[2][:12], info["Created"]))
PY
bazel build "$DC" //app:image >/dev/null 2>&1
[[ "$(cat "$BIN/app/image.digest")" == "$DIGEST" ]] || fail "without --stamp the digest is not $DIGEST again"
echo "ok: without --stamp the image is the unstamped one again ($DIGEST)"

# --- push to a registry on 127.0.0.1 and pull it back --------------------------------------------------
start_registry "$SCRATCH/registry"
PORT="$REGISTRY_PORT"
trap 'kill $REGISTRY_PID 2>/dev/null || true; podman_ system reset -f >/dev/null 2>&1 || true; cleanup' EXIT
bazel run "$DC" //app:image.push -- --repository "127.0.0.1:$PORT/example:v1" --dest-tls-verify=false \
  >"$SCRATCH/push.log" 2>&1 || { cat "$SCRATCH/push.log" >&2; fail "push failed"; }
expect_in "$SCRATCH/push.log" "pushed 127.0.0.1:$PORT/example:v1@$DIGEST"
skopeo copy --src-tls-verify=false "docker://127.0.0.1:$PORT/example:v1" "oci:$SCRATCH/pulled:v1" >/dev/null 2>&1 \
  || fail "pulling back failed"
pulled="$(skopeo inspect "oci:$SCRATCH/pulled:v1" --format '{{.Digest}}')"
[[ "$pulled" == "$DIGEST" ]] || fail "pulled back $pulled, pushed $DIGEST"
echo "ok: pushed to a registry on 127.0.0.1:$PORT and pulled back: same digest"
# An image whose tag is not `latest` (rules_pyimage/versions:3.11): its layout is tagged 3.11, and
# the push copies that, under the name the push gives it.
bazel run "$DC" //tests/image:image_3_11.push -- --repository "127.0.0.1:$PORT/versions:v311" --dest-tls-verify=false \
  --no-attachments >"$SCRATCH/push311.log" 2>&1 || { cat "$SCRATCH/push311.log" >&2; fail "the push of an image tagged :3.11 failed"; }
DIGEST_311="$(cat "$BIN/tests/image/image_3_11.digest")"
expect_in "$SCRATCH/push311.log" "pushed 127.0.0.1:$PORT/versions:v311@$DIGEST_311"
[[ "$(skopeo inspect --tls-verify=false "docker://127.0.0.1:$PORT/versions:v311" --format '{{.Digest}}')" == "$DIGEST_311" ]] \
  || fail "the registry holds another image under versions:v311 than $DIGEST_311"
echo "ok: an image tagged :3.11 pushes ($DIGEST_311)"
# A fleet of two images that share their base, python, venv, attrs and app layers: the plan sends each
# shared blob once (the second image's are "present": sent by the first), a second push sends
# nothing, and each image pulls back with its built digest. A budgeted image (packages grouped)
# runs.
bazel run "$DC" //tests/image:fleet.push -- --registry "127.0.0.1:$PORT/team" --dest-tls-verify=false \
  >"$SCRATCH/fleet1.log" 2>&1 || { cat "$SCRATCH/fleet1.log" >&2; fail "the fleet push failed"; }
bazel run "$DC" //tests/image:fleet.push -- --registry "127.0.0.1:$PORT/team" --dest-tls-verify=false \
  >"$SCRATCH/fleet2.log" 2>&1 || { cat "$SCRATCH/fleet2.log" >&2; fail "the second fleet push failed"; }
python3 - "$SCRATCH/fleet1.log" "$SCRATCH/fleet2.log" <<'PY' || fail "the fleet push plans are not what they should be"
import json, sys
first, second = (json.loads(open(p).read().strip().splitlines()[-1]) for p in sys.argv[1:])
a, b = first["images"]
assert a["present_blobs"] == 0 and a["send_blobs"] == a["blobs"], a
# b shares base, python, venv, attrs and app (the same source) with a: only its config and
# pyyaml layer are sent.
assert b["present_blobs"] == 5 and b["send_blobs"] == 2, b
assert second["total"]["send_bytes"] == 0 and second["total"]["send_blobs"] == 0, second["total"]
# The second time each tag already names the built digest: both images are left alone.
assert [i["current"] for i in first["images"]] == [False, False], first["images"]
assert [i["current"] for i in second["images"]] == [True, True], second["images"]
print("ok: fleet push: %d bytes in %d blobs the first time (%d bytes of fleet-b already sent with fleet-a), none the second (both up to date)"
      % (first["total"]["send_bytes"], first["total"]["send_blobs"], b["present_bytes"]))
PY
for app in a b; do
  want="$(cat "$BIN/tests/image/fleet_${app}_image.digest")"
  expect_in "$SCRATCH/fleet1.log" "pushed 127.0.0.1:$PORT/team/rules_pyimage/fleet-$app:latest@$want"
  got="$(skopeo inspect --tls-verify=false "docker://127.0.0.1:$PORT/team/rules_pyimage/fleet-$app:latest" --format '{{.Digest}}')"
  [[ "$got" == "$want" ]] || fail "the registry holds $got for fleet-$app, built $want"
done
echo "ok: both fleet images pull back with their built digests"
bazel build "$DC" //tests/image:budget_image.tar >"$SCRATCH/budget.log" 2>&1 || { tail -n 20 "$SCRATCH/budget.log" >&2; fail "the budgeted image did not build"; }
podman_ load -i "$BIN/tests/image/budget_image.tar" >/dev/null
run_ rules_pyimage/budget:latest >"$SCRATCH/budget-run.log" 2>&1 || { cat "$SCRATCH/budget-run.log" >&2; fail "the budgeted image did not run"; }
for want in "Hello from rules_pyimage on CPython 3.14.7" "markupsafe 3.0.4 speedups=True" "pyyaml 6.0.4 libyaml=True" "attrs 26.1.0"; do
  expect_in "$SCRATCH/budget-run.log" "$want"
done
echo "ok: an image with its packages grouped under max_layers = 6 runs"
# The push attached the SBOM and provenance: OCI 1.1 artifacts whose subject is the image, under
# tags named after its digest, holding the very files `bazel build //app:image.sbom` makes.
for kind in sbom provenance; do
  expect_in "$SCRATCH/push.log" "attached the $kind: 127.0.0.1:$PORT/example:${DIGEST/:/-}.$kind"
  curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    "http://127.0.0.1:$PORT/v2/example/manifests/${DIGEST/:/-}.$kind" >"$SCRATCH/$kind.manifest.json" \
    || fail "the registry has no $kind for the image"
  want="$BIN/app/image.spdx.json"; [[ $kind == provenance ]] && want="$BIN/app/image.provenance.json"
  python3 - "$SCRATCH/$kind.manifest.json" "$DIGEST" "$PORT" "$want" <<'PY' || fail "the $kind attached to the image is not the built one"
import hashlib, json, sys, urllib.request
manifest = json.load(open(sys.argv[1]))
assert manifest["subject"]["digest"] == sys.argv[2], manifest["subject"]
assert manifest["artifactType"] in ("application/spdx+json", "application/vnd.in-toto+json"), manifest
layer = manifest["layers"][0]
blob = urllib.request.urlopen("http://127.0.0.1:%s/v2/example/blobs/%s" % (sys.argv[3], layer["digest"])).read()
assert hashlib.sha256(blob).hexdigest() == layer["digest"].split(":")[1]
assert blob == open(sys.argv[4], "rb").read(), "the registry holds another file than " + sys.argv[4]
PY
done
echo "ok: the push attached the SBOM and provenance (subject $DIGEST), byte for byte the built ones"
# A registry that is not there: a clear error, non-zero exit.
DEAD="$(free_port)"
if bazel run "$DC" //app:image.push -- --repository "127.0.0.1:$DEAD/example:v1" --dest-tls-verify=false \
  >"$SCRATCH/push-bad.log" 2>&1; then fail "a push to a closed port succeeded"; fi
expect_in "$SCRATCH/push-bad.log" "ERROR: the registry did not take the push of 127.0.0.1:$DEAD/example:v1"
echo "ok: a push to a registry that is not there fails with a clear error"
# A registry that asks for a password: the push passes the credentials on to its digest check
# too, so it reports the pushed digest; without them it fails naming the registry.
APORT="$(free_port)"
mkdir -p "$SCRATCH/registry-auth"
htpasswd -Bbn pusher "s3cret-$APORT" >"$SCRATCH/registry-auth/htpasswd" 2>/dev/null
cat >"$SCRATCH/registry-auth/config.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $SCRATCH/registry-auth/data
http:
  addr: 127.0.0.1:$APORT
auth:
  htpasswd:
    realm: pyimage-test
    path: $SCRATCH/registry-auth/htpasswd
YML
docker-registry serve "$SCRATCH/registry-auth/config.yml" >"$SCRATCH/registry-auth/log" 2>&1 &
AUTH_PID=$!
trap 'kill $REGISTRY_PID $AUTH_PID 2>/dev/null || true; podman_ system reset -f >/dev/null 2>&1 || true; cleanup' EXIT
for _ in $(seq 50); do [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$APORT/v2/")" == 401 ]] && break; sleep 0.2; done
if bazel run "$DC" //app:image.push -- --repository "127.0.0.1:$APORT/example:v1" --dest-tls-verify=false \
  >"$SCRATCH/push-noauth.log" 2>&1; then fail "a push without credentials to a registry that wants them succeeded"; fi
expect_in "$SCRATCH/push-noauth.log" "ERROR: the registry did not take the push of 127.0.0.1:$APORT/example:v1"
bazel run "$DC" //app:image.push -- --repository "127.0.0.1:$APORT/example:v1" --dest-tls-verify=false \
  --dest-creds "pusher:s3cret-$APORT" >"$SCRATCH/push-auth.log" 2>&1 \
  || { cat "$SCRATCH/push-auth.log" >&2; fail "the push with credentials failed"; }
expect_in "$SCRATCH/push-auth.log" "pushed 127.0.0.1:$APORT/example:v1@$DIGEST"
pulled="$(skopeo inspect --tls-verify=false --creds "pusher:s3cret-$APORT" "docker://127.0.0.1:$APORT/example:v1" --format '{{.Digest}}')"
[[ "$pulled" == "$DIGEST" ]] || fail "the registry with a password holds $pulled, pushed $DIGEST"
echo "ok: a registry with a password: refused without credentials; with --dest-creds pushed and checked $DIGEST"
# A signed push (GPG, skopeo's simple signing; signatures in a lookaside directory that
# registries.d names): podman, with a policy.json that requires a signature by key A for this
# registry, pulls the image signed by A and refuses an unsigned one and one signed by key B.
export GNUPGHOME="$SCRATCH/gnupg"
mkdir -m 700 "$GNUPGHOME"
for who in A B; do
  gpg --batch --passphrase '' --quick-gen-key "pyimage test $who <$who@pyimage.test>" default default never >/dev/null 2>&1
done
mapfile -t FPR < <(gpg --list-secret-keys --with-colons 2>/dev/null | awk -F: '$1 == "sec" {want = 1} $1 == "fpr" && want {print $10; want = 0}')
[[ ${#FPR[@]} -eq 2 ]] || fail "gpg made ${#FPR[@]} keys, not 2"
gpg --export --armor "${FPR[0]}" >"$SCRATCH/keyA.pub"
SIGHOME="$SCRATCH/sighome"  # podman reads registries.d from $HOME/.config/containers
mkdir -p "$SIGHOME/.config/containers/registries.d" "$SCRATCH/sigs"
printf 'default-docker:\n  lookaside: file://%s\n  lookaside-staging: file://%s\n' "$SCRATCH/sigs" "$SCRATCH/sigs" \
  >"$SIGHOME/.config/containers/registries.d/default.yaml"
push_as() {  # push_as REPO LOG [ARGS...]: bazel run //app:image.push to 127.0.0.1:$PORT/REPO:v1
  local repo="$1" log="$2"; shift 2
  bazel run "$DC" //app:image.push -- --repository "127.0.0.1:$PORT/$repo:v1" --dest-tls-verify=false \
    --registries.d "$SIGHOME/.config/containers/registries.d" "$@" >"$SCRATCH/$log" 2>&1 \
    || { cat "$SCRATCH/$log" >&2; fail "push of $repo failed"; }
  expect_in "$SCRATCH/$log" "pushed 127.0.0.1:$PORT/$repo:v1@$DIGEST"
}
push_as signed push-signed.log --sign-by "${FPR[0]}"
expect_in "$SCRATCH/push-signed.log" "Signing manifest"
push_as unsigned push-unsigned.log
push_as otherkey push-otherkey.log --sign-by "${FPR[1]}"
cat >"$SCRATCH/policy.json" <<JSON
{"default": [{"type": "reject"}],
 "transports": {"docker": {"127.0.0.1:$PORT": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "$SCRATCH/keyA.pub"}]}}}
JSON
pull_signed() { HOME="$SIGHOME" podman_ pull --tls-verify=false --signature-policy "$SCRATCH/policy.json" "127.0.0.1:$PORT/$1:v1"; }
pull_signed signed >"$SCRATCH/pull-signed.log" 2>&1 || { cat "$SCRATCH/pull-signed.log" >&2; fail "podman refused the image signed by key A"; }
if pull_signed unsigned >"$SCRATCH/pull-unsigned.log" 2>&1; then fail "podman pulled an unsigned image"; fi
expect_in "$SCRATCH/pull-unsigned.log" "A signature was required, but no signature exists"
if pull_signed otherkey >"$SCRATCH/pull-otherkey.log" 2>&1; then fail "podman pulled an image signed by another key"; fi
expect_in "$SCRATCH/pull-otherkey.log" "Invalid GPG signature"
echo "ok: signed push: podman's policy takes the image signed by key A, refuses the unsigned one and the one signed by key B"
gpgconf --kill gpg-agent 2>/dev/null || true
unset GNUPGHOME
# A push with --attest-key: cosign signs the built provenance as a DSSE envelope and attaches it;
# `cosign verify-attestation` checks it with the public key, finds the image's digest as its
# subject and the built predicate, and refuses it with another key.
export COSIGN="${PYIMAGE_COSIGN:-$HOME/.cache/rules_pyimage/cosign/bin/cosign}" COSIGN_PASSWORD=""
[[ -x "$COSIGN" ]] || fail "cosign is missing at $COSIGN (tools/setup.sh installs it)"
mkdir -p "$SCRATCH/cosign-a" "$SCRATCH/cosign-b"
(cd "$SCRATCH/cosign-a" && "$COSIGN" generate-key-pair >/dev/null 2>&1) || fail "cosign generate-key-pair failed"
(cd "$SCRATCH/cosign-b" && "$COSIGN" generate-key-pair >/dev/null 2>&1) || fail "cosign generate-key-pair failed"
push_as attested push-attested.log --attest-key "$SCRATCH/cosign-a/cosign.key"
expect_in "$SCRATCH/push-attested.log" "attested: 127.0.0.1:$PORT/attested@$DIGEST (SLSA provenance v1, DSSE"
verify_att() {
  "$COSIGN" verify-attestation --key "$1" --type slsaprovenance1 --insecure-ignore-tlog \
    --allow-http-registry --allow-insecure-registry "127.0.0.1:$PORT/$2@$DIGEST"
}
verify_att "$SCRATCH/cosign-a/cosign.pub" attested >"$SCRATCH/att.json" 2>"$SCRATCH/att.log" \
  || { cat "$SCRATCH/att.log" >&2; fail "cosign verify-attestation refused the attested image"; }
python3 - "$SCRATCH/att.json" "$BIN/app/image.provenance.json" "${DIGEST#sha256:}" <<'PY' || fail "the signed attestation is not the built provenance"
import base64, json, sys
envelope = json.loads(open(sys.argv[1]).readline())
assert envelope["payloadType"] == "application/vnd.in-toto+json", envelope["payloadType"]
statement = json.loads(base64.b64decode(envelope["payload"]))
built = json.load(open(sys.argv[2]))
assert statement["predicateType"] == "https://slsa.dev/provenance/v1", statement["predicateType"]
assert [s["digest"]["sha256"] for s in statement["subject"]] == [sys.argv[3]], statement["subject"]
assert statement["predicate"] == built["predicate"], "the signed predicate differs from the built one"
PY
if verify_att "$SCRATCH/cosign-b/cosign.pub" attested >/dev/null 2>"$SCRATCH/att-b.log"; then
  fail "cosign verify-attestation took the attestation with another key"
fi
if verify_att "$SCRATCH/cosign-a/cosign.pub" unsigned >/dev/null 2>"$SCRATCH/att-none.log"; then
  fail "cosign verify-attestation found an attestation on an image pushed without --attest-key"
fi
echo "ok: push --attest-key: cosign verify-attestation takes the signed provenance (DSSE, subject $DIGEST, the built predicate) with key A, refuses key B and an unattested image"
# --repository with no value: the usage, exit 2 (not bash's "unbound variable").
set +e
bazel run "$DC" //app:image.push -- --repository >"$SCRATCH/push-novalue.log" 2>&1
rc=$?
set -e
[[ $rc -eq 2 ]] || { cat "$SCRATCH/push-novalue.log" >&2; fail "push --repository without a value exited $rc, not 2"; }
expect_in "$SCRATCH/push-novalue.log" "ERROR: --repository has no value; push needs --repository HOST/NAME:TAG"
echo "ok: push --repository without a value says so and exits 2"

# --- the same digest from another checkout; one app change rebuilds only the app layer -------------
B_WS="$SCRATCH/other/checkout"
clone_to "$B_WS"
layers() { python3 -c "import json,sys; print('\\n'.join(l['digest'] for l in json.load(open(sys.argv[1]+'/blobs/sha256/'+open(sys.argv[2]).read().split(':')[1].strip()))['layers']))" "$1" "$2"; }
(cd "$B_WS" && bz b build "$DC" //app:image) >"$SCRATCH/b.log" 2>&1 || { tail -n 30 "$SCRATCH/b.log" >&2; fail "build B failed"; }
B_BIN="$(cd "$B_WS" && bz b info bazel-bin 2>/dev/null)"
[[ "$(cat "$B_BIN/app/image.digest")" == "$DIGEST" ]] || fail "another checkout gives $(cat "$B_BIN/app/image.digest"), not $DIGEST"
echo "ok: another checkout gives the same digest $DIGEST"
mapfile -t before < <(layers "$B_BIN/app/image" "$B_BIN/app/image.digest")
echo "# one changed line" >>"$B_WS/app/main.py"
(cd "$B_WS" && bz b build "$DC" //app:image) >"$SCRATCH/b2.log" 2>&1 || { tail -n 30 "$SCRATCH/b2.log" >&2; fail "build B2 failed"; }
mapfile -t after < <(layers "$B_BIN/app/image" "$B_BIN/app/image.digest")
last=$((${#before[@]} - 1))
[[ ${#after[@]} -eq ${#before[@]} ]] || fail "an app source change changed the number of layers (${#before[@]} -> ${#after[@]})"
for ((i = 0; i < last; i++)); do [[ "${before[$i]}" == "${after[$i]}" ]] || fail "layer $i changed with an app source change"; done
[[ "${before[$last]}" != "${after[$last]}" ]] || fail "the app layer did not change"
echo "ok: one app source change: the $last layers below the app unchanged, app layer ${before[$last]:7:12} -> ${after[$last]:7:12}"
