#!/usr/bin/env bash
# A monorepo's fleet (docs/team.md): 30 services on one wheel lock of 33 distributions (numpy,
# pydantic-core, pyyaml, requests, httpx, rich and small pure ones), 20 on CPython 3.13 and 10 on
# 3.11, made by bench/fleet_gen.py in a copy of this checkout. Each service has an image with
# per-package layers (`img_NN`, the default) and one with the single venv layer (`single_NN`,
# the baseline); `//fleet:fleet` and `//fleet:fleet_single` push each set to a registry of its
# own. Bytes are counted where they arrive: every registry sits behind an nginx proxy that logs
# each request's length, and the remote cache (nginx WebDAV) logs what it sends to whom.
#
#   cold   both fleets built and pushed to empty registries
#   edit   one line added to app_00's main.py, both fleets pushed again (checked: only app_00's
#          app layer, config and manifest move)
#   bump   pyyaml (used by every even app: half the fleet) bumped in requirements.in, the lock
#          updated (`bazel run //fleet:requirements.update`), both fleets pushed again
#   lazy   a new output base builds with --remote_download_toplevel and runs the fleet's push
#          with --//rules:push_from_cache (docs/team.md): the blobs stream from the remote
#          cache to a third, empty registry; lazy_client_bytes is what Bazel downloaded from
#          the cache for it (the manifests and the push tool), against the fleet's compressed size
#   base   three services' base layer on the fleet's base against one trimmed for each alone
#
# The last line is JSON (images, unique_layers, cold_bytes, edit_bytes, bump_bytes,
# baseline_bump_bytes, lazy_client_bytes, ...). Goals: bump_bytes at least 5x below
# baseline_bump_bytes; lazy_client_bytes under 5% of compressed_fleet_bytes.
#
#   bench/fleet.sh    (the remote cache is kept in $PYIMAGE_BENCH_CACHE, default
#                      ~/.cache/rules_pyimage/bench-fleet, and starts with what the tests' disk
#                      cache holds, so a second run builds from it; the registries start empty)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/tests/e2e/lib.sh"  # SCRATCH, clone_to, bz, fail; the scratch dir goes at exit
source "$ROOT/tests/e2e/remote_cache_lib.sh"
command -v skopeo >/dev/null || fail "skopeo is not installed (tools/setup.sh installs it)"

# --- the remote cache, the registries and the proxy that counts what they receive -----------------
CACHE_DIR="${PYIMAGE_BENCH_CACHE:-$HOME/.cache/rules_pyimage/bench-fleet}"
# The CPython compiles are not what this bench measures: what the disk cache the tests use
# holds is linked into the bench's remote cache first (the same keys: Bazel's disk cache shards
# by the first two hex digits, its HTTP cache does not).
mkdir -p "$CACHE_DIR/cache/ac" "$CACHE_DIR/cache/cas"
for kind in ac cas; do
  if [[ -d "$DISK_CACHE/$kind" ]]; then
    find "$DISK_CACHE/$kind" -mindepth 2 -maxdepth 2 -type f \
      -exec sh -c 'ln -f -t "$0" "$@" 2>/dev/null || cp -f -t "$0" "$@"' "$CACHE_DIR/cache/$kind" {} +
  fi
done
CPORT="$(free_port)"
start_nginx "$CACHE_DIR" "$CPORT" "$SCRATCH/cache.log"
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true; stop_nginx; cleanup' EXIT
declare -A REG
proxy_servers=""
for reg in packages single lazy; do
  start_registry "$SCRATCH/reg-$reg"
  PIDS+=("$REGISTRY_PID")
  REG[$reg]="$(free_port)"
  proxy_servers+="
  server {
    listen 127.0.0.1:${REG[$reg]};
    access_log $SCRATCH/reg-$reg.log counted;
    location / { proxy_pass http://127.0.0.1:$REGISTRY_PORT; }
  }"
done
mkdir -p "$SCRATCH/proxy/tmp"
cat >"$SCRATCH/proxy/nginx.conf" <<CONF
$([[ "$(id -u)" -eq 0 ]] && echo "user root;")
daemon off;
pid $SCRATCH/proxy/nginx.pid;
error_log $SCRATCH/proxy/error.log;
events {}
http {
  log_format counted '\$request_method \$status \$body_bytes_sent \$request_length';
  client_body_temp_path $SCRATCH/proxy/tmp;
  client_max_body_size 0;
  proxy_request_buffering off;
  proxy_http_version 1.1;
  proxy_set_header Host \$http_host;
  $proxy_servers
}
CONF
nginx -c "$SCRATCH/proxy/nginx.conf" -p "$SCRATCH/proxy" &
PIDS+=($!)
for reg in packages single lazy; do
  for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:${REG[$reg]}/v2/" && continue 2; sleep 0.2; done
  fail "the $reg registry or its proxy did not start (see $SCRATCH/reg-$reg/log, $SCRATCH/proxy/error.log)"
done

# --- the fleet ----------------------------------------------------------------------------------------
WS="$SCRATCH/ws"
clone_to "$WS"
python3 "$ROOT/bench/fleet_gen.py" "$WS/fleet"
cat "$WS/fleet/WORKSPACE.fragment" >>"$WS/WORKSPACE"
read -r BUMP BUMP_FROM BUMP_TO < <(python3 "$ROOT/bench/fleet_gen.py" --bump)
REMOTE=(--disk_cache= --remote_cache="http://127.0.0.1:$CPORT")
declare -A SECS
step() {  # step KEY OUTPUT_BASE ARGS...: bazel ARGS in the fleet's workspace, its seconds in SECS[KEY]
  local key="$1" ob="$2" start; shift 2
  start=$(date +%s.%N)
  (cd "$WS" && bz "$ob" "$@") >"$SCRATCH/$key.log" 2>&1 || { tail -n 30 "$SCRATCH/$key.log" >&2; fail "$key: bazel $* failed"; }
  SECS[$key]="$(python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$start" "$(date +%s.%N)")"
  echo "  $key: ${SECS[$key]} s" >&2
}
received() { awk '{ n += $4 } END { print n + 0 }' "$1"; }  # received LOG: bytes a proxy took in
declare -A BYTES REQS BLOBS
push() {  # push PHASE MODE: push //fleet:fleet (packages) or :fleet_single to its registry; count
  local phase="$1" mode="$2" target=fleet
  [[ "$mode" == single ]] && target=fleet_single
  : >"$SCRATCH/reg-$mode.log"
  step "push-$phase-$mode" main run "${REMOTE[@]}" "//fleet:$target.push" -- \
    --registry "127.0.0.1:${REG[$mode]}/team" --dest-tls-verify=false
  BYTES[$phase-$mode]="$(received "$SCRATCH/reg-$mode.log")"
  REQS[$phase-$mode]="$(wc -l <"$SCRATCH/reg-$mode.log")"
  BLOBS[$phase-$mode]="$(tail -n 1 "$SCRATCH/push-$phase-$mode.log" | python3 -c 'import json, sys; print(json.load(sys.stdin)["total"]["send_blobs"])')"
  echo "  $phase $mode: ${BYTES[$phase-$mode]} bytes in ${REQS[$phase-$mode]} requests received by the registry, ${BLOBS[$phase-$mode]} blobs sent" >&2
}

echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), Bazel $(dpkg-query -W -f='${Version}' bazel-bootstrap 2>/dev/null || bazel --version)" >&2
step lock main run "${REMOTE[@]}" //fleet:requirements.update
grep -q "^$BUMP==$BUMP_FROM " "$WS/fleet/requirements.lock.txt" || fail "the lock does not pin $BUMP==$BUMP_FROM"
echo "  the lock pins $(grep -c '^[a-z]' "$WS/fleet/requirements.lock.txt") distributions" >&2
step build-cold main build "${REMOTE[@]}" //fleet:fleet //fleet:fleet_single
push cold packages
push cold single
BIN="$(cd "$WS" && bz main info bazel-bin 2>/dev/null)"
# What sharing the fleet's base costs an image: its base layer against one trimmed for it alone.
step build-own main build "${REMOTE[@]}" //fleet:own_00 //fleet:own_01 //fleet:own_04
BASE_COST="$(python3 - "$BIN/fleet" <<'PY'
import json, os, sys
def base(layout):
    blob = lambda d: os.path.join(layout, "blobs", "sha256", d.split(":")[1])
    manifest = json.load(open(blob(json.load(open(os.path.join(layout, "index.json")))["manifests"][0]["digest"])))
    return manifest["layers"][0]["size"]
out = []
for n in ("04", "01", "00"):
    shared, own = base(os.path.join(sys.argv[1], "img_" + n)), base(os.path.join(sys.argv[1], "own_" + n))
    out.append("app_%s:%d:%d" % (n, shared, own))
print(",".join(out))
PY
)"
# What the fleet is: its unique blobs (every layer and config, each once) and their bytes.
read -r UNIQUE_LAYERS LAYER_REFS FLEET_BYTES < <(python3 - "$BIN/fleet" <<'PY'
import glob, json, os, sys
layers, refs, sizes = set(), 0, {}
for layout in sorted(glob.glob(os.path.join(sys.argv[1], "img_[0-9][0-9]"))):
    blob = lambda d: os.path.join(layout, "blobs", "sha256", d.split(":")[1])
    desc = json.load(open(os.path.join(layout, "index.json")))["manifests"][0]
    manifest = json.load(open(blob(desc["digest"])))
    sizes[desc["digest"]] = desc["size"]
    sizes[manifest["config"]["digest"]] = manifest["config"]["size"]
    for layer in manifest["layers"]:
        layers.add(layer["digest"])
        sizes[layer["digest"]] = layer["size"]
        refs += 1
print(len(layers), refs, sum(sizes.values()))
PY
)

echo "# one line" >>"$WS/fleet/app_00/main.py"
step build-edit main build "${REMOTE[@]}" //fleet:fleet //fleet:fleet_single
push edit packages
push edit single
# After the edit only app_00's own layers (its app layer) and its config and manifest move.
for mode in packages single; do
  tail -n 1 "$SCRATCH/push-edit-$mode.log" | python3 -c '
import json, sys
plan = json.load(sys.stdin)
moved = [(i["image"], i["send_blobs"]) for i in plan["images"] if i["send_blobs"]]
assert moved == [("fleet/app_00:latest", 2)], moved
assert [i["image"] for i in plan["images"] if not i["current"]] == ["fleet/app_00:latest"], plan["images"]
' || fail "after the edit ($mode) more moved than app_00's app layer and config (see $SCRATCH/push-edit-$mode.log)"
done
echo "  edit: only app_00's app layer and config were sent, and its manifest put; the 29 others were up to date" >&2

sed -i "s/^$BUMP==$BUMP_FROM\$/$BUMP==$BUMP_TO/" "$WS/fleet/requirements.in"
step lock-bump main run "${REMOTE[@]}" //fleet:requirements.update
grep -q "^$BUMP==$BUMP_TO " "$WS/fleet/requirements.lock.txt" || fail "the updated lock does not pin $BUMP==$BUMP_TO"
step build-bump main build "${REMOTE[@]}" //fleet:fleet //fleet:fleet_single
push bump packages
push bump single

# The lazy push: a new output base, nothing on its disk but what `bazel run` needs. What a team's
# CI does first (its push config set on the build): the manifests' own action (ImagePushRef)
# runs once and is in the cache; the new output base takes it from there.
step build-push-ref main build "${REMOTE[@]}" --//rules:push_from_cache="http://127.0.0.1:$CPORT" //fleet:fleet.push
: >"$SCRATCH/cache.log"
: >"$SCRATCH/reg-lazy.log"
step push-lazy lazy run "${REMOTE[@]}" --remote_download_toplevel \
  --//rules:push_from_cache="http://127.0.0.1:$CPORT" //fleet:fleet.push -- \
  --registry "127.0.0.1:${REG[lazy]}/team" --dest-tls-verify=false
LAZY_CLIENT="$(awk '$1 == "GET" && $0 !~ /"rules_pyimage-push/ { n += $3 } END { print n + 0 }' "$SCRATCH/cache.log")"
LAZY_STREAMED="$(awk '$1 == "GET" && $0 ~ /"rules_pyimage-push/ { n += $3 } END { print n + 0 }' "$SCRATCH/cache.log")"
LAZY_RECEIVED="$(received "$SCRATCH/reg-lazy.log")"
LAZY_TREE="$(du -sbL "$(cd "$WS" && bz lazy info output_path 2>/dev/null)" | cut -f1)"

# Everything measured, as NAME=VALUE lines, for the report.
{
  echo "unique_layers=$UNIQUE_LAYERS" "layer_references=$LAYER_REFS" "compressed_fleet_bytes=$FLEET_BYTES"
  echo "base_cost=$BASE_COST"
  for phase in cold edit bump; do
    echo "${phase}_bytes=${BYTES[$phase-packages]}" "baseline_${phase}_bytes=${BYTES[$phase-single]}"
    echo "${phase}_blobs=${BLOBS[$phase-packages]}" "baseline_${phase}_blobs=${BLOBS[$phase-single]}"
    echo "${phase}_requests=${REQS[$phase-packages]}" "baseline_${phase}_requests=${REQS[$phase-single]}"
    echo "${phase}_build_seconds=${SECS[build-$phase]}"
    echo "${phase}_push_seconds=${SECS[push-$phase-packages]}" "baseline_${phase}_push_seconds=${SECS[push-$phase-single]}"
  done
  echo "lazy_client_bytes=$LAZY_CLIENT" "lazy_streamed_bytes=$LAZY_STREAMED" "lazy_registry_bytes=$LAZY_RECEIVED"
  echo "lazy_output_tree_bytes=$LAZY_TREE" "lazy_seconds=${SECS[push-lazy]}"
} | tr ' ' '\n' >"$SCRATCH/values"
python3 - "$SCRATCH/values" "$BUMP $BUMP_FROM -> $BUMP_TO" <<'PY'
import json, sys
v = {}
for line in open(sys.argv[1]):
    name, _, value = line.strip().partition("=")
    v[name] = value if ":" in value else float(value) if "." in value else int(value)
mib = lambda n: "%.1f MiB" % (n / 1048576.0) if n > 1048576 else "%.0f KiB" % (n / 1024.0)
print("== 30 images, 2 CPython lines, one lock: what the registry received (bytes, requests)")
print("%-34s %36s %36s %8s" % ("", "per-package layers", "one venv layer", "ratio"))
print("%-34s %36s %36s %8s" % ("", "bytes (requests, blobs, push s)", "bytes (requests, blobs, push s)", "bytes"))
for phase, what in (("cold", "cold push (empty registry)"), ("edit", "after a one-line app edit"), ("bump", "after bumping " + sys.argv[2])):
    new, old = v[phase + "_bytes"], v["baseline_%s_bytes" % phase]
    print("%-34s %36s %36s %7.1fx" % (
        what, "%s (%d, %d, %.1f)" % (mib(new), v[phase + "_requests"], v[phase + "_blobs"], v[phase + "_push_seconds"]),
        "%s (%d, %d, %.1f)" % (mib(old), v["baseline_%s_requests" % phase], v["baseline_%s_blobs" % phase],
                               v["baseline_%s_push_seconds" % phase]), old / max(new, 1)))
for entry in v["base_cost"].split(","):
    app, shared, own = entry.split(":")
    print("base layer of %s: %s on the fleet's base, %s on its own trim (+%s for sharing)" % (
        app, mib(int(shared)), mib(int(own)), mib(int(shared) - int(own))))
print("unique layers: %d (of %d layer references); compressed fleet: %s" % (v["unique_layers"], v["layer_references"], mib(v["compressed_fleet_bytes"])))
print("lazy push: %s downloaded by Bazel from the cache (%.2f%% of the fleet), %s streamed cache -> registry, %s received; output tree %s"
      % (mib(v["lazy_client_bytes"]), 100.0 * v["lazy_client_bytes"] / v["compressed_fleet_bytes"], mib(v["lazy_streamed_bytes"]),
         mib(v["lazy_registry_bytes"]), mib(v["lazy_output_tree_bytes"])))
print("builds of both sets: cold %s s, edit %s s, bump %s s; lazy build and push %s s" % (
    v["cold_build_seconds"], v["edit_build_seconds"], v["bump_build_seconds"], v["lazy_seconds"]))
v.update(images=30, bump_ratio=round(v["baseline_bump_bytes"] / max(v["bump_bytes"], 1), 1),
         lazy_client_fraction=round(v["lazy_client_bytes"] / v["compressed_fleet_bytes"], 4))
print(json.dumps(v, sort_keys=True))
PY
