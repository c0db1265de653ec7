#!/usr/bin/env bash
# Set-up, then build and run the example application.
#
#   tools/example.sh
#
# Today this runs //app on the CPython toolchain compiled from source; when the image rule lands
# it builds //app:image and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
exec bazel run --disk_cache="${PYIMAGE_DISK_CACHE:-$HOME/.cache/rules_pyimage/disk}" //app
