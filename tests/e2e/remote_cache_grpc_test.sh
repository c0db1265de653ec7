#!/usr/bin/env bash
# A remote cache shared by a team, over gRPC: BuildGrid (from PyPI, locked in
# tests/e2e/buildgrid/, installed into its own venv by tools/setup.sh) on 127.0.0.1 as a REAPI
# CAS and action cache, storing blobs on disk. See remote_cache_lib.sh for what is checked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/remote_cache_lib.sh"
BGD="${PYIMAGE_BUILDGRID:-$HOME/.cache/rules_pyimage/buildgrid}/bin/bgd"
[[ -x "$BGD" ]] || fail "BuildGrid is not installed at $BGD (tools/setup.sh installs it)"

PORT="$(free_port)"
mkdir -p "$SCRATCH/buildgrid/cas"
cat >"$SCRATCH/buildgrid/config.yml" <<YML
server:
  - !channel
    address: "127.0.0.1:$PORT"
    insecure-mode: true
storages:
  - !disk-storage &cas
    path: $SCRATCH/buildgrid/cas
caches:
  - !lru-action-cache &ac
    storage: *cas
    max-cached-refs: 100000
    allow-updates: true
instances:
  - name: pyimage
    services:
      - !action-cache
        cache: *ac
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
# Bazel uploads a tree artifact's files concurrently; BuildGrid's defaults (a pool of 5 x CPUs
# threads, 25 concurrent requests) answer "Concurrent RPC limit exceeded!" to most of them.
thread-pool-size: 64
limiter:
  !limiter
  concurrent-request-limit: 1000
YML
"$BGD" server start "$SCRATCH/buildgrid/config.yml" >"$SCRATCH/buildgrid/log" 2>&1 &
BGD_PID=$!
trap 'kill $BGD_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 150); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null && break
  kill -0 $BGD_PID 2>/dev/null || { cat "$SCRATCH/buildgrid/log" >&2; fail "BuildGrid did not start"; }
  sleep 0.2
done
remote_cache_check --remote_cache="grpc://127.0.0.1:$PORT" --remote_instance_name=pyimage
