#!/usr/bin/env bash
# The lint gate, in seconds, before the long suite: buildifier (format and lint) on every Starlark
# file, ruff on every Python file and shellcheck on every shell script that git tracks, each with
# the configuration committed at the root (.buildifier.json, ruff.toml, .shellcheckrc).
#
#   tools/lint.sh           # check: prints each finding and exits 1 if there is one
#   tools/lint.sh --fix     # buildifier and ruff rewrite what they can, then check
#   tools/lint.sh --setup   # only install the linters (tools/setup.sh runs this)
#
# The linters come through this machine's own package clients, each pinned and checked before it
# is unpacked or run: buildifier from the npm package @bazel/buildifier (which carries the
# prebuilt binaries; its tarball's sha256 is below), ruff from PyPI
# (tools/lint/requirements.lock.txt, pip --require-hashes), shellcheck from Debian (apt). They
# are kept in $PYIMAGE_LINT_TOOLS (default ~/.cache/rules_pyimage/lint).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILDIFIER_VERSION=8.2.1
BUILDIFIER_NPM_SHA256=b96ea9b13003036c801f52bee6f9b0314738f8432e5cb9d814c89f59292604ee
RUFF_LOCK=tools/lint/requirements.lock.txt
TOOLS="${PYIMAGE_LINT_TOOLS:-$HOME/.cache/rules_pyimage/lint}"
BUILDIFIER="$TOOLS/buildifier-$BUILDIFIER_VERSION"
RUFF="$TOOLS/ruff-venv/bin/ruff"

die() { echo "lint: $*" >&2; exit 1; }
SUDO=""
[[ "$(id -u)" -eq 0 ]] || SUDO="sudo"
apt_install() {
  echo "lint: installing $* (apt)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

setup() {
  mkdir -p "$TOOLS"
  command -v shellcheck >/dev/null || apt_install shellcheck
  if [[ ! -x "$BUILDIFIER" ]]; then
    command -v npm >/dev/null || apt_install npm
    local arch tmp
    case "$(uname -m)" in
      x86_64) arch=amd64 ;;
      aarch64) arch=arm64 ;;
      *) die "no buildifier binary for $(uname -m) in @bazel/buildifier" ;;
    esac
    tmp="$(mktemp -d)"
    # shellcheck disable=SC2064 # expand now: tmp is local
    trap "rm -rf '$tmp'" RETURN
    echo "lint: fetching @bazel/buildifier@$BUILDIFIER_VERSION (npm)"
    (cd "$tmp" && npm pack --silent "@bazel/buildifier@$BUILDIFIER_VERSION" >/dev/null) \
      || die "npm pack @bazel/buildifier@$BUILDIFIER_VERSION failed (is npm configured for a registry?)"
    local got
    got="$(sha256sum "$tmp/bazel-buildifier-$BUILDIFIER_VERSION.tgz" | cut -d' ' -f1)"
    [[ "$got" == "$BUILDIFIER_NPM_SHA256" ]] \
      || die "@bazel/buildifier@$BUILDIFIER_VERSION has sha256 $got, but tools/lint.sh pins $BUILDIFIER_NPM_SHA256; refused"
    tar -xzf "$tmp/bazel-buildifier-$BUILDIFIER_VERSION.tgz" -C "$tmp" "package/buildifier-linux_$arch"
    chmod 0755 "$tmp/package/buildifier-linux_$arch"
    mv "$tmp/package/buildifier-linux_$arch" "$BUILDIFIER"
  fi
  local want
  want="$(sha256sum <"$RUFF_LOCK" | cut -d' ' -f1)"
  if [[ "$(cat "$TOOLS/ruff-venv/lock.sha256" 2>/dev/null)" != "$want" ]]; then
    echo "lint: installing ruff into $TOOLS/ruff-venv (PyPI, $RUFF_LOCK)"
    rm -rf "$TOOLS/ruff-venv"
    /usr/bin/python3 -m venv "$TOOLS/ruff-venv"
    "$TOOLS/ruff-venv/bin/pip" install -q --disable-pip-version-check --require-hashes --no-deps -r "$RUFF_LOCK"
    echo "$want" >"$TOOLS/ruff-venv/lock.sha256"
  fi
}

MODE=check
case "${1:-}" in
  "") ;;
  --fix) MODE=fix ;;
  --setup) setup; exit 0 ;;
  *) die "unknown argument '$1' (tools/lint.sh [--fix|--setup])" ;;
esac
setup

mapfile -t STARLARK < <(git ls-files '*.bzl' '*BUILD.bazel' '*WORKSPACE' '*MODULE.bazel')
mapfile -t PYTHON < <(git ls-files '*.py')
mapfile -t SHELL < <(git ls-files '*.sh' '*.sh.tpl' .ci/run)

failed=()
if [[ "$MODE" == fix ]]; then
  "$BUILDIFIER" -mode=fix -lint=fix "${STARLARK[@]}" || true
  "$RUFF" check --no-cache --fix --quiet "${PYTHON[@]}" || true
fi
"$BUILDIFIER" -mode=check -lint=warn "${STARLARK[@]}" || failed+=("buildifier (tools/lint.sh --fix formats; the rest by hand)")
"$RUFF" check --no-cache --quiet "${PYTHON[@]}" || failed+=(ruff)
shellcheck "${SHELL[@]}" || failed+=(shellcheck)
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "lint: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "lint: ${#STARLARK[@]} Starlark, ${#PYTHON[@]} Python and ${#SHELL[@]} shell files pass buildifier $BUILDIFIER_VERSION, ruff and shellcheck"
