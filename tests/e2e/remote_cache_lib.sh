# The shared half of the remote-cache checks: clone A builds //app:image with the remote cache
# empty (and no disk cache), so it compiles CPython and uploads every result; clone B, at another
# path with another output base, builds the same target and must take every spawn from the remote
# cache (Bazel's execution log, not timing, is the proof); both give the same image digest.
# Source it after lib.sh, then: remote_cache_check FLAGS...

remote_cache_check() {
  local flags=("$@") name ws start
  for name in a b; do
    ws="$SCRATCH/$name/checkout-$name"
    clone_to "$ws"
    start=$(date +%s)
    (cd "$ws" && bz "$name" build --disk_cache= "${flags[@]}" --execution_log_json_file="$SCRATCH/$name.exec.json" //app:image) \
      >"$SCRATCH/$name.log" 2>&1 || { tail -n 30 "$SCRATCH/$name.log" >&2; fail "build $name failed"; }
    echo $(( $(date +%s) - start )) >"$SCRATCH/$name.secs"
    cat "$(cd "$ws" && bz "$name" info bazel-bin 2>/dev/null)/app/image.digest" >"$SCRATCH/$name.digest"
    if [[ "$name" == a ]]; then
      [[ "$(spawn_status "$SCRATCH/a.exec.json" CPythonBuild)" == ran ]] || fail "clone A did not compile CPython (was the cache not empty?)"
      grep -q "WARNING: .*Remote Cache" "$SCRATCH/a.log" && { grep -A3 "WARNING: .*Remote Cache" "$SCRATCH/a.log" | head >&2; fail "clone A could not use the remote cache"; }
    fi
  done
  local ran
  ran="$(python3 "$ROOT/tests/e2e/execlog.py" local "$SCRATCH/b.exec.json")"
  [[ "$(spawn_status "$SCRATCH/b.exec.json" CPythonBuild)" == cached ]] || fail "clone B did not take CPython's compile from the remote cache"
  [[ -z "$ran" ]] || fail "clone B executed spawns locally instead of taking them from the remote cache: $ran"
  echo "ok: clone B took all $(python3 "$ROOT/tests/e2e/execlog.py" spawns "$SCRATCH/b.exec.json" | wc -l) spawns from the remote cache, CPythonBuild included"
  [[ "$(cat "$SCRATCH/a.digest")" == "$(cat "$SCRATCH/b.digest")" ]] || fail "clone B built $(cat "$SCRATCH/b.digest"), clone A $(cat "$SCRATCH/a.digest")"
  echo "ok: same image digest $(cat "$SCRATCH/a.digest") in both clones"
  echo "ok: wall time: clone A (empty cache) $(cat "$SCRATCH/a.secs") s, clone B (warm remote cache) $(cat "$SCRATCH/b.secs") s"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_nginx DIR PORT: nginx with its WebDAV module as an HTTP cache on 127.0.0.1:PORT, storing
# under DIR/cache (cas/ and ac/); sets NGINX_PID. stop_nginx stops it.
start_nginx() {
  local dir="$1" port="$2" user=""
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
  access_log off;
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
