#!/usr/bin/env bash
# A remote cache shared by a team, over HTTP (nginx's WebDAV module on 127.0.0.1, nginx-light from
# tools/setup.sh), that dies in the middle of a build. One cold CPython compile serves it all:
#  A. a clone builds //tests/image:image_3_13_15 against the empty cache; nginx is killed with
#     SIGKILL as soon as it holds CPython's compile, while Bazel goes on running and uploading the
#     actions built on it. The build succeeds on its own and warns that it could not use the remote
#     cache. What the cache holds is intact (check_http_cache.py: every blob hashes to its name,
#     every action result is complete; the check fails on a broken copy).
#  B. nginx started again on the same directory: a fresh clone takes CPython from it, runs the
#     rest and uploads it.
#  C. another fresh clone takes every spawn from the cache (Bazel's execution log, not timing, is
#     the proof); B and C build A's image digest.
# The clones make 3.13.15, which the workspace compiles without PGO and LTO (less than half the
# time), their default as well (the rules' own tools run on the default), and build the image on
# it: what is compiled does not matter here, only that it is the long action the cache dies after.
# Bazel 4's `bazel test //...` compiles 3.13.15 with the same cache key, so C also writes what it
# takes into an empty disk cache of its own, which is then added to the shared one; tools/test.sh
# runs this script before Bazel 4's `bazel test //...`, and the suite compiles 3.13.15 once.
# (tests/e2e/minimal_host_test.sh checks //app:image across hosts and a gRPC cache.)
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/remote_cache_lib.sh"

CACHE_IMAGE=//tests/image:image_3_13_15
eval "checkout_$(declare -f clone_to)"
clone_to() {  # every clone here, cache_build's too: 3.13.15 as the default, nothing compiles 3.14.7
  checkout_clone_to "$1"
  sed -i 's/^pyimage_register_toolchains(/pyimage_register_toolchains(\n    default_version = "3.13.15",/' "$1/WORKSPACE"
  grep -q 'default_version = "3.13.15"' "$1/WORKSPACE" || fail "could not make 3.13.15 the default in $1/WORKSPACE"
}

PORT="$(free_port)"
start_nginx "$SCRATCH/nginx" "$PORT"
trap 'stop_nginx; cleanup' EXIT
WS="$SCRATCH/down/checkout"
clone_to "$WS"
(cd "$WS" && bz down build --disk_cache= --remote_cache="http://127.0.0.1:$PORT" "$CACHE_IMAGE") >"$SCRATCH/build.log" 2>&1 &
BUILD=$!

# Kill the cache as soon as CPython's compile lands in it (minutes in; its action result names
# the runtime tar; the builder's unpacking lands before it).
CACHE="$SCRATCH/nginx/cache"
while kill -0 $BUILD 2>/dev/null; do
  grep -lq "cpython_3_13_15.runtime.tar" "$CACHE"/ac/* 2>/dev/null && break
  sleep 0.05
done
kill -0 $BUILD 2>/dev/null || fail "the build ended before anything was uploaded: $(tail -n 5 "$SCRATCH/build.log")"
kill_nginx
curl -s -o /dev/null "http://127.0.0.1:$PORT/" && fail "the cache still answers after it was killed"
echo "ok: nginx killed mid-build, with $(ls "$CACHE/cas" | wc -l) blobs and $(ls "$CACHE/ac" 2>/dev/null | wc -l) action results in the cache"

wait $BUILD || { tail -n 30 "$SCRATCH/build.log" >&2; fail "the build failed when the remote cache went away"; }
grep -A1 -E "^WARNING: .*(Remote Cache|remote cache)" "$SCRATCH/build.log" | head -n 2 | tr '\n' ' ' | cut -c1-240 >"$SCRATCH/warnings"
[[ -s "$SCRATCH/warnings" ]] || { tail -n 30 "$SCRATCH/build.log" >&2; fail "no warning about the remote cache"; }
echo "ok: the build succeeded without the cache, warning: $(head -n 1 "$SCRATCH/warnings")"
WANT="$(cat "$(cd "$WS" && bz down info bazel-bin 2>/dev/null)/$(image_digest_path)")"
python3 "$ROOT/tests/e2e/check_http_cache.py" "$CACHE"
# The check itself can fail: a copy with one blob altered and one action result cut short.
cp -r "$CACHE" "$SCRATCH/broken"
blob="$(ls "$SCRATCH/broken/cas" | head -n 1)" entry="$(ls "$SCRATCH/broken/ac" | head -n 1)"
printf 'x' >>"$SCRATCH/broken/cas/$blob"
head -c 20 "$CACHE/ac/$entry" >"$SCRATCH/broken/ac/$entry"
if python3 "$ROOT/tests/e2e/check_http_cache.py" "$SCRATCH/broken" >"$SCRATCH/broken.log" 2>&1; then fail "the cache check passed a broken cache"; fi
expect_in "$SCRATCH/broken.log" "cas/$blob: its content hashes to"
expect_in "$SCRATCH/broken.log" "ac/$entry: not a complete ActionResult"
echo "ok: the same check fails on a copy with an altered blob and a cut action result"

start_nginx "$SCRATCH/nginx" "$PORT"
cache_build again --remote_cache="http://127.0.0.1:$PORT" >/dev/null
AGAIN="$(cat "$SCRATCH/again.digest")"
[[ "$AGAIN" == "$WANT" ]] || fail "the build against the surviving cache gave $AGAIN, not $WANT"
echo "ok: a fresh clone against the surviving cache takes CPython from it and builds $AGAIN"

# C's disk cache starts empty, so every hit the execution log shows came from nginx.
got="$(from_cache c --remote_cache="http://127.0.0.1:$PORT" --disk_cache="$SCRATCH/c-disk")"
[[ "$(cat "$SCRATCH/c.digest")" == "$WANT" ]] || fail "clone C built $(cat "$SCRATCH/c.digest"), not $WANT"
echo "ok: clone C took every spawn from the HTTP cache ($got), CPythonBuild included, and built $WANT"
kept="$(keep_in_disk_cache "$SCRATCH/c-disk")"
echo "  and added $kept action results it took to the shared disk cache"

# D. A lazy push (docs/team.md): a fresh clone builds with --remote_download_minimal and pushes
#    with --@rules_pyimage//rules:push_from_cache set to the same cache: the config and layers
#    stream from nginx to a registry, none of them reaches D's output tree, and what the registry
#    holds pulls back with the built digest. Then a blob the cache lost fails the push, naming
#    the fix, before any tag moves.
start_registry "$SCRATCH/registry"
RPORT="$REGISTRY_PORT"
trap 'kill $REGISTRY_PID 2>/dev/null || true; stop_nginx; cleanup' EXIT
WS_D="$SCRATCH/d/checkout"
clone_to "$WS_D"
LAZY=(--disk_cache= --remote_cache="http://127.0.0.1:$PORT" --//rules:push_from_cache="http://127.0.0.1:$PORT")
(cd "$WS_D" && bz d build "${LAZY[@]}" --remote_download_minimal --execution_log_json_file="$SCRATCH/d.json" "$CACHE_IMAGE.push") \
  >"$SCRATCH/d-build.log" 2>&1 || { tail -n 30 "$SCRATCH/d-build.log" >&2; fail "clone D's build with --remote_download_minimal failed"; }
# The compiled interpreter holds no link, so Bazel 4 takes it from the cache under
# --remote_download_minimal (it compiles again when an action's outputs have one).
[[ "$(spawn_status "$SCRATCH/d.json" CPythonBuild)" == cached ]] || fail "clone D compiled CPython again under --remote_download_minimal"
! grep -q "Symlinks in action outputs" "$SCRATCH/d-build.log" || fail "an action of clone D's build has a link among its outputs: $(grep -B3 'Symlinks in action outputs' "$SCRATCH/d-build.log" | head -n 3)"
# Bazel 4's `bazel run` needs the runfiles downloaded (--remote_download_toplevel): the push's are
# its manifest, SBOM and provenance; the layers are not among them.
(cd "$WS_D" && bz d run "${LAZY[@]}" --remote_download_toplevel "$CACHE_IMAGE.push" -- \
  --repository "127.0.0.1:$RPORT/lazy/image:v1" --dest-tls-verify=false) >"$SCRATCH/d-push.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/d-push.log" >&2; fail "clone D's lazy push failed"; }
expect_in "$SCRATCH/d-push.log" "pushed 127.0.0.1:$RPORT/lazy/image:v1@$WANT"
streamed="$(grep -o '"streamed_bytes": [0-9]*' "$SCRATCH/d-push.log" | grep -o '[0-9]*$')"
[[ "${streamed:-0}" -gt 1000000 ]] || fail "the lazy push streamed ${streamed:-no} bytes from the cache"
D_BIN="$(cd "$WS_D" && bz d info bazel-bin 2>/dev/null)"
on_disk="$(find -L "$D_BIN" -name '*.tar.gz' -o -name '*.tar' -o -path '*/blobs/sha256/*' -size +100k | wc -l)"
[[ "$on_disk" -eq 0 ]] || fail "clone D's output tree holds $on_disk layer files: $(find -L "$D_BIN" -name '*.tar*' | head -n 3)"
client="$(du -sbL "$D_BIN" | cut -f1)"
skopeo copy --src-tls-verify=false "docker://127.0.0.1:$RPORT/lazy/image:v1" "oci:$SCRATCH/lazy-pulled:v1" >/dev/null 2>&1 \
  || fail "pulling the lazily pushed image back failed"
[[ "$(skopeo inspect "oci:$SCRATCH/lazy-pulled:v1" --format '{{.Digest}}')" == "$WANT" ]] || fail "pulled back another digest than $WANT"
echo "ok: clone D pushed $WANT lazily: $streamed bytes streamed from the cache to the registry, $client bytes in its output tree, no layer; pulled back the same digest"

# The cache loses a layer (as an eviction would): the push to a new repository fails before it tags.
layer="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][-1]["digest"].split(":")[1])' \
  "$(find -L "$D_BIN" -path '*.push_ref/manifest.json' | head -n 1)")"
mv "$CACHE/cas/$layer" "$SCRATCH/evicted"
if (cd "$WS_D" && bz d run "${LAZY[@]}" --remote_download_toplevel "$CACHE_IMAGE.push" -- \
    --repository "127.0.0.1:$RPORT/lazy/other:v1" --dest-tls-verify=false) >"$SCRATCH/d-evicted.log" 2>&1; then
  fail "the lazy push passed with a blob missing from the cache"
fi
mv "$SCRATCH/evicted" "$CACHE/cas/$layer"
expect_in "$SCRATCH/d-evicted.log" "no longer holds 1 of the blobs to send (sha256:$layer)"
expect_in "$SCRATCH/d-evicted.log" "--noremote_accept_cached"
status="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$RPORT/v2/lazy/other/manifests/v1")"
[[ "$status" == 404 ]] || fail "the registry has lazy/other:v1 (HTTP $status) after a failed lazy push"
echo "ok: with a layer gone from the cache the lazy push fails naming it and the fix; no tag was written"
