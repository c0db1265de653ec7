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
# (`bazel run ...update`); gpgv checks the signed .dsc files behind //toolchains:versions.update. The rest is for the tests: chroot and mmdebstrap (the base-layer test,
# and a minimal Debian host without a compiler, entered with util-linux's unshare and pivot_root
# and mount; setpriv enters the builder as an ordinary user), xz-utils (a fake release tarball), procps
# (pkill: tests/e2e/remote_cache_http_test.sh kills the cache server mid-build), podman with runc, skopeo and
# umoci (to load, run and check images; no Docker daemon is needed), and the servers the tests
# start on 127.0.0.1: docker-registry (push; apache2-utils' htpasswd for its password file; gpg for signed pushes), docker.io (a Docker engine of the test's own: tests/e2e/docker_test.sh), nginx-light (WebDAV remote cache) and BuildGrid
# (gRPC remote cache; from PyPI into its own venv, hence python3-venv); python3-grpcio for the lazy
# push from a gRPC cache (tests/e2e/minimal_host_test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  bazel-bootstrap bazel-skylib git ca-certificates curl python3 python3-pip coreutils tar debian-archive-keyring gpgv
  python3-venv xz-utils mmdebstrap util-linux mount procps podman runc skopeo umoci docker-registry nginx-light
  apache2-utils gpg gpg-agent docker.io shellcheck python3-grpcio
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

# cosign, for the signed provenance that tests/e2e/image_test.sh pushes and verifies (`.push --
# --attest-key`): Debian sid's package, a Go program that needs only glibc 2.34, fetched from this
# machine's Debian mirror (its apt configuration, or PYIMAGE_DEBIAN_MIRROR) and checked against
# this sha256 before it is unpacked into ~/.cache/rules_pyimage/cosign.
COSIGN_DEB=pool/main/c/cosign/cosign_3.1.1-2_amd64.deb
COSIGN_SHA256=d8622ebffce1d69197288fc030ff06a4c247af5507107f85c5a878870b686b23
COSIGN_DIR="${PYIMAGE_COSIGN_DIR:-$HOME/.cache/rules_pyimage/cosign}"
if [[ "$(cat "$COSIGN_DIR/deb.sha256" 2>/dev/null)" != "$COSIGN_SHA256" ]]; then
  echo "setup: installing cosign into $COSIGN_DIR"
  mirror="${PYIMAGE_DEBIAN_MIRROR:-$(python3 rules/private/tools/apt_sources.py | python3 -c 'import json, sys; print((json.load(sys.stdin)["archive"] or [""])[0])')}"
  [[ -n "$mirror" ]] || { echo "setup: no Debian mirror in this machine's apt configuration; set PYIMAGE_DEBIAN_MIRROR" >&2; exit 1; }
  tmp="$(mktemp -d)"
  curl -fsS --retry 3 "$mirror/$COSIGN_DEB" -o "$tmp/cosign.deb" \
    || { rm -rf "$tmp"; echo "setup: $COSIGN_DEB is not on the Debian mirror; update COSIGN_DEB and COSIGN_SHA256 in tools/setup.sh from sid's Packages index" >&2; exit 1; }
  echo "$COSIGN_SHA256  $tmp/cosign.deb" | sha256sum -c --quiet - \
    || { rm -rf "$tmp"; echo "setup: $COSIGN_DEB does not have the sha256 in tools/setup.sh; it is refused" >&2; exit 1; }
  dpkg-deb -x "$tmp/cosign.deb" "$tmp/root"
  rm -rf "$COSIGN_DIR"
  mkdir -p "$COSIGN_DIR/bin"
  mv "$tmp/root/usr/bin/cosign" "$COSIGN_DIR/bin/cosign"
  rm -rf "$tmp"
  echo "$COSIGN_SHA256" >"$COSIGN_DIR/deb.sha256"
fi

# The lint gate's linters (buildifier from npm, ruff from PyPI, shellcheck from apt), each pinned.
tools/lint.sh --setup

# python.org may be unreachable: put the identical tarballs in Bazel's repository cache.
python3 tools/mirror_cpython.py

# Bazel 7.7.1 (Debian sid's bazel-bootstrap) in a sid root filesystem, for the Bazel 7 half of the
# tests: made once from this machine's apt mirror, kept in ~/.cache/rules_pyimage/bazel7-rootfs.
tools/bazel7.sh --setup
