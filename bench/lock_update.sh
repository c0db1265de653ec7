#!/usr/bin/env bash
# Lock update times, uv (wheel_lock's default resolver) against pip-tools (resolver =
# "pip-tools"), both through `bazel run //app:requirements.update` (Bazel's own time included):
#   - the example app's requirements.in (3 pins) and bench/fleet_gen.py's fleet (33 pins),
#   - warm: the resolver's cache filled by an untimed run first; cold: an empty cache (a new
#     XDG_CACHE_HOME, which uv's and pip's caches live under), the index still answering;
#   - the best of 3 runs of each;
# and "add a requirement" end to end in a clone of this checkout: six added to requirements.in,
# the lock updated, @pypi//six added to //app:app, `bazel build //app:image` (Bazel's disk cache
# warm, as on a developer's machine), with each resolver. Prints seconds and ratios; checks that
# both resolvers wrote the same pins. The talk's Dockerfile is not run here (no base image can be
# pulled on this machine): its 32 s for the same change, measured where it can run, is the
# reference the issue gives.
#
#   bench/lock_update.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/tests/e2e/lib.sh"  # SCRATCH, clone_to, bz, fail; the scratch dir goes at exit
DC="--disk_cache=${PYIMAGE_DISK_CACHE:-$HOME/.cache/rules_pyimage/disk}"
W="$SCRATCH/work"
mkdir -p "$W/fleet" "$W/example"
python3 "$ROOT/bench/fleet_gen.py" "$W/fleet-pkg" >/dev/null
cp "$W/fleet-pkg/requirements.in" "$W/fleet/requirements.in"
cp "$ROOT/app/requirements.in" "$W/example/requirements.in"

# The update target of a clone, so that nothing of this checkout is written.
C="$SCRATCH/clone/checkout"
clone_to "$C"
cd "$C"
bz main build "$DC" //app:requirements.update //app:image >"$SCRATCH/prebuild.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/prebuild.log" >&2; fail "bazel build in the clone failed"; }

declare -A SECS PINS
now() { date +%s.%N; }
update() {  # update SET RESOLVER CACHE_DIR: one lock update from nothing, its seconds on stdout
  local set="$1" resolver="$2" cache="$3" t0 t1
  rm -f "$W/$set/requirements.lock.txt"
  t0=$(now)
  XDG_CACHE_HOME="$cache" bz main run "$DC" //app:requirements.update -- --resolver="$resolver" \
    --requirements="$W/$set/requirements.in" --lock="$W/$set/requirements.lock.txt" >"$SCRATCH/update.log" 2>&1 \
    || { tail -n 30 "$SCRATCH/update.log" >&2; fail "$set $resolver: the lock update failed"; }
  t1=$(now)
  python3 -c "print('%.3f' % ($t1 - $t0))"
}
best() { python3 -c "import sys; print(min(map(float, sys.argv[1:])))" "$@"; }
for set in example fleet; do
  for resolver in uv pip-tools; do
    warm="$W/cache-$resolver"
    update "$set" "$resolver" "$warm" >/dev/null  # fills the warm cache
    SECS[$set-$resolver-warm]="$(best "$(update "$set" "$resolver" "$warm")" "$(update "$set" "$resolver" "$warm")" "$(update "$set" "$resolver" "$warm")")"
    PINS[$set-$resolver]="$(grep -E '^[A-Za-z0-9]' "$W/$set/requirements.lock.txt" | cut -d' ' -f1 | sort | tr '\n' ' ')"
    colds=()
    for n in 1 2 3; do colds+=("$(update "$set" "$resolver" "$W/cold-$resolver-$set-$n")"); done
    SECS[$set-$resolver-cold]="$(best "${colds[@]}")"
  done
  [[ "${PINS[$set-uv]}" == "${PINS[$set-pip-tools]}" ]] || fail "$set: uv and pip-tools pinned differently: ${PINS[$set-uv]} / ${PINS[$set-pip-tools]}"
done

# Add a requirement, end to end, once with each resolver (the clone reset in between).
cp app/requirements.in "$W/requirements.in.orig"
cp app/requirements.lock.txt "$W/requirements.lock.orig"
cp app/BUILD.bazel "$W/BUILD.orig"
for resolver in uv pip-tools; do
  cp "$W/requirements.in.orig" app/requirements.in
  cp "$W/requirements.lock.orig" app/requirements.lock.txt
  cp "$W/BUILD.orig" app/BUILD.bazel
  t0=$(now)
  echo "six  # added by bench/lock_update.sh" >>app/requirements.in
  XDG_CACHE_HOME="$W/cache-$resolver" bz main run "$DC" //app:requirements.update -- --resolver="$resolver" >"$SCRATCH/add-lock.log" 2>&1 \
    || { tail -n 30 "$SCRATCH/add-lock.log" >&2; fail "add six ($resolver): the lock update failed"; }
  t1=$(now)
  grep -q '^six==' app/requirements.lock.txt || fail "add six ($resolver): the lock has no six"
  sed -i 's#"@pypi//pyyaml",#"@pypi//pyyaml",\n        "@pypi//six",#' app/BUILD.bazel
  grep -q '"@pypi//six"' app/BUILD.bazel || fail "could not add @pypi//six to //app:app"
  bz main build "$DC" //app:image >"$SCRATCH/add-build.log" 2>&1 \
    || { tail -n 30 "$SCRATCH/add-build.log" >&2; fail "add six ($resolver): bazel build //app:image failed"; }
  t2=$(now)
  SECS[add-$resolver-lock]="$(python3 -c "print('%.3f' % ($t1 - $t0))")"
  SECS[add-$resolver-all]="$(python3 -c "print('%.3f' % ($t2 - $t0))")"
done

uv_version="$(ls -d "$(bz main info output_base 2>/dev/null)"/external/pyimage_tools/uv/*.whl | sed 's#.*/uv-\([^-]*\)-.*#\1#')"
python3 - "$uv_version" \
  "${SECS[example-uv-warm]}" "${SECS[example-pip-tools-warm]}" "${SECS[example-uv-cold]}" "${SECS[example-pip-tools-cold]}" \
  "${SECS[fleet-uv-warm]}" "${SECS[fleet-pip-tools-warm]}" "${SECS[fleet-uv-cold]}" "${SECS[fleet-pip-tools-cold]}" \
  "${SECS[add-uv-lock]}" "${SECS[add-uv-all]}" "${SECS[add-pip-tools-lock]}" "${SECS[add-pip-tools-all]}" <<'PY'
import sys
v = sys.argv[1]
t = list(map(float, sys.argv[2:]))
print("== lock update, bazel run //app:requirements.update (best of 3; uv %s against pip-tools)" % v)
print("%-36s %9s %11s %9s" % ("", "uv", "pip-tools", "ratio"))
for i, (name, pins) in enumerate([("example (3 pins)", 3), ("fleet (33 pins)", 33)]):
    for j, cache in enumerate(["warm", "cold"]):
        uv, pt = t[4 * i + 2 * j], t[4 * i + 2 * j + 1]
        print("%-36s %7.2f s %9.2f s %8.1fx" % ("%s, %s cache" % (name, cache), uv, pt, pt / uv))
print("== add a requirement (six): edit requirements.in, update the lock, add the dep, bazel build //app:image")
print("%-36s %7.2f s %9.2f s %8.1fx" % ("lock update", t[8], t[10], t[10] / t[8]))
print("%-36s %7.2f s %9.2f s %8.1fx" % ("in all", t[9], t[11], t[11] / t[9]))
print("%-36s %7.2f s   (the talk's Dockerfile, 32 s: %.1fx)" % ("", t[9], 32 / t[9]))
print("same pins from both resolvers: yes (checked for the example and the fleet)")
PY
