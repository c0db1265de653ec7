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
