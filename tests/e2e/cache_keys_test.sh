#!/usr/bin/env bash
# Cache keys come from content, so exactly the actions that depend on a change run again, and
# nothing runs for a change that does not matter. In one checkout and output base (with the disk
# cache), after each change Bazel's execution log lists the spawns its local action cache could
# not answer: those whose key changed (executed, or answered by the disk cache).
#   must not invalidate: another checkout path, the time of day (every file touched, another TZ),
#                        an unrelated file (README, a new doc, a stray file in app/)
#   must invalidate:     one line of app code -> the app layer and the manifest, nothing else
#                        a locked version     -> that package's venv layer (no other package's),
#                                                the base's trim (it keeps what the venv's ELF
#                                                files need), the library check, the manifest
#                        a configure flag     -> CPython 3.14.7's compile (only) gets a new key, and
#                                                every other spawn but the builder's is built on it
source "$(dirname "$0")/lib.sh"
EXECLOG="$ROOT/tests/e2e/execlog.py"
DC="--disk_cache=$DISK_CACHE"
WS="$SCRATCH/keys/checkout"

build() {  # build NAME: builds //app:image in WS; prints "MNEMONIC OUTPUT ran|cached" per spawn
  (cd "$WS" && bz keys build "$DC" --execution_log_json_file="$SCRATCH/$1.json" //app:image) >"$SCRATCH/$1.log" 2>&1 \
    || { tail -n 30 "$SCRATCH/$1.log" >&2; fail "build $1 failed"; }
  python3 "$EXECLOG" spawns "$SCRATCH/$1.json"
}
indent() { sed "s/^/  /"; }  # indent: stdin with every line indented by two spaces
expect_spawns() {  # expect_spawns WHAT EXPECTED ACTUAL: both sets of "MNEMONIC OUTPUT" lines
  local want got
  want="$(sort <<<"$2" | sed '/^$/d')"
  got="$(cut -d' ' -f1,2 <<<"$3" | sort | sed '/^$/d')"
  if [[ "$want" != "$got" ]]; then
    echo "expected:"; indent <<<"$want"; echo "got:"; indent <<<"$3"
    fail "$1: not exactly the expected actions ran"
  fi >&2
  if [[ -z "$want" ]]; then echo "ok: $1: nothing ran"
  elif [[ "$(wc -l <<<"$want")" -gt 6 ]]; then echo "ok: $1: all $(wc -l <<<"$want") spawns of the build"
  else echo "ok: $1: $(tr '\n' ',' <<<"$want" | sed 's/,$//; s/,/, /g')"; fi
}

(cd "$ROOT" && bazel build "$DC" //app:image) >"$SCRATCH/main.log" 2>&1 || { tail -n 30 "$SCRATCH/main.log" >&2; fail "build in $ROOT failed"; }

# --- must not invalidate ---------------------------------------------------------------------------
clone_to "$WS"
first="$(build path)"
ran="$(python3 "$EXECLOG" local "$SCRATCH/path.json")"
[[ -z "$ran" ]] || fail "another checkout path ran $ran instead of taking it from the cache"
ALL="$(cut -d' ' -f1,2 <<<"$first")"
echo "ok: another checkout path: all $(wc -l <<<"$first") spawns are cache hits, none ran"

expect_spawns "no change" "" "$(build noop)"
find "$WS" -exec touch -h -d "2031-06-15 03:17:00" {} +
expect_spawns "every file touched, another TZ" "" "$(export TZ=Pacific/Chatham; build touched)"
echo "A line a reader adds." >>"$WS/README.md"
echo "# notes" >"$WS/docs/notes.md"
echo "not a source" >"$WS/app/NOTES.txt"
expect_spawns "unrelated files changed and added" "" "$(build unrelated)"

# --- must invalidate -------------------------------------------------------------------------------
echo "# one more line of app code" >>"$WS/app/main.py"
expect_spawns "one line of app code" "ImageApp image.app.tar
LayerGzip image.app.tar.gz
ImageAssemble image" "$(build appline)"

# A locked version: attrs pinned back one release and the lock updated the way a user does it.
sed -i 's/^attrs .*/attrs==25.4.0  # pinned back by cache_keys_test/' "$WS/app/requirements.in"
(cd "$WS" && bz keys run "$DC" //app:requirements.update) >"$SCRATCH/update.log" 2>&1 \
  || { tail -n 30 "$SCRATCH/update.log" >&2; fail "bazel run //app:requirements.update failed"; }
grep -q '^attrs==25.4.0 ' "$WS/app/requirements.lock.txt" || fail "the lock does not pin attrs==25.4.0"
# The base's trim reads the venv's ELF files (a new wheel can need another library of the base),
# so it runs again; its output is the same bytes here, so the base layer's gzip does not.
expect_spawns "attrs 26.1.0 -> 25.4.0 in the lock" "ImageVenvLayer attrs.venv_layer_0.tar
LayerGzip attrs.venv_layer_0.tar.gz
ImageSlimBase image.base.tar
ImageLibCheck image.libcheck
ImageAssemble image" "$(build lock)"

# A configure flag for every registered CPython, read from the action graph (bazel aquery: no
# compile, which would cost a cold CPython build of minutes; the changes above show that Bazel
# reruns exactly the actions whose key or input contents changed). Of the actions //app:image
# needs, only CPython 3.14.7's compile gets a new key, and every spawn of the build but the
# builder's takes CPython's files, directly or through another action's outputs, so all of those
# follow it; the builder it compiles in does not depend on it and is not made again.
KEYS="$ROOT/tests/e2e/action_keys.py"
aq() {  # aq NAME: the action graph of //app:image in WS, as SCRATCH/NAME.aquery.json
  (cd "$WS" && bz keys aquery "$DC" 'deps(//app:image)' --output=jsonproto) >"$SCRATCH/$1.aquery.json" 2>"$SCRATCH/$1.aquery.log" \
    || { tail -n 30 "$SCRATCH/$1.aquery.log" >&2; fail "bazel aquery ($1) failed"; }
}
aq flagless
sed -i 's/^pyimage_register_toolchains(/pyimage_register_toolchains(\n    configure_flags = ["--with-computed-gotos"],/' "$WS/WORKSPACE"
grep -q 'configure_flags = \["--with-computed-gotos"\]' "$WS/WORKSPACE" || fail "could not add the configure flag"
aq configure
changed="$(LC_ALL=C comm -13 <(python3 "$KEYS" keys "$SCRATCH/flagless.aquery.json") <(python3 "$KEYS" keys "$SCRATCH/configure.aquery.json"))"
[[ "$(wc -l <<<"$changed")" -eq 1 && "$changed" == "CPythonBuild "* ]] \
  || fail "the configure flag changed the keys of: ${changed:-nothing} (want CPython's compile only)"
[[ "$changed" == *bin/external/pyimage_python/cpython_3_14_7/* ]] || fail "the compile whose key changed is not CPython 3.14.7's: $changed"
followers="$(python3 "$KEYS" dependents "$SCRATCH/configure.aquery.json" bin/external/pyimage_python/cpython_3_14_7 | grep -Fx -f <(cut -d' ' -f1,2 <<<"$ALL") || true)"
# Bazel 4's aquery leaves out the actions of aspects: the package layers (venv_layers_aspect,
# `<package>.venv_layer_*`) run on the same CPython but are not in its graph, so not compared here.
expect_spawns "configure flag --with-computed-gotos: spawns built on CPython" \
  "$(grep -v '^BuilderRootfs ' <<<"$ALL" | grep -v '^CPythonBuild ' | grep -v '\.venv_layer_')" "$followers"
echo "ok: configure flag --with-computed-gotos: exactly one new action key, CPython 3.14.7's compile"
[[ "$(grep -c '^CPythonBuild ' <<<"$ALL")" -eq 1 ]] || fail "more than one CPython compiled for //app:image"
