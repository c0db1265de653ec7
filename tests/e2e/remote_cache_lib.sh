# shellcheck shell=bash
# Remote-cache helpers for the end-to-end checks (source after lib.sh): nginx's WebDAV module as an
# HTTP cache, BuildGrid as a gRPC (REAPI) cache, the check that a fresh clone takes every spawn
# from a cache, and keeping what it took in the suite's disk cache.

# The image the clones build (a label of py_image), and where its digest is under bazel-bin.
CACHE_IMAGE="${CACHE_IMAGE:-//app:image}"
image_digest_path() { local p="${CACHE_IMAGE#//}"; echo "${p/://}.digest"; }

# cache_build NAME FLAGS...: a fresh clone at SCRATCH/NAME builds CACHE_IMAGE with FLAGS (a remote
# cache) and no disk cache; CPython's compile must come from the cache. Writes Bazel's execution
# log to SCRATCH/NAME.json and the manifest digest to SCRATCH/NAME.digest; prints the seconds.
cache_build() {
  local name="$1" ws="$SCRATCH/$1/checkout" start
  shift
  clone_to "$ws"
  start=$(date +%s)
  (cd "$ws" && bz "$name" build --disk_cache= "$@" --execution_log_json_file="$SCRATCH/$name.json" "$CACHE_IMAGE") \
    >"$SCRATCH/$name.log" 2>&1 || { tail -n 30 "$SCRATCH/$name.log" >&2; fail "clone $name's build against the cache failed"; }
  echo $(( $(date +%s) - start ))
  [[ "$(spawn_status "$SCRATCH/$name.json" CPythonBuild)" == cached ]] || fail "clone $name did not take CPython's compile from the cache"
  cat "$(cd "$ws" && bz "$name" info bazel-bin 2>/dev/null)/$(image_digest_path)" >"$SCRATCH/$name.digest"
}

# keep_in_disk_cache DIR: adds the Bazel disk cache DIR (what a clone took from a remote cache, with
# --disk_cache=DIR beside --remote_cache) to the shared one, DISK_CACHE, so that a later build of
# the suite takes the same actions from it instead of running them. Entries are named by action
# key (ac/) or content (cas/), so one already there is kept; each new one is copied under a
# temporary name and renamed, as Bazel writes them, so that an interruption leaves no half-written
# entry, and the blobs go first, so that no action result names a blob not yet there. Prints the
# number of action results added.
keep_in_disk_cache() {
  [[ -n "$(ls "$1/ac" 2>/dev/null)" ]] || fail "Bazel wrote nothing into the disk cache $1"
  python3 - "$1" "$DISK_CACHE" <<'PY' || fail "adding the cache entries of $1 to $DISK_CACHE failed"
import os, shutil, sys, tempfile
src, dst = sys.argv[1:]
added = 0
for kind in ("cas", "ac"):
    for top, _, names in os.walk(os.path.join(src, kind)):
        out = os.path.join(dst, os.path.relpath(top, src))
        os.makedirs(out, exist_ok=True)
        for name in names:
            if os.path.exists(os.path.join(out, name)):
                continue
            fd, tmp = tempfile.mkstemp(dir=out, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f, open(os.path.join(top, name), "rb") as g:
                    shutil.copyfileobj(g, f)
                os.replace(tmp, os.path.join(out, name))
            except BaseException:
                os.unlink(tmp)
                raise
            added += kind == "ac"
print(added)
PY
}

# from_cache NAME FLAGS...: cache_build, and every other spawn must be a cache hit too (Bazel's
# execution log, not timing, is the proof). Prints the spawn count and seconds.
from_cache() {
  local secs ran
  secs="$(cache_build "$@")"
  ran="$(python3 "$ROOT/tests/e2e/execlog.py" local "$SCRATCH/$1.json")"
  [[ -z "$ran" ]] || fail "clone $1 executed spawns locally instead of taking them from the cache: $ran"
  echo "$(python3 "$ROOT/tests/e2e/execlog.py" spawns "$SCRATCH/$1.json" | wc -l) spawns in $secs s"
}

# start_nginx DIR PORT [LOG]: nginx with its WebDAV module as an HTTP cache on 127.0.0.1:PORT,
# storing under DIR/cache (cas/ and ac/); sets NGINX_PID. stop_nginx stops it. With LOG, each
# request is a line there: METHOD STATUS BYTES_SENT BYTES_RECEIVED "USER_AGENT" (bench/fleet.sh).
start_nginx() {
  local dir="$1" port="$2" log="access_log off;" user=""
  [[ -n "${3:-}" ]] && log="log_format counted '\$request_method \$status \$body_bytes_sent \$request_length \"\$http_user_agent\"'; access_log $3 counted;"
  command -v nginx >/dev/null || fail "nginx is not installed (tools/setup.sh installs nginx-light)"
  mkdir -p "$dir/cache" "$dir/tmp"
  # Started by root, nginx's workers would drop to a user that cannot write to the scratch dir.
  [[ "$(id -u)" -eq 0 ]] && user="user root;"
  cat >"$dir/nginx.conf" <<CONF
$user
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log;
events {}
http {
  $log
  client_body_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$port;
    root $dir/cache;
    client_max_body_size 0;
    location / {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
CONF
  nginx -c "$dir/nginx.conf" -p "$dir" &
  NGINX_PID=$!
  disown "$NGINX_PID"
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0; sleep 0.2; done
  fail "nginx did not start (see $dir/error.log)"
}
# kill_nginx: SIGKILL to nginx and its workers at once, as if the cache host died.
kill_nginx() {
  kill -STOP "$NGINX_PID"  # so that it cannot start a new worker in between
  pkill -KILL -P "$NGINX_PID" || true
  kill -KILL "$NGINX_PID"
  NGINX_PID=""
}
stop_nginx() { if [[ -n "${NGINX_PID:-}" ]]; then kill "$NGINX_PID" 2>/dev/null || true; fi; NGINX_PID=""; }

# start_buildgrid DIR PORT: BuildGrid (from PyPI, locked in tests/e2e/buildgrid/, installed into its
# own venv by tools/setup.sh) on 127.0.0.1:PORT as a REAPI CAS and action cache, instance
# "pyimage", storing blobs under DIR/cas; sets BGD_PID. stop_buildgrid stops it.
start_buildgrid() {
  local dir="$1" port="$2"
  local bgd="${PYIMAGE_BUILDGRID:-$HOME/.cache/rules_pyimage/buildgrid}/bin/bgd"
  [[ -x "$bgd" ]] || fail "BuildGrid is not installed at $bgd (tools/setup.sh installs it)"
  mkdir -p "$dir/cas"
  cat >"$dir/config.yml" <<YML
server:
  - !channel
    address: "127.0.0.1:$port"
    insecure-mode: true
storages:
  - !disk-storage &cas
    path: $dir/cas
caches:
  - !lru-action-cache &ac
    storage: *cas
    max-cached-refs: 100000
    allow-updates: true
instances:
  - name: pyimage
    services:
      - !action-cache
        cache: *ac
      - !cas
        storage: *cas
      - !bytestream
        storage: *cas
# Bazel uploads a tree artifact's files concurrently; BuildGrid's defaults (a pool of 5 x CPUs
# threads, 25 concurrent requests) answer "Concurrent RPC limit exceeded!" to most of them.
thread-pool-size: 64
limiter:
  !limiter
  concurrent-request-limit: 1000
YML
  "$bgd" server start "$dir/config.yml" >"$dir/log" 2>&1 &
  BGD_PID=$!
  for _ in $(seq 150); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && return 0
    kill -0 $BGD_PID 2>/dev/null || { cat "$dir/log" >&2; fail "BuildGrid did not start"; }
    sleep 0.2
  done
  fail "BuildGrid did not listen on 127.0.0.1:$port (see $dir/log)"
}
stop_buildgrid() { if [[ -n "${BGD_PID:-}" ]]; then kill "$BGD_PID" 2>/dev/null || true; fi; BGD_PID=""; }
