#!/usr/bin/env bash
# Time to refresh the example app's lock: `bazel run //app:requirements.update` against the same
# pip-compile run directly, and against `uv pip compile`, on the same requirements.in, as ratios
# from one run each, every tool with warm caches (one untimed run first). Also says whether uv
# resolved the same pins and hashes.
#
#   bench/lock_update.sh
#
# uv is fetched into a scratch directory with the host's pip (it is not a dependency of the rules).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
W="$(mktemp -d /tmp/pyimage-bench-lock.XXXXXX)"
trap 'rm -rf "$W"' EXIT
cd "$ROOT"
DC="--disk_cache=${PYIMAGE_DISK_CACHE:-$HOME/.cache/rules_pyimage/disk}"
bazel build "$DC" //app:requirements.update >/dev/null 2>&1
cp app/requirements.lock.txt "$W/saved.lock.txt"
trap 'cp "$W/saved.lock.txt" "$ROOT/app/requirements.lock.txt"; rm -rf "$W"' EXIT

now() { date +%s.%N; }
t0=$(now); bazel run "$DC" //app:requirements.update >/dev/null 2>&1; t1=$(now)

# pip-compile itself: the same interpreter and pip-tools that the update target runs.
RF="$ROOT/bazel-bin/app/requirements.update.runfiles"
PP="$(ls -d "$RF"/pyimage_tools/*/*.site-packages | paste -sd:)"
PY="$(readlink -f "$RF/pyimage_python/cpython_3_13_15/bin/python3")"
cp app/requirements.in "$W/requirements.in"
pip_compile() {
  (cd "$W" && rm -f pip.lock.txt && PYTHONPATH="$PP" "$PY" -m piptools compile --generate-hashes --allow-unsafe \
    --no-emit-index-url --no-emit-find-links --strip-extras --no-reuse-hashes --quiet -o pip.lock.txt requirements.in)
}
pip_compile  # warm its caches, as the update above warmed its own
t2=$(now); pip_compile; t3=$(now)

python3 -m pip download -q --no-deps --only-binary=:all: -d "$W/uv" uv >/dev/null 2>&1
(cd "$W/uv" && python3 -c "import zipfile,glob; zipfile.ZipFile(glob.glob('uv-*.whl')[0]).extractall('x')")
UV="$(ls "$W"/uv/x/uv-*.data/scripts/uv)"; chmod +x "$UV"
uv_compile() {
  (cd "$W" && rm -f uv.lock.txt && SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt "$UV" pip compile -q \
    --generate-hashes --python-version 3.13 --python-platform x86_64-manylinux_2_36 --no-header \
    -o uv.lock.txt requirements.in)
}
uv_compile  # warm its cache too
t4=$(now); uv_compile; t5=$(now)

python3 - "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" "$W/pip.lock.txt" "$W/uv.lock.txt" "$UV" <<'PY'
import re, subprocess, sys
t = list(map(float, sys.argv[1:7]))
bazel, pip, uv = t[1] - t[0], t[3] - t[2], t[5] - t[4]
def parse(path):
    text = open(path).read()
    pins = {}
    for m in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)((?:\s*\\\n\s+--hash=sha256:\w+)*)", text, re.M):
        pins[m.group(1).lower()] = (m.group(2), sorted(re.findall(r"sha256:(\w+)", m.group(3))))
    return pins
same = parse(sys.argv[7]) == parse(sys.argv[8])
version = subprocess.run([sys.argv[9], "--version"], stdout=subprocess.PIPE, text=True).stdout.strip()
print("lock refresh of app/requirements.in (%d pins)" % len(parse(sys.argv[7])))
print("  bazel run //app:requirements.update  %6.2f s  (ratio to pip-compile %.2f)" % (bazel, bazel / pip))
print("  pip-compile directly                  %6.2f s  (1.00)" % pip)
print("  uv pip compile (%s)        %6.2f s  (ratio to pip-compile %.2f; pip-compile / uv = %.1fx)" % (version, uv, uv / pip, pip / uv))
print("  same pins and hashes from uv:         %s" % ("yes" if same else "NO"))
PY
