#!/usr/bin/env bash
# Runs one command inside the hermetic builder: a root filesystem made only of the packages of
# third_party/debian/builder.lock.json (see builder_rootfs.py), entered through bubblewrap from
# that same tree, in new user, mount, PID, network, IPC and UTS namespaces.
#
#   in_builder.sh --rootfs BUILDER.tar [--copy SRC=/INNER ...] [--out /pyimage-out/PATH=DEST ...]
#                 [--env NAME=VALUE ...] [--chdir /INNER] -- COMMAND [ARG ...]
#
# In:  the builder tar; inputs to copy in (SRC relative to the action's working directory, links
#      followed, so no path of this host is visible inside); the command, run as uid 0 of the
#      new user namespace, with only PATH, HOME, LC_ALL, TZ and the --env values set.
# Out: each --out path copied from inside to DEST (a file, or a directory's contents into DEST).
#
# The command sees the builder as its whole filesystem: nothing of this host's /usr, /lib or /etc,
# no network, a private /tmp, /proc and /dev. The host provides only the kernel, this bash, tar
# to unpack the builder, find, realpath and cp; bubblewrap and everything the command runs come
# from the builder. It needs user namespaces (root, or an ordinary user where the kernel allows
# unprivileged ones).
#
# What the command runs may be hostile (an sdist's build hooks), so:
# - the builder's root, and the inputs copied into it, are read-only; the command can write only
#   to its private /tmp (a tmpfs) and to /pyimage-out, a directory this script made on the host
#   and bound in (a mount point: the command cannot replace it with a link);
# - every result is copied out only after the command and every process it started have ended
#   (the PID namespace ends with it), and only if no part of its path is a link, it holds nothing
#   but regular files, directories and links that stay inside it, and no file has a set-user-ID
#   or set-group-ID bit. Links are copied as links, never followed.
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
# The one directory the command writes its results to.
OUT_DIR=/pyimage-out
for spec in "${OUTS[@]}"; do
  inner="${spec%%=*}"
  [[ "$inner" == "$OUT_DIR" || "$inner" == "$OUT_DIR"/* ]] && [[ "$inner/" != *"/../"* && "$inner/" != *"/./"* ]] \
    || die "--out $spec: the path inside the builder must be $OUT_DIR or below it, without '.' or '..'"
done

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
  case "$dst/" in
    /tmp/*|"$OUT_DIR"/*|/proc/*|/dev/*) die "--copy $spec: /tmp, /proc, /dev and $OUT_DIR are mounted over; copy inputs elsewhere (for example /pyimage-in)" ;;
  esac
  mkdir -p "$R$(dirname "$dst")"
  cp -RL "$EXECROOT/$src" "$R$dst"
done
# The results' directory: made here, empty, and bound in over a mount point of the same name.
mkdir "$B/out" "$R$OUT_DIR"
OUT_ROOT="$(realpath "$B/out")"

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
  --ro-bind "$R" / --dev /dev --proc /proc --tmpfs /tmp --bind "$B/out" "$OUT_DIR"
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

# Copy-out. A result must be where the command was told to write it, in the directory bound in,
# with no link on its way (a link made inside would point into this host). Every result is
# checked before any is copied, so a refused one leaves nothing behind.
shown() { echo "${1/#"$OUT_ROOT"/$OUT_DIR}"; }
refuse() {
  die "the command's result $1; nothing is copied out. A command in the builder may write only regular files, directories and links that stay inside its result to $OUT_DIR (did an sdist's build hook tamper with it?)"
}
check_result() {  # check_result INNER HOSTPATH
  local inner="$1" path="$2" entry target
  [[ -e "$path" || -L "$path" ]] || die "the command made no $inner"
  target="$(realpath -m -- "$path")"
  [[ "$target" == "$path" ]] || refuse "$inner is, or lies under, a link (to $(shown "$target"))"
  entry="$(find "$path" ! -type f ! -type d ! -type l -print -quit)"
  [[ -z "$entry" ]] || refuse "$(shown "$entry") is neither a file, a directory nor a link"
  entry="$(find "$path" \( -type f -o -type d \) -perm /6000 -print -quit)"
  [[ -z "$entry" ]] || refuse "$(shown "$entry") has a set-user-ID or set-group-ID bit"
  while IFS= read -r -d '' entry; do
    target="$(readlink -- "$entry")"
    [[ "$target" != /* ]] || refuse "$(shown "$entry") is a link to the absolute path $target"
    target="$(realpath -m -- "$entry")"
    [[ "$target" == "$path"/* ]] || refuse "$(shown "$entry") is a link that leads out of $inner (to $(shown "$target"))"
  done < <(find "$path" -type l -print0)
}
for spec in "${OUTS[@]}"; do
  inner="${spec%%=*}"
  check_result "$inner" "$OUT_ROOT${inner#"$OUT_DIR"}"
done
for spec in "${OUTS[@]}"; do
  inner="${spec%%=*}" dst="$EXECROOT/${spec#*=}"
  src="$OUT_ROOT${inner#"$OUT_DIR"}"
  if [[ -d "$src" ]]; then
    mkdir -p "$dst"
    cp -RP "$src/." "$dst/"
  else
    mkdir -p "$(dirname "$dst")"
    cp -P "$src" "$dst"
  fi
done
