#!/usr/bin/env bash
# Runs one command inside the hermetic builder: a root filesystem made only of the packages of
# third_party/debian/builder.lock.json (see builder_rootfs.py), entered through bubblewrap from
# that same tree, in new user, mount, PID, network, IPC and UTS namespaces.
#
#   in_builder.sh --rootfs BUILDER.tar [--copy SRC=/INNER ...] [--out /INNER=DEST ...]
#                 [--env NAME=VALUE ...] [--chdir /INNER] -- COMMAND [ARG ...]
#
# In:  the builder tar; inputs to copy in (SRC relative to the action's working directory, links
#      followed, so no path of this host is visible inside); the command, run as uid 0 of the
#      new user namespace, with only PATH, HOME, LC_ALL, TZ and the --env values set.
# Out: each --out path copied from inside to DEST (a file, or a directory's contents into DEST).
#
# The command sees the builder as its whole filesystem: nothing of this host's /usr, /lib or /etc,
# no network, a private /tmp, /proc and /dev. The host provides only the kernel, this bash, tar
# to unpack the builder and cp; bubblewrap and everything the command runs come from the builder.
# It needs user namespaces (root, or an ordinary user where the kernel allows unprivileged ones).
set -euo pipefail

die() { echo "ERROR: hermetic builder: $*" >&2; exit 1; }

ROOTFS="" CHDIR="/build" COPIES=() OUTS=() ENVS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rootfs) ROOTFS="$2"; shift 2 ;;
    --copy) COPIES+=("$2"); shift 2 ;;
    --out) OUTS+=("$2"); shift 2 ;;
    --env) ENVS+=("$2"); shift 2 ;;
    --chdir) CHDIR="$2"; shift 2 ;;
    --) shift; break ;;
    *) die "in_builder.sh: unknown argument '$1'" ;;
  esac
done
[[ -n "$ROOTFS" && $# -gt 0 ]] || die "in_builder.sh: needs --rootfs and a command after --"
EXECROOT="$PWD"

# A short private directory on this host; removed whatever happens.
B="$(mktemp -d "${PYIMAGE_BUILDER_TMP:-/tmp}/pyimage-builder.XXXXXXXX")"
trap 'chmod -R u+w "$B" 2>/dev/null; rm -rf "$B"' EXIT
R="$B/root"
mkdir "$R"
tar -xf "$EXECROOT/$ROOTFS" -C "$R" --no-same-owner 2>"$B/untar.log" \
  || die "could not unpack $ROOTFS: $(head -c 300 "$B/untar.log")"

for spec in "${COPIES[@]}"; do
  src="${spec%%=*}" dst="${spec#*=}"
  [[ "$dst" == /* && "$dst" != *..* ]] || die "--copy $spec: the destination must be an absolute path inside the builder"
  mkdir -p "$R$(dirname "$dst")"
  cp -RL "$EXECROOT/$src" "$R$dst"
done

# bubblewrap and the dynamic loader it runs on, both from the builder: nothing of the host's.
LOADER="" LIBS=""
for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do
  [[ -f "$R/$d/ld-linux-x86-64.so.2" && ! -L "$R/$d/ld-linux-x86-64.so.2" ]] && LOADER="$R/$d/ld-linux-x86-64.so.2"
  LIBS="${LIBS:+$LIBS:}$R/$d"
done
[[ -n "$LOADER" && -f "$R/usr/bin/bwrap" ]] \
  || die "the builder has no dynamic loader or no /usr/bin/bwrap; libc6 and bubblewrap must be in third_party/debian/builder.txt (then: bazel run @rules_pyimage//third_party/debian:builder.update)"
BWRAP=("$LOADER" --library-path "$LIBS" "$R/usr/bin/bwrap")

SANDBOX=(--unshare-user --unshare-ipc --unshare-pid --unshare-net --unshare-uts --unshare-cgroup-try
  --uid 0 --gid 0 --hostname builder --die-with-parent
  --bind "$R" / --dev /dev --proc /proc --tmpfs /tmp
  --clearenv --setenv PATH /usr/sbin:/usr/bin:/sbin:/bin --setenv HOME /root
  --setenv LC_ALL C --setenv TZ UTC --setenv TMPDIR /tmp)

# Can this kernel and user make the namespaces? Asked once, cheaply, for a clear answer.
if ! "${BWRAP[@]}" "${SANDBOX[@]}" -- /bin/true 2>"$B/probe.log"; then
  die "cannot enter the builder's namespaces as $(id -un) (uid $(id -u)): $(head -c 400 "$B/probe.log")
The builder needs user namespaces: run as root, or as a user on a kernel that allows unprivileged
ones (sysctl user.max_user_namespaces > 0; on Debian kernels before 6.x also
kernel.unprivileged_userns_clone = 1; on Ubuntu 24.04 and later
kernel.apparmor_restrict_unprivileged_userns = 0). Inside a container, allow it to create
namespaces (for example podman/docker --security-opt seccomp=unconfined --cap-add SYS_ADMIN)."
fi

for spec in "${ENVS[@]}"; do SANDBOX+=(--setenv "${spec%%=*}" "${spec#*=}"); done
"${BWRAP[@]}" "${SANDBOX[@]}" --chdir "$CHDIR" -- "$@"

for spec in "${OUTS[@]}"; do
  src="$R${spec%%=*}" dst="$EXECROOT/${spec#*=}"
  [[ -e "$src" ]] || die "the command made no ${spec%%=*}"
  if [[ -d "$src" ]]; then
    mkdir -p "$dst"
    cp -R "$src/." "$dst/"
  else
    mkdir -p "$(dirname "$dst")"
    cp "$src" "$dst"
  fi
done
