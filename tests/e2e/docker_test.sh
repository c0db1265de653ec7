#!/usr/bin/env bash
# The example image in a real Docker engine, not only podman: Debian's docker.io (20.10) runs here
# as its own dockerd on a socket in a scratch directory (no iptables, no bridge, vfs storage, so it
# needs nothing from the host's network setup). `docker load` takes //app:image.tar, the container
# runs as 65532 and prints what the app should; `bazel run //app:image.load -- docker -H ...`
# loads into that engine too.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
DC="--disk_cache=$DISK_CACHE"
command -v dockerd >/dev/null || fail "dockerd is not installed (tools/setup.sh installs docker.io)"
bazel build "$DC" --output_groups=+digest //app:image.tar //app:image >"$SCRATCH/build.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/build.log" >&2; fail "build failed"; }
BIN="$(bazel info bazel-bin 2>/dev/null)"
DIGEST="$(cat "$BIN/app/image.digest")"
CONFIG="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[0]["Config"])' <(tar -xOf "$BIN/app/image.tar" manifest.json))"

DK="$SCRATCH/docker"
mkdir -p "$DK"
SOCK="unix://$DK/docker.sock"
dockerd --host "$SOCK" --data-root "$DK/data" --exec-root "$DK/exec" --pidfile "$DK/docker.pid" \
  --iptables=false --ip-masq=false --bridge=none --storage-driver=vfs >"$DK/dockerd.log" 2>&1 &
DOCKERD=$!
stop_docker() {
  # shellcheck disable=SC2046  # one argument per container id
  docker -H "$SOCK" rm -f $(docker -H "$SOCK" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
  kill "$DOCKERD" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$DOCKERD" 2>/dev/null || break; sleep 0.2; done
  umount -R "$DK" 2>/dev/null || true
}
trap 'stop_docker; cleanup' EXIT
for _ in $(seq 60); do docker -H "$SOCK" version >/dev/null 2>&1 && break; sleep 0.5; done
docker -H "$SOCK" version >/dev/null 2>&1 || { tail -n 20 "$DK/dockerd.log" >&2; fail "dockerd did not start"; }
echo "docker engine $(docker -H "$SOCK" version --format '{{.Server.Version}}') on $SOCK"

docker -H "$SOCK" load -i "$BIN/app/image.tar" >"$SCRATCH/load.log" 2>&1 || { cat "$SCRATCH/load.log" >&2; fail "docker load failed"; }
expect_in "$SCRATCH/load.log" "Loaded image: rules_pyimage/example:latest"
id="$(docker -H "$SOCK" image inspect --format '{{.Id}}' rules_pyimage/example:latest)"
[[ "$id" == "sha256:${CONFIG#blobs/sha256/}" ]] || fail "docker's image ID is $id, not the config digest $CONFIG"
docker -H "$SOCK" run --rm --network none rules_pyimage/example:latest >"$SCRATCH/run.log" 2>&1 \
  || { cat "$SCRATCH/run.log" >&2; fail "the container failed under docker"; }
for want in "Hello from rules_pyimage on CPython 3.14.7" "interpreter: /opt/pyimage/venv/bin/python3" \
            "markupsafe 3.0.4 speedups=True" "libyaml=True"; do
  expect_in "$SCRATCH/run.log" "$want"
done
ids="$(docker -H "$SOCK" run --rm --network none --entrypoint /opt/pyimage/venv/bin/python3 rules_pyimage/example:latest \
  -c 'import os; print(os.getuid(), os.getgid())')"
[[ "$ids" == "65532 65532" ]] || fail "under docker the app runs as '$ids', not 65532 65532"
echo "ok: docker load -i image.tar, then docker run: the app prints what it should, as 65532:65532"

docker -H "$SOCK" rmi rules_pyimage/example:latest >/dev/null
bazel run "$DC" //app:image.load -- docker -H "$SOCK" >"$SCRATCH/bazel-load.log" 2>&1 \
  || { cat "$SCRATCH/bazel-load.log" >&2; fail "bazel run //app:image.load -- docker failed"; }
expect_in "$SCRATCH/bazel-load.log" "loaded rules_pyimage/example:latest (manifest $DIGEST) into docker"
[[ "$(docker -H "$SOCK" image inspect --format '{{.Id}}' rules_pyimage/example:latest)" == "$id" ]] \
  || fail "bazel run //app:image.load did not load the image into docker"
echo "ok: bazel run //app:image.load -- docker -H $SOCK loads it into that engine ($id)"
