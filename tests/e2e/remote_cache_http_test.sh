#!/usr/bin/env bash
# A remote cache shared by a team, over HTTP: nginx's WebDAV module on 127.0.0.1 as Bazel's HTTP
# cache (nginx-light, which tools/setup.sh installs). See remote_cache_lib.sh for what is checked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/remote_cache_lib.sh"
command -v nginx >/dev/null || fail "nginx is not installed (tools/setup.sh installs nginx-light)"

PORT="$(free_port)"
mkdir -p "$SCRATCH/nginx/cache" "$SCRATCH/nginx/tmp"
# Started by root, nginx's workers would drop to a user that cannot write to the scratch dir.
NGINX_USER=""; [[ "$(id -u)" -eq 0 ]] && NGINX_USER="user root;"
cat >"$SCRATCH/nginx/nginx.conf" <<CONF
$NGINX_USER
daemon off;
pid $SCRATCH/nginx/nginx.pid;
error_log $SCRATCH/nginx/error.log;
events {}
http {
  access_log off;
  client_body_temp_path $SCRATCH/nginx/tmp;
  server {
    listen 127.0.0.1:$PORT;
    root $SCRATCH/nginx/cache;
    client_max_body_size 0;
    location / {
      dav_methods PUT;
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }
  }
}
CONF
nginx -c "$SCRATCH/nginx/nginx.conf" -p "$SCRATCH/nginx" &
NGINX_PID=$!
trap 'kill $NGINX_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.2; done
remote_cache_check --remote_cache="http://127.0.0.1:$PORT"
