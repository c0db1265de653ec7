#!/usr/bin/env bash
# Set-up, then build the example image (//app:image) and run it with podman.
#
#   tools/example.sh
#
# podman runs with runc and its own storage under ~/.cache/rules_pyimage/podman, so nothing else
# on the machine is touched and no Docker daemon is needed.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
DC="--disk_cache=${PYIMAGE_DISK_CACHE:-$HOME/.cache/rules_pyimage/disk}"
bazel build "$DC" //app:image //app:image.tar
ARCHIVE="$(bazel info bazel-bin 2>/dev/null)/app/image.tar"
PM="$HOME/.cache/rules_pyimage/podman"
P=(podman --root "$PM/root" --runroot "$PM/run" --tmpdir "$PM/tmp" --runtime runc --cgroup-manager=cgroupfs --events-backend=file)
"${P[@]}" load -i "$ARCHIVE"
exec "${P[@]}" run --rm --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 rules_pyimage/example:latest
