#!/usr/bin/env bash
# Bad input gives one clear error naming the thing and what to do. The toolchain: an unknown
# version, a wrong sha256, an unreachable tarball, a tarball that is not CPython, a failing
# configure, a relative prefix, plain_versions naming a version not built, a builder lock that lacks a -dev package. Debian packages: a tampered .deb, a version no longer served. Each runs in a scratch workspace that loads rules_pyimage with local_repository.
source "$(dirname "$0")/lib.sh"

WS="$SCRATCH/ws"
mkdir -p "$WS"
touch "$WS/BUILD.bazel"
printf 'build --nosandbox_debug\n' > "$WS/.bazelrc"

# A tarball that is not CPython, served from a file:// URL.
mkdir -p "$SCRATCH/fake/Python-3.99.1"
echo 'not python' > "$SCRATCH/fake/Python-3.99.1/README"
tar -C "$SCRATCH/fake" -cJf "$SCRATCH/Python-3.99.1.tar.xz" Python-3.99.1
FAKE_SHA="$(sha256sum "$SCRATCH/Python-3.99.1.tar.xz" | cut -d' ' -f1)"
ZERO_SHA="$(printf '0%.0s' $(seq 64))"

workspace() {  # workspace ARGS-OF-pyimage_register_toolchains
  cat > "$WS/WORKSPACE" <<WS
workspace(name = "e2e")
local_repository(name = "rules_pyimage", path = "$ROOT")
load("@rules_pyimage//rules:repositories.bzl", "pyimage_register_toolchains")
load("@rules_pyimage//toolchains:versions.bzl", "CPYTHON_VERSIONS")
pyimage_register_toolchains($1)
WS
}

build() {  # build LOGNAME TARGET: must fail
  if (cd "$WS" && bz bad build --disk_cache= "$2") >"$SCRATCH/$1.log" 2>&1; then
    cat "$SCRATCH/$1.log" >&2; fail "$1: the build succeeded"
  fi
  echo "ok: $1 fails: $(grep -m1 -E "ERROR: CPython|Error in fail|CPython [0-9.]+: " "$SCRATCH/$1.log" | cut -c1-200)"
}

workspace 'python_versions = ["3.12.0"]'
build unknown_version @pyimage_python//:python3
expect_in "$SCRATCH/unknown_version.log" "unknown CPython version '3.12.0'"
expect_in "$SCRATCH/unknown_version.log" "toolchains/versions.bzl"

workspace 'python_versions = ["3.13.15t"]'
build free_threaded_too_old @pyimage_python//:python3
expect_in "$SCRATCH/free_threaded_too_old.log" "'3.13.15t' asks for a free-threaded build of CPython 3.13.15; it is supported from 3.14 on (PEP 779)"

workspace "python_versions = [\"3.99.1\"], cpython_versions = {\"3.99.1\": {\"url\": \"file://$SCRATCH/Python-3.99.1.tar.xz\", \"sha256\": \"$ZERO_SHA\"}}"
build wrong_sha256 @pyimage_python//:python3
expect_in "$SCRATCH/wrong_sha256.log" "CPython 3.99.1: Python-3.99.1.tar.xz from"
expect_in "$SCRATCH/wrong_sha256.log" "has sha256 $FAKE_SHA, but toolchains/versions.bzl pins $ZERO_SHA. The file is refused."

workspace "python_versions = [\"3.99.2\"], cpython_versions = {\"3.99.2\": {\"url\": \"file://$SCRATCH/nowhere/Python-3.99.2.tar.xz\", \"sha256\": \"$ZERO_SHA\"}}"
build unreachable @pyimage_python//:python3
expect_in "$SCRATCH/unreachable.log" "CPython 3.99.2: Python-3.99.2.tar.xz: could not fetch it"
expect_in "$SCRATCH/unreachable.log" "tools/mirror_cpython.py"

workspace "python_versions = [\"3.99.1\"], cpython_versions = {\"3.99.1\": {\"url\": \"file://$SCRATCH/Python-3.99.1.tar.xz\", \"sha256\": \"$FAKE_SHA\"}}"
build not_cpython @pyimage_python//:python3
expect_in "$SCRATCH/not_cpython.log" "ERROR: CPython 3.99.1: Python-3.99.1.tar.xz is not a CPython source tree"

workspace 'python_versions = ["3.11.2"], configure_flags = ["CC=/nonexistent/cc"]'
build configure_fails @pyimage_python//:python3
expect_in "$SCRATCH/configure_fails.log" "ERROR: CPython 3.11.2: ./configure failed"
expect_in "$SCRATCH/configure_fails.log" "configure_flags"

workspace 'python_versions = ["3.11.2"], prefix = "opt/relative"'
build bad_prefix @pyimage_python//:python3
expect_in "$SCRATCH/bad_prefix.log" "prefix 'opt/relative' must be an absolute path"

workspace 'python_versions = ["3.11.2"], plain_versions = ["3.13.15"]'
build plain_unknown @pyimage_python//:python3
expect_in "$SCRATCH/plain_unknown.log" "plain_versions names '3.13.15', which is not in python_versions [\"3.11.2\"]"

# Debian packages: a .deb whose sha256 differs from the lock, and a version the mirror no longer
# serves (a stale lock).
python3 - "$ROOT/third_party/debian/runtime.lock.json" "$WS" "$ZERO_SHA" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
netbase = [p for p in lock["packages"] if p["name"] == "netbase"][0]
tampered = dict(netbase, sha256=sys.argv[3])
# (a sha256 that no cache holds: Bazel serves a cached file by its hash whatever the URL)
gone = dict(netbase, version="0.0-gone", filename="pool/main/n/netbase/netbase_0.0-gone_all.deb",
            sha256="1" * 64)
for name, pkg in [("tampered", tampered), ("gone", gone)]:
    json.dump(dict(lock, packages=[pkg]), open("%s/%s.lock.json" % (sys.argv[2], name), "w"))
PY
deb_workspace() {  # deb_workspace LOCK: a workspace whose @deb is that lock's packages
  cat > "$WS/WORKSPACE" <<WS
workspace(name = "e2e")
local_repository(name = "rules_pyimage", path = "$ROOT")
load("@rules_pyimage//rules:repositories.bzl", "pyimage_debian_packages", "pyimage_register_toolchains")
pyimage_register_toolchains()
pyimage_debian_packages(name = "deb", lock = "//:$1.lock.json")
WS
}
for case in tampered gone; do
  deb_workspace "$case"
  build "deb_$case" @deb//:debs
done
expect_in "$SCRATCH/deb_tampered.log" "Debian package netbase"
expect_in "$SCRATCH/deb_tampered.log" "but //:tampered.lock.json pins $ZERO_SHA. The file is refused."
expect_in "$SCRATCH/deb_gone.log" "Debian package netbase 0.0-gone"
expect_in "$SCRATCH/deb_gone.log" "the lock is stale. Run: bazel run //:gone.update"

# Crafted lock entries: every field is checked before it reaches a path, a URL or BUILD text.
python3 - "$ROOT/third_party/debian/runtime.lock.json" "$WS" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
netbase = [p for p in lock["packages"] if p["name"] == "netbase"][0]
cases = {
    "quote": dict(netbase, name='netbase", srcs = ["//evil"]) #'),
    "newline": dict(netbase, version="6.4\nexec(evil)"),
    "dotdot": dict(netbase, filename="pool/../../../etc/netbase.deb"),
}
for case, pkg in cases.items():
    json.dump(dict(lock, packages=[pkg]), open("%s/crafted_%s.lock.json" % (sys.argv[2], case), "w"))
PY
for case in quote newline dotdot; do
  deb_workspace "crafted_$case"
  build "deb_crafted_$case" @deb//:debs
  expect_in "$SCRATCH/deb_crafted_$case.log" "make it again with: bazel run //:crafted_$case.update"
done
expect_in "$SCRATCH/deb_crafted_quote.log" "entry 0 of //:crafted_quote.lock.json has a bad 'name' (the character"
expect_in "$SCRATCH/deb_crafted_newline.log" "has a bad 'version' (the character \"\\n\" is not allowed)"
expect_in "$SCRATCH/deb_crafted_dotdot.log" "has a bad 'filename' (not a path pool/.../NAME.deb inside the archive)"

# The hermetic builder: a builder lock without libssl-dev fails before configure, naming the
# header, the package and the command that refreshes that lock.
python3 - "$ROOT/third_party/debian/builder.lock.json" "$WS/nossl.lock.json" <<'PY'
import json, sys
lock = json.load(open(sys.argv[1]))
lock["packages"] = [p for p in lock["packages"] if p["name"] != "libssl-dev"]
json.dump(lock, open(sys.argv[2], "w"))
PY
workspace 'python_versions = ["3.11.2"], builder_lock = "//:nossl.lock.json"'
build builder_lacks_libssl_dev @pyimage_python//:python3
expect_in "$SCRATCH/builder_lacks_libssl_dev.log" "/usr/include/openssl/ssl.h (from the Debian package libssl-dev)"
expect_in "$SCRATCH/builder_lacks_libssl_dev.log" "the hermetic builder lacks the files above"
expect_in "$SCRATCH/builder_lacks_libssl_dev.log" "bazel run //:nossl.update"

# A C extension whose header the builder lacks (//tests/pip:pyimagebroken_wheel, manual): the
# wheel build names the package, the header and the fix. Built in this workspace with the shared
# disk cache, so only the wheel build runs.
if (cd "$ROOT" && bazel build --disk_cache="$DISK_CACHE" //tests/pip:pyimagebroken_wheel) >"$SCRATCH/sdist_header.log" 2>&1; then
  cat "$SCRATCH/sdist_header.log" >&2; fail "sdist_header: the build succeeded"
fi
expect_in "$SCRATCH/sdist_header.log" "pyimagebroken 1.0: its C extension needs the header pyimage_no_such_lib.h, which the hermetic builder lacks"
expect_in "$SCRATCH/sdist_header.log" "and run: bazel run @rules_pyimage//third_party/debian:builder.update"
echo "ok: sdist_header fails: $(grep -m1 -o 'pyimagebroken 1.0: its C extension needs[^;]*' "$SCRATCH/sdist_header.log")"

# An sdist whose build hook plants a link to a host file (/etc/shadow) beside its wheel in the
# builder's results directory (//tests/pip:pyimageescape_wheel, manual): the copy-out refuses it,
# naming the link, and no output of the action is left (a copy-out that followed the link put the
# host's file into the wheel's tree artifact, and from there into the caches).
if (cd "$ROOT" && bazel build --disk_cache="$DISK_CACHE" //tests/pip:pyimageescape_wheel) >"$SCRATCH/sdist_escape.log" 2>&1; then
  cat "$SCRATCH/sdist_escape.log" >&2; fail "sdist_escape: the build succeeded"
fi
expect_in "$SCRATCH/sdist_escape.log" "the command's result /pyimage-out/stolen.whl is a link to the absolute path /etc/shadow; nothing is copied out"
ESCAPED="$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null)/tests/pip/pyimageescape_wheel.wheel"
[[ -z "$(ls -A "$ESCAPED" 2>/dev/null)" ]] || fail "sdist_escape: the refused action left $(ls "$ESCAPED")"
echo "ok: sdist_escape fails: $(grep -m1 -o "the command's result /pyimage-out/stolen.whl[^;]*" "$SCRATCH/sdist_escape.log")"

# An image user that is root in disguise fails at analysis (//tests/image:root_in_disguise, manual).
if (cd "$ROOT" && bazel build --nobuild --disk_cache="$DISK_CACHE" //tests/image:root_in_disguise) >"$SCRATCH/root_user.log" 2>&1; then
  cat "$SCRATCH/root_user.log" >&2; fail "root_user: the analysis succeeded"
fi
expect_in "$SCRATCH/root_user.log" "user '00:00' runs the app as root (user 00 is 0)"
echo "ok: root_user fails: $(grep -m1 -o "user '00:00' runs the app as root[^;]*" "$SCRATCH/root_user.log")"

# Python distributions from a package index of this test's own on 127.0.0.1 (the machine's pip
# configuration set aside): the sdist of tests/pip/pyimagehook-1.0, whose build hook would append
# to /tmp/pyimage-hook-marker. With a wrong hash in the lock the fetch fails naming the hash the
# file has; with the right one it fetches the sdist as a file. Either way, on this host's pip, the
# hook never runs (tests/pip:sdist_hook_test shows it runs in the build action's sandbox).
rm -f /tmp/pyimage-hook-marker
mkdir -p "$SCRATCH/index/simple/pyimagehook" "$SCRATCH/index/files"
HOOK_SDIST="$SCRATCH/index/files/pyimagehook-1.0.tar.gz"
tar -C "$ROOT/tests/pip" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - pyimagehook-1.0 \
  | gzip -n > "$HOOK_SDIST"
HOOK_SHA="$(sha256sum "$HOOK_SDIST" | cut -d' ' -f1)"
printf '<!DOCTYPE html><html><body><a href="../../files/pyimagehook-1.0.tar.gz#sha256=%s">pyimagehook-1.0.tar.gz</a></body></html>\n' \
  "$HOOK_SHA" > "$SCRATCH/index/simple/pyimagehook/index.html"
INDEX_PORT="$(free_port)"
python3 -m http.server --bind 127.0.0.1 --directory "$SCRATCH/index" "$INDEX_PORT" >"$SCRATCH/index.log" 2>&1 &
INDEX_PID=$!
trap 'kill $INDEX_PID 2>/dev/null || true; cleanup' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$INDEX_PORT/simple/pyimagehook/" >/dev/null && break; sleep 0.1; done

pip_workspace() {  # pip_workspace SHA256: a workspace whose @hooks is pyimagehook 1.0 with that hash
  cat > "$WS/WORKSPACE" <<WS
workspace(name = "e2e")
local_repository(name = "rules_pyimage", path = "$ROOT")
load("@rules_pyimage//rules:repositories.bzl", "pyimage_pip_packages")
pyimage_pip_packages(name = "hooks", lock = "//:hooks.lock.txt", python_version = "3.14")
WS
  printf 'pyimagehook==1.0 \\\n    --hash=sha256:%s\n    # via -r hooks.in\n' "$1" > "$WS/hooks.lock.txt"
}
index_bazel() {  # bazel with pip pointed at the local index only
  env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL PIP_CONFIG_FILE=/dev/null \
    PIP_INDEX_URL="http://127.0.0.1:$INDEX_PORT/simple/" bash -c 'cd "$0" && bazel --output_base="$1" "${@:2}"' \
    "$WS" "$SCRATCH/ob-bad" "$@"
}
pip_workspace "$ZERO_SHA"
if index_bazel build --disk_cache= @hooks//pyimagehook:sdist >"$SCRATCH/sdist_wrong_hash.log" 2>&1; then
  cat "$SCRATCH/sdist_wrong_hash.log" >&2; fail "sdist_wrong_hash: the fetch succeeded"
fi
expect_in "$SCRATCH/sdist_wrong_hash.log" "pyimagehook==1.0: the downloaded pyimagehook-1.0.tar.gz has sha256 $HOOK_SHA, which the lock does not list; the file is refused"
expect_in "$SCRATCH/sdist_wrong_hash.log" "Run: bazel run //:hooks.update"
[[ ! -e /tmp/pyimage-hook-marker ]] || fail "sdist_wrong_hash: the sdist's build hook ran on this host"
echo "ok: sdist_wrong_hash fails: $(grep -m1 -o 'pyimagehook==1.0: the downloaded[^;]*' "$SCRATCH/sdist_wrong_hash.log"); no hook ran"
pip_workspace "$HOOK_SHA"
index_bazel build --disk_cache= @hooks//pyimagehook:sdist >"$SCRATCH/sdist_right_hash.log" 2>&1 \
  || { cat "$SCRATCH/sdist_right_hash.log" >&2; fail "sdist_right_hash: the fetch failed"; }
FETCHED="$(cd "$WS" && bazel --output_base="$SCRATCH/ob-bad" info output_base 2>/dev/null)/external/hooks/pyimagehook/pyimagehook-1.0.tar.gz"
cmp -s "$FETCHED" "$HOOK_SDIST" || fail "sdist_right_hash: the fetched sdist differs from the served one"
[[ ! -e /tmp/pyimage-hook-marker ]] || fail "sdist_right_hash: the sdist's build hook ran on this host"
grep -q '"GET /files/pyimagehook-1.0.tar.gz' "$SCRATCH/index.log" || fail "the local index served no sdist"
echo "ok: sdist_right_hash: the sdist was fetched as a file from the local index (sha256 $HOOK_SHA); no hook ran"

echo "bad input: every case failed with its message"
