#!/usr/bin/env bash
# What a team sees, measured once each on this machine with a shared HTTP remote cache (nginx
# WebDAV on 127.0.0.1, as in tests/e2e/remote_cache_http_test.sh):
#   cold        clone A, new output base, empty remote cache: compiles CPython, fills the cache
#   warm remote clone B at another path, new output base, the cache A filled
#   no-op       B again, nothing changed
#   app line    B after one line of app/main.py changed
#   new dep     B after a dependency was added to requirements.in, the lock updated
#               (`bazel run //app:requirements.update`, timed apart) and the app depending on it
# Each prints its seconds and its ratio to the cold build. Downloads (CPython sources, .debs,
# wheels) come from Bazel's repository cache when it has them; that is not what is measured.
#
#   bench/team.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/tests/e2e/lib.sh"  # SCRATCH, clone_to, bz, fail; the scratch dir goes at exit
source "$ROOT/tests/e2e/remote_cache_lib.sh"
PORT="$(free_port)"
start_nginx "$SCRATCH/nginx" "$PORT"
trap 'stop_nginx; cleanup' EXIT
CACHE=(--disk_cache= --remote_cache="http://127.0.0.1:$PORT")

declare -A SECS
timed() {  # timed KEY CLONE ARGS...: bazel ARGS in the clone's checkout, its seconds in SECS[KEY]
  local key="$1" name="$2" start end; shift 2
  start=$(date +%s.%N)
  (cd "$SCRATCH/$name/checkout" && bz "$name" "$@") >"$SCRATCH/$key.log" 2>&1 \
    || { tail -n 30 "$SCRATCH/$key.log" >&2; fail "$key: bazel $* failed"; }
  end=$(date +%s.%N)
  SECS[$key]="$(python3 -c "print('%.1f' % ($end - $start))")"
  echo "  $key: ${SECS[$key]} s" >&2
}

clone_to "$SCRATCH/a/checkout"
clone_to "$SCRATCH/b/checkout"
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(. /etc/os-release && echo "$PRETTY_NAME"), Bazel $(dpkg-query -W -f='${Version}' bazel-bootstrap 2>/dev/null || bazel --version)" >&2
timed cold a build "${CACHE[@]}" //app:image
timed warm b build "${CACHE[@]}" //app:image
timed noop b build "${CACHE[@]}" //app:image
echo "# a changed line" >>"$SCRATCH/b/checkout/app/main.py"
timed appline b build "${CACHE[@]}" //app:image
B="$SCRATCH/b/checkout"
echo "six  # added by bench/team.sh" >>"$B/app/requirements.in"
timed lockupdate b run "${CACHE[@]}" //app:requirements.update
grep -q '^six==' "$B/app/requirements.lock.txt" || fail "the updated lock has no six"
sed -i 's#"@pypi//pyyaml",#"@pypi//pyyaml",\n        "@pypi//six",#' "$B/app/BUILD.bazel"
grep -q '"@pypi//six"' "$B/app/BUILD.bazel" || fail "could not add @pypi//six to //app:app"
timed newdep b build "${CACHE[@]}" //app:image

cold="${SECS[cold]}"
row() { python3 -c "import sys; print('%-58s %7.1f s  %6.3f x cold' % (sys.argv[1], float(sys.argv[2]), float(sys.argv[2]) / float(sys.argv[3])))" "$1" "$2" "$cold"; }
echo "== //app:image for a team sharing a remote cache (one run each)"
row "cold: new clone, empty cache (compiles CPython)" "$cold"
row "fresh clone at another path, warm remote cache" "${SECS[warm]}"
row "no-op rebuild" "${SECS[noop]}"
row "rebuild after a one-line app change" "${SECS[appline]}"
row "rebuild after adding a dependency (six) to the lock" "${SECS[newdep]}"
row "  (the lock update before it: requirements.update)" "${SECS[lockupdate]}"
