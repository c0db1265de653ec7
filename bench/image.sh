#!/usr/bin/env bash
# The example image, measured: size per layer (uncompressed and gzipped) against the same app on a
# plain Debian stack (debootstrap --variant=minbase, Debian's python3 and pip, the requirements
# pip-installed); rebuild time after changing one app source file against a no-op build; and
# container start-to-output against the app started directly. One run each (starts: mean of 5).
# Each layer is shown before (what the base and CPython's install hold) and after py_image left out
# what the app cannot use (one .pyc level, unneeded libraries and gconv), and check_stdlib.py then
# exercises every stdlib module that needs a system library inside the container.
# Needs root (debootstrap, chroot, podman).
#
#   bench/image.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
W="$(mktemp -d /tmp/pyimage-bench-image.XXXXXX)"
cd "$ROOT"
cp app/main.py "$W/main.py.orig"
trap 'cp "$W/main.py.orig" "$ROOT/app/main.py"; rm -rf "$W"' EXIT
DC="--disk_cache=${PYIMAGE_DISK_CACHE:-$HOME/.cache/rules_pyimage/disk}"
bazel build "$DC" //app:image //app:image.tar //app:app //tests/image:image_full.tar >/dev/null 2>&1
BIN="$(bazel info bazel-bin 2>/dev/null)"

echo "== layers of //app:image: before (//tests/image:image_full: pyc = \"all\", trim_base = False,"
echo "   the base and the interpreter's install as they are) and after (the defaults)"
python3 - "$BIN" <<'PY'
import glob, os, sys
b = sys.argv[1]
exec_bin = glob.glob(os.path.join(b, "../../*-exec-*/bin"))[0]  # CPython is built in the exec configuration
before = {"base": os.path.join(b, "third_party/debian/runtime_rootfs.tar"),
          "python": os.path.join(exec_bin, "external/pyimage_python/cpython_3_14_7.runtime.tar"),
          "venv": os.path.join(b, "tests/image/image_full.venv.tar"), "app": os.path.join(b, "tests/image/image_full.app.tar")}
# After: read from //app:image's layout, its per-package layers (venv-*) counted as the venv.
import gzip, json
layout = os.path.join(b, "app/image")
def blob(digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":")[1])
with open(os.path.join(layout, "index.json")) as f:
    manifest = json.load(open(blob(json.load(f)["manifests"][0]["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
after = {}
for layer, history in zip(manifest["layers"], config["history"]):
    name = history["created_by"].split(": ", 1)[1]
    name = "venv" if name.startswith("venv") else name
    with open(blob(layer["digest"]), "rb") as f:
        raw = len(gzip.decompress(f.read()))
    after[name] = [x + y for x, y in zip(after.get(name, [0, 0]), [raw, layer["size"]])]
tot = [0, 0, 0, 0]
print("  %-7s %22s   %22s" % ("", "before: tar / gzip", "after: tar / gzip"))
for name, path in before.items():
    full_gz = os.path.join(b, "tests/image/image_full.%s.tar.gz" % name)
    row = [os.path.getsize(path), os.path.getsize(full_gz)] + after[name]
    tot = [t + r for t, r in zip(tot, row)]
    print("  %-7s %9.1f / %6.1f MiB   %9.1f / %6.1f MiB" % ((name,) + tuple(r / 2**20 for r in row)))
print("  %-7s %9.1f / %6.1f MiB   %9.1f / %6.1f MiB" % (("total",) + tuple(t / 2**20 for t in tot)))
print("  goal: at most 18 MiB compressed: %s (%.1f MiB)" % ("met" if tot[3] <= 18 * 2**20 else "NOT met", tot[3] / 2**20))
with open(os.path.join(b, ".bench_image_total"), "w") as f:
    f.write("%d %d" % (tot[2], tot[3]))
PY

echo "== the same app on a plain Debian stack (debootstrap minbase + python3 + pip + pip install)"
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
MIRROR="$(python3 rules/private/tools/apt_sources.py | python3 -c 'import json, sys; print((json.load(sys.stdin)["archive"] or [""])[0])')"
debootstrap --variant=minbase --include=python3,python3-pip bookworm "$W/plain" "$MIRROR" >"$W/debootstrap.log" 2>&1 \
  || { tail -n 20 "$W/debootstrap.log"; exit 1; }
cp /etc/resolv.conf "$W/plain/etc/resolv.conf"
cp /etc/ssl/certs/ca-certificates.crt "$W/plain/tmp/host-ca.crt"
chroot "$W/plain" env -i PATH=/usr/bin:/bin HOME=/root python3 -m pip install -q --break-system-packages --cert /tmp/host-ca.crt \
  --no-cache-dir attrs==26.1.0 pyyaml==6.0.4 markupsafe==3.0.4 >"$W/pip.log" 2>&1 || { tail -n 20 "$W/pip.log"; exit 1; }
rm -rf "$W"/plain/var/cache/apt/archives/*.deb "$W"/plain/var/lib/apt/lists/*_Packages "$W"/plain/tmp/host-ca.crt
tar -C "$W/plain" --sort=name --numeric-owner -cf "$W/plain.tar" .
python3 - "$W/plain.tar" "$BIN/.bench_image_total" <<'PY'
import gzip, os, sys
raw = os.path.getsize(sys.argv[1])
with open(sys.argv[1], "rb") as f:
    gz = len(gzip.compress(f.read(), 6))
ours = list(map(int, open(sys.argv[2]).read().split()))
print("  plain   %8.1f MiB  %7.1f MiB gz" % (raw / 2**20, gz / 2**20))
print("  ratio ours / plain: %.2f uncompressed, %.2f gzipped" % (ours[0] / raw, ours[1] / gz))
PY

echo "== rebuild after one app source change, against a no-op build"
now() { date +%s.%N; }
bazel build "$DC" //app:image.tar >/dev/null 2>&1
t0=$(now); bazel build "$DC" //app:image.tar >/dev/null 2>&1; t1=$(now)
echo "# bench $(date +%s%N)" >>app/main.py
t2=$(now); bazel build "$DC" //app:image.tar >/dev/null 2>&1; t3=$(now)
cp "$W/main.py.orig" app/main.py
python3 -c "import sys; a,b,c,d=map(float,sys.argv[1:]); n=b-a; r=d-c; print('  no-op %.2f s, after a one-line app change %.2f s: ratio %.1f, %.2f s on top of the no-op' % (n, r, r/n, r-n))" "$t0" "$t1" "$t2" "$t3"
bazel build "$DC" //app:image.tar >/dev/null 2>&1

echo "== start to output: the container against the app started directly"
PM="$W/podman"
P=(podman --root "$PM/root" --runroot "$PM/run" --tmpdir "$PM/tmp" --runtime runc --cgroup-manager=cgroupfs --events-backend=file)
"${P[@]}" load -q -i "$BIN/app/image.tar" >/dev/null
"${P[@]}" run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 rules_pyimage/example:latest >/dev/null
t0=$(now); for _ in 1 2 3 4 5; do "${P[@]}" run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 rules_pyimage/example:latest >/dev/null; done; t1=$(now)
t2=$(now); for _ in 1 2 3 4 5; do "$BIN/app/app" >/dev/null 2>&1; done; t3=$(now)
python3 -c "import sys; a,b,c,d=map(float,sys.argv[1:]); x=(b-a)/5; y=(d-c)/5; print('  podman run %.3f s, the py_binary directly %.3f s: ratio %.1f' % (x, y, x/y))" "$t0" "$t1" "$t2" "$t3"

echo "== what was left out still works: check_stdlib.py (every stdlib module that needs a system"
echo "   library, doing real work) in //app:image and in //tests/image:image_full"
"${P[@]}" load -q -i "$BIN/tests/image/image_full.tar" >/dev/null
for image in example full; do
  "${P[@]}" run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 -v "$ROOT/tests/toolchain/check_stdlib.py:/tmp/check_stdlib.py:ro" \
    --entrypoint /opt/pyimage/venv/bin/python3 "rules_pyimage/$image:latest" /tmp/check_stdlib.py >"$W/stdlib-$image.txt" 2>&1 \
    || { cat "$W/stdlib-$image.txt"; echo "check_stdlib.py fails in rules_pyimage/$image" >&2; exit 1; }
done
sed 's/^/  /' "$W/stdlib-example.txt"
if cmp -s "$W/stdlib-example.txt" "$W/stdlib-full.txt"; then
  echo "  the same $(wc -l <"$W/stdlib-example.txt") lines in both images"
else
  diff "$W/stdlib-full.txt" "$W/stdlib-example.txt" | sed 's/^/  /'; echo "check_stdlib.py differs between the images" >&2; exit 1
fi
"${P[@]}" system reset -f >/dev/null 2>&1 || true
