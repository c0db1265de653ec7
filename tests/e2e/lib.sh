# shellcheck shell=bash
# Helpers for the end-to-end checks. Source it; it sets ROOT and makes a scratch directory.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SCRATCH="$(mktemp -d /tmp/pyimage-e2e.XXXXXX)"
# shellcheck disable=SC2034  # for the scripts that source this
DISK_CACHE="${PYIMAGE_DISK_CACHE:-$HOME/.cache/rules_pyimage/disk}"

cleanup() {
  local ob
  for ob in "$SCRATCH"/ob-*; do
    [[ -d "$ob" ]] && (cd / && bazel --output_base="$ob" shutdown >/dev/null 2>&1 || true)
  done
  chmod -R u+w "$SCRATCH" 2>/dev/null || true
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

# A copy of the tracked files of this checkout, at DIR (a checkout at another path).
clone_to() {
  mkdir -p "$1"
  (cd "$ROOT" && git ls-files -z | xargs -0 tar -cf - --) | tar -xf - -C "$1"
}

# bazel with its own output base under SCRATCH: bz NAME ARGS... (run inside the workspace).
bz() {
  local ob="$SCRATCH/ob-$1"; shift
  bazel --output_base="$ob" "$@"
}

fail() { echo "FAIL: $*" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_registry DIR: docker-registry on a free port of 127.0.0.1, storing under DIR/data; sets
# REGISTRY_PORT and REGISTRY_PID (the caller's EXIT trap kills it) once it answers /v2/.
start_registry() {
  command -v docker-registry >/dev/null || fail "docker-registry is not installed (tools/setup.sh installs it)"
  REGISTRY_PORT="$(free_port)"
  mkdir -p "$1"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$1/data" "$REGISTRY_PORT" >"$1/config.yml"
  docker-registry serve "$1/config.yml" >"$1/log" 2>&1 &
  REGISTRY_PID=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null && return 0; sleep 0.2; done
  kill "$REGISTRY_PID" 2>/dev/null || true
  fail "docker-registry did not start (see $1/log)"
}

expect_in() {  # expect_in FILE TEXT: FILE contains TEXT
  grep -qF -- "$2" "$1" || { tail -n 30 "$1" >&2; fail "expected '$2' in the output above"; }
}

# podman's options for a private instance under $PM: its own storage, run state and libpod
# tmpdir. Without --tmpdir every instance shares /run/libpod, and the `system reset` that ends
# one test removed it under another test running beside it ("open /run/libpod/alive").
PM="$SCRATCH/podman"
podman_opts() { echo --root "$PM/root" --runroot "$PM/run" --tmpdir "$PM/tmp" --runtime runc --cgroup-manager=cgroupfs --events-backend=file; }
# shellcheck disable=SC2046  # the options hold no spaces ($SCRATCH is made by mktemp)
podman_() { podman $(podman_opts) "$@"; }

# spawn_status EXECLOG MNEMONIC: prints "ran", "cached" or "absent" for the spawns of MNEMONIC in a
# Bazel --execution_log_json_file (see execlog.py).
spawn_status() { python3 "$ROOT/tests/e2e/execlog.py" status "$1" "$2"; }
