#!/usr/bin/env bash
# A remote cache shared by a team, over HTTP: nginx's WebDAV module on 127.0.0.1 as Bazel's HTTP
# cache (nginx-light, which tools/setup.sh installs). See remote_cache_lib.sh for what is checked.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/remote_cache_lib.sh"

PORT="$(free_port)"
start_nginx "$SCRATCH/nginx" "$PORT"
trap 'stop_nginx; cleanup' EXIT
remote_cache_check --remote_cache="http://127.0.0.1:$PORT"
