#!/usr/bin/env bash
# Runs Bazel 7 (Debian sid's bazel-bootstrap 7.7.1) on this Debian 12 host, in the current
# directory, with the arguments given:
#
#   tools/bazel7.sh build //app:image          # bzlmod (MODULE.bazel), the default
#   PYIMAGE_BAZEL7_MODE=workspace tools/bazel7.sh build //...   # WORKSPACE mode (see below)
#   tools/bazel7.sh --setup                    # only make the root filesystem (tools/setup.sh does)
#   tools/bazel7.sh --rootfs                   # print the root filesystem's path (made if missing)
#
# Debian 12 ships Bazel 4.2.3 only. The first run makes a Debian sid root filesystem with
# mmdebstrap from this machine's own apt mirror (about 2 minutes, 1.4 GB; kept in
# $PYIMAGE_BAZEL7_ROOTFS, default ~/.cache/rules_pyimage/bazel7-rootfs, and made again when the
# package list below changes). Bazel then runs in a new mount and PID namespace whose root is that
# filesystem (pivot_root, like tests/e2e/minimal_host_test.sh), with these host paths bound at
# the same place: $HOME, /tmp, the current directory, the rules_pyimage checkout, and any in
# PYIMAGE_BAZEL7_BINDS (colon-separated). The host's resolver, CA bundle, pip and apt
# configuration are bound in read-only, so fetches go where the host's go. Bazel's output user
# root is ~/.cache/rules_pyimage/bazel7-out (never Bazel 4's). The server ends with the command.
#
# What Bazel 7 needs that Debian does not ship is given here, not downloaded: in the root
# filesystem's /etc/bazel.bazelrc, Debian's own settings (install base, its rule sets rules_cc,
# rules_java, rules_license, rules_proto, rules_python, platforms, bazel_skylib as module
# overrides) and `--override_module` stand-ins (empty modules) for apple_support, protobuf,
# buildozer and zlib, which Bazel 7's built-in module graph names but nothing here uses.
# WORKSPACE mode is there for experiments only: Bazel 7's WORKSPACE suffix fetches rules_license
# and others from the network, which a workspace would have to declare by hand.
set -euo pipefail

SELF_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STORE="${PYIMAGE_CACHE:-$HOME/.cache/rules_pyimage}"
ROOTFS="${PYIMAGE_BAZEL7_ROOTFS:-$STORE/bazel7-rootfs}"
OUT_ROOT="$STORE/bazel7-out"
# gpgv: //toolchains:versions.update and its test check signed .dsc files with it (sid's apt uses sqv).
PACKAGES="bazel-bootstrap,bazel-skylib,python3,python3-pip,curl,ca-certificates,git,xz-utils,gpgv"
WANT="$(printf '%s\n' "$PACKAGES" | sha256sum | cut -c1-16)"

die() { echo "tools/bazel7.sh: $*" >&2; exit 1; }

make_rootfs() {
  [[ "$(cat "$ROOTFS/.complete" 2>/dev/null)" == "$WANT" ]] && return 0
  command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (apt-get install mmdebstrap; tools/setup.sh does)"
  [[ "$(id -u)" -eq 0 ]] || die "making the Bazel 7 root filesystem needs root (mmdebstrap, mount namespaces)"
  local uri log
  # The machine's Debian mirror, from its own apt configuration (or PYIMAGE_DEBIAN_MIRROR).
  uri="$(python3 "$SELF_DIR/rules/private/tools/apt_sources.py" | python3 -c 'import json, sys; print((json.load(sys.stdin)["archive"] or [""])[0])')"
  [[ -n "$uri" ]] || die "no Debian mirror in this machine's apt configuration; set PYIMAGE_DEBIAN_MIRROR"
  echo "tools/bazel7.sh: making the Debian sid root filesystem for Bazel 7 in $ROOTFS (once, about 2 minutes)" >&2
  rm -rf "$ROOTFS" "$ROOTFS.tmp"
  mkdir -p "$(dirname "$ROOTFS")"
  log="$(mktemp)"
  # sid's Release file on a frozen mirror may have expired: its signature is still checked.
  if ! mmdebstrap --variant=minbase --include="$PACKAGES" \
      --aptopt='APT::Install-Recommends "false"' --aptopt='Acquire::Check-Valid-Until "false"' \
      sid "$ROOTFS.tmp" "deb $uri sid main" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -rf "$ROOTFS.tmp" "$log"
    die "mmdebstrap failed (above)"
  fi
  rm -f "$log"
  # Empty modules for what Bazel 7's built-in module graph names and Debian does not ship.
  for m in apple_support protobuf buildozer zlib; do
    mkdir -p "$ROOTFS.tmp/opt/pyimage-bazel7/stub/$m"
    printf 'module(name = "%s")\n' "$m" >"$ROOTFS.tmp/opt/pyimage-bazel7/stub/$m/MODULE.bazel"
    : >"$ROOTFS.tmp/opt/pyimage-bazel7/stub/$m/BUILD.bazel"
    : >"$ROOTFS.tmp/opt/pyimage-bazel7/stub/$m/WORKSPACE"
  done
  # Debian's /etc/bazel/bazelrc (its install base, its rule sets as module overrides) is where
  # Bazel 4 looked; Bazel 7 reads /etc/bazel.bazelrc. The same settings there, without
  # --sandbox_debug, plus the stand-ins.
  {
    echo "# Written by rules_pyimage's tools/bazel7.sh from Debian's /etc/bazel/bazelrc."
    grep -v -e '^try-import' -e 'sandbox_debug' "$ROOTFS.tmp/etc/bazel/bazelrc"
    for m in apple_support protobuf buildozer zlib; do
      echo "common --override_module=$m=/opt/pyimage-bazel7/stub/$m"
    done
  } >"$ROOTFS.tmp/etc/bazel.bazelrc"
  echo "$WANT" >"$ROOTFS.tmp/.complete"
  mv "$ROOTFS.tmp" "$ROOTFS"
}

make_rootfs
[[ "${1:-}" == "--setup" ]] && exit 0
[[ "${1:-}" == "--rootfs" ]] && { echo "$ROOTFS"; exit 0; }
[[ $# -gt 0 ]] || die "usage: tools/bazel7.sh COMMAND [ARGS...]"

command="$1"
shift
BAZEL8_DEFAULTS=(
  --incompatible_use_plus_in_repo_names
  --incompatible_disallow_empty_glob
  --incompatible_disable_native_repo_rules
  --incompatible_autoload_externally=
  --incompatible_no_implicit_file_export
  --incompatible_check_visibility_for_toolchains
  --incompatible_config_setting_private_default_visibility
  --incompatible_disable_starlark_host_transitions
  --incompatible_disable_target_provider_fields
  --incompatible_fail_on_unknown_attributes
  --incompatible_merge_fixed_and_default_shell_env
  --incompatible_unambiguous_label_stringification
)
startup=(--output_user_root="$OUT_ROOT" --nohome_rc)
flags=()
case "$command" in
  build | test | run | query | cquery | aquery | fetch | coverage | mod | info | clean | sync | shutdown | version) ;;
  *) die "unknown Bazel command '$command'" ;;
esac
if [[ "$command" != shutdown && "$command" != version && "$command" != info ]]; then
  # The repository cache Bazel 4 uses on this host (tools/mirror_cpython.py seeds it): one
  # content-addressed store of downloads for both Bazels.
  # No bazel-* links in the workspace: Bazel 4 would walk into Bazel 7's (`bazel-<dir>`) for
  # //...; `tools/bazel7.sh info bazel-bin` tells where the outputs are.
  flags+=(--symlink_prefix=/)
  # No MODULE.bazel.lock written into the workspace (nothing here is resolved from a registry).
  flags+=(--lockfile_mode=off)
  flags+=(--repository_cache="${PYIMAGE_REPOSITORY_CACHE:-$HOME/.cache/bazel/_bazel_$(id -un)/cache/repos/v1}")
  if [[ "${PYIMAGE_BAZEL7_MODE:-bzlmod}" == workspace ]]; then
    flags+=(--enable_workspace --noenable_bzlmod)
  else
    flags+=(--noenable_workspace --enable_bzlmod)
    # The module lane runs with what Bazel 8 and 9 switch on by default, where 7.7.1 has the
    # flag already (docs/team.md, "Bazel 8 and 9": these pass; the ones that cannot are there).
    flags+=("${BAZEL8_DEFAULTS[@]}")
  fi
fi

binds=("$HOME" /tmp "$PWD" "$SELF_DIR")
IFS=: read -r -a extra <<<"${PYIMAGE_BAZEL7_BINDS:-}"
binds+=("${extra[@]}")
mkdir -p "$OUT_ROOT"

# A mount and PID namespace whose root is the sid filesystem; the host's paths above at the same
# place, and its network configuration read-only.
exec unshare --mount --pid --fork --propagation private /bin/bash -c '
  set -e
  R="$1"; shift
  n="$1"; shift
  mount --bind "$R" "$R"
  mount --rbind /dev "$R/dev"; mount -t proc proc "$R/proc"; mount --rbind /sys "$R/sys"
  mount -t tmpfs tmpfs "$R/run"
  for i in $(seq 1 "$n"); do
    d="$1"; shift
    [ -d "$d" ] || continue
    mkdir -p "$R$d"
    mount --rbind "$d" "$R$d"
  done
  for f in /etc/resolv.conf /etc/hosts /etc/ssl/certs/ca-certificates.crt /etc/pip.conf /etc/xdg/pip /etc/apt/sources.list.d /etc/apt/sources.list /etc/apt/apt.conf.d /etc/apt/trusted.gpg.d /usr/share/keyrings/debian-archive-keyring.gpg; do
    if [ -e "$f" ]; then
      if [ -d "$f" ]; then mkdir -p "$R$f"; else mkdir -p "$(dirname "$R$f")"; [ -e "$R$f" ] || : >"$R$f"; fi
      mount --bind "$f" "$R$f"; mount -o remount,bind,ro "$R$f" 2>/dev/null || true
    fi
  done
  cwd="$1"; shift
  mkdir -p "$R/.oldroot"
  cd "$R"
  pivot_root . .oldroot
  umount -l /.oldroot
  rmdir /.oldroot
  cd "$cwd"
  export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  exec bazel "$@"' bash "$ROOTFS" "${#binds[@]}" "${binds[@]}" "$PWD" "${startup[@]}" "$command" "${flags[@]}" "$@"
