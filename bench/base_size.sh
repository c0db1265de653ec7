#!/usr/bin/env bash
# Size of the Debian base layer against `debootstrap --variant=minbase` of the same release, both
# uncompressed and gzipped (-6), from one run. Needs root (debootstrap) and the Debian mirror of
# this machine's apt configuration (or PYIMAGE_DEBIAN_MIRROR).
#
#   bench/base_size.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
W="$(mktemp -d /tmp/pyimage-bench-base.XXXXXX)"
trap 'rm -rf "$W"' EXIT
command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null

cd "$ROOT"
bazel build --disk_cache="${PYIMAGE_DISK_CACHE:-$HOME/.cache/rules_pyimage/disk}" //third_party/debian:runtime_rootfs >/dev/null 2>&1
LAYER="$(bazel info bazel-bin 2>/dev/null)/third_party/debian/runtime_rootfs.tar"

MIRROR="$(python3 rules/private/tools/apt_sources.py | python3 -c 'import json, sys; print((json.load(sys.stdin)["archive"] or [""])[0])')"
debootstrap --variant=minbase bookworm "$W/minbase" "$MIRROR" >"$W/debootstrap.log" 2>&1 \
  || { tail -n 20 "$W/debootstrap.log" >&2; exit 1; }
# What an image of it would hold: not the downloaded .debs or apt's lists.
rm -rf "$W"/minbase/var/cache/apt/archives/*.deb "$W"/minbase/var/lib/apt/lists/*_Packages "$W"/minbase/var/cache/apt/*.bin
tar -C "$W/minbase" --sort=name --numeric-owner -cf "$W/minbase.tar" .

size() { stat -c %s "$1"; }
gz() { gzip -6 -n -c "$1" | wc -c; }
python3 - "$(size "$LAYER")" "$(gz "$LAYER")" "$(size "$W/minbase.tar")" "$(gz "$W/minbase.tar")" \
  "$(tar -tf "$LAYER" | wc -l)" "$(tar -tf "$W/minbase.tar" | wc -l)" <<'PY'
import sys
ours, ours_gz, mb, mb_gz, n_ours, n_mb = map(int, sys.argv[1:])
mib = lambda n: "%7.1f MiB" % (n / 1048576)
print("Debian bookworm base           uncompressed     gzipped   entries")
print("  rules_pyimage runtime layer  %s  %s   %7d" % (mib(ours), mib(ours_gz), n_ours))
print("  debootstrap --variant=minbase %s  %s   %7d" % (mib(mb), mib(mb_gz), n_mb))
print("  ratio ours / minbase         %11.2f  %11.2f" % (ours / mb, ours_gz / mb_gz))
PY
