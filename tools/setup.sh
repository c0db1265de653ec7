#!/usr/bin/env bash
# Installs what rules_pyimage needs on a Debian 12 host, then seeds Bazel's repository cache with
# the CPython release tarballs and makes the Bazel 7 root filesystem (tools/bazel7.sh). Safe to run
# again: it installs only what is missing.
#
#   tools/setup.sh
#
# Host packages (see README, "Host packages"). The build itself needs only Bazel 4.2.3 from Debian,
# bash, tar and coreutils, and the fetch clients: python3 with pip (the locked Python
# distributions are fetched by the host pip before any interpreter is built; the same python3
# unpacks the hermetic builder) and curl (to tell a tampered download from a missing one). No
# compiler and no -dev package: every compile runs inside the hermetic builder, made from
# third_party/debian/builder.lock.json. apt and the Debian keyring resolve the Debian locks
# (`bazel run ...update`). The rest is for the tests: chroot and mmdebstrap (the base-layer test,
# and a minimal Debian host without a compiler, entered with util-linux's unshare and pivot_root
# and mount; setpriv enters the builder as an ordinary user), xz-utils (a fake release tarball), procps
# (pkill: tests/e2e/remote_cache_http_test.sh kills the cache server mid-build), podman with runc, skopeo and
# umoci (to load, run and check images; no Docker daemon is needed), and the servers the tests
# start on 127.0.0.1: docker-registry (push; apache2-utils' htpasswd for its password file; gpg for signed pushes), docker.io (a Docker engine of the test's own: tests/e2e/docker_test.sh), nginx-light (WebDAV remote cache) and BuildGrid
# (gRPC remote cache; from PyPI into its own venv, hence python3-venv).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  bazel-bootstrap bazel-skylib git ca-certificates curl python3 python3-pip coreutils tar debian-archive-keyring
  python3-venv xz-utils mmdebstrap util-linux mount procps podman runc skopeo umoci docker-registry nginx-light
  apache2-utils gpg gpg-agent docker.io shellcheck
)

SUDO=""
[[ "$(id -u)" -eq 0 ]] || SUDO="sudo"
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# BuildGrid for tests/e2e/minimal_host_test.sh (the gRPC cache), from its hashed lock, into a venv that is
# made again when the lock changes. pip finds it through the machine's own pip configuration.
BUILDGRID="${PYIMAGE_BUILDGRID:-$HOME/.cache/rules_pyimage/buildgrid}"
BG_LOCK=tests/e2e/buildgrid/requirements.lock.txt
bg_want="$(sha256sum <"$BG_LOCK" | cut -d' ' -f1)"
if [[ "$(cat "$BUILDGRID/lock.sha256" 2>/dev/null)" != "$bg_want" ]]; then
  echo "setup: installing BuildGrid into $BUILDGRID"
  rm -rf "$BUILDGRID"
  /usr/bin/python3 -m venv "$BUILDGRID"
  "$BUILDGRID/bin/pip" install -q --disable-pip-version-check --require-hashes --no-deps -r "$BG_LOCK"
  echo "$bg_want" >"$BUILDGRID/lock.sha256"
fi

# The lint gate's linters (buildifier from npm, ruff from PyPI, shellcheck from apt), each pinned.
tools/lint.sh --setup

# python.org may be unreachable: put the identical tarballs in Bazel's repository cache.
python3 tools/mirror_cpython.py

# Bazel 7.7.1 (Debian sid's bazel-bootstrap) in a sid root filesystem, for the Bazel 7 half of the
# tests: made once from this machine's apt mirror, kept in ~/.cache/rules_pyimage/bazel7-rootfs.
tools/bazel7.sh --setup
