#!/bin/bash
# Compiles CPython from its release tarball into a fixed prefix. It runs inside the hermetic
# builder (rules/private/tools/in_builder.sh): the builder's packages are its whole filesystem,
# so the compiler, binutils, make, the shell tools and every -dev package come from
# third_party/debian/builder.lock.json, never from the machine that runs Bazel.
#
# In:  the release tarball, the version it must be, the install prefix, configure flags, the
#      trim lists (paths relative to the prefix, globs allowed), the files the builder must hold
#      (each with the Debian package that provides it) and the stdlib modules that must import,
#      each with the -dev package that provides its library. --abi-minor is the minor version as
#      the installed paths spell it: 3.14, or 3.14t for a free-threaded build (--disable-gil among
#      the configure flags), whose stdlib is lib/python3.14t and interpreter bin/python3.14t.
#      With --pgo-task, a profile-guided build (see pgo_build): the instrumented interpreter runs
#      that script, through the program compiled from --pgo-isolate's C source and with the
#      library compiled from --pgo-preload's C source preloaded, to make the profile.
# Out: in --out: bin/python3, lib/, include/ (the build copy that Bazel runs as the Python
#      toolchain and builds extensions against) and runtime.tar, the runtime copy as one
#      deterministic tar whose entries sit under the prefix (no headers, no config directory).
#
# Reproducible by construction: the build directory is the same on every machine and is mapped
# away with -ffile-prefix-map, any remaining mention of it in a text file is rewritten (and its
# .pyc recompiled), ELF files are stripped, SOURCE_DATE_EPOCH fixes __DATE__/__TIME__ and makes
# every .pyc checked-hash. The action fails if the build directory still appears in the output.
set -euo pipefail

die() { echo "ERROR: CPython ${VERSION:-?}: $*" >&2; exit 1; }

SRC="" VERSION="" ABI_MINOR="" PREFIX="" EPOCH="" OUT="" TAR_TOOL="" UPDATE="" HARDENING_TOOL="" CFLAGS_H="" CPPFLAGS_H="" LDFLAGS_H="" PGO_TASK="" PGO_ISOLATE="" PGO_PRELOAD=""
TRIM=() RUNTIME_TRIM=() MODULES=() CONFIGURE=() REQUIRES=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --src) SRC="$2"; shift 2 ;;
    --version) VERSION="$2"; shift 2 ;;
    --abi-minor) ABI_MINOR="$2"; shift 2 ;;
    --prefix) PREFIX="$2"; shift 2 ;;
    --source-date-epoch) EPOCH="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --tar-tool) TAR_TOOL="$2"; shift 2 ;;
    --update-command) UPDATE="$2"; shift 2 ;;
    --hardening-tool) HARDENING_TOOL="$2"; shift 2 ;;
    --cflags) CFLAGS_H="$2"; shift 2 ;;
    --cppflags) CPPFLAGS_H="$2"; shift 2 ;;
    --ldflags) LDFLAGS_H="$2"; shift 2 ;;
    --pgo-task) PGO_TASK="$2"; shift 2 ;;
    --pgo-isolate) PGO_ISOLATE="$2"; shift 2 ;;
    --pgo-preload) PGO_PRELOAD="$2"; shift 2 ;;
    --trim) TRIM+=("$2"); shift 2 ;;
    --runtime-trim) RUNTIME_TRIM+=("$2"); shift 2 ;;
    --module) MODULES+=("$2"); shift 2 ;;
    --require) REQUIRES+=("$2"); shift 2 ;;
    --configure) CONFIGURE+=("$2"); shift 2 ;;
    *) die "build_cpython.sh: unknown argument '$1'" ;;
  esac
done
MINOR="${VERSION%.*}"
for v in SRC VERSION ABI_MINOR PREFIX EPOCH OUT TAR_TOOL UPDATE HARDENING_TOOL; do
  [[ -n "${!v}" ]] || die "build_cpython.sh: missing --$(echo "$v" | tr 'A-Z_' 'a-z-')"
done
[[ "$ABI_MINOR" == "$MINOR" || "$ABI_MINOR" == "${MINOR}t" ]] \
  || die "build_cpython.sh: --abi-minor $ABI_MINOR is neither $MINOR nor ${MINOR}t"
[[ -z "$PGO_TASK" || ( -n "$PGO_ISOLATE" && -n "$PGO_PRELOAD" ) ]] \
  || die "build_cpython.sh: --pgo-task needs --pgo-isolate and --pgo-preload"

# --- 0. the builder holds every tool and header the compile needs ------------------------------
lacking=()
for entry in "${REQUIRES[@]}"; do
  path="${entry%%=*}"; pkg="${entry#*=}"
  [[ -e "/$path" ]] || lacking+=("/$path (from the Debian package $pkg)")
done
if [[ ${#lacking[@]} -gt 0 ]]; then
  printf '  %s\n' "${lacking[@]}" >&2
  die "the hermetic builder lacks the files above. Add the packages named to the builder's package list (third_party/debian/builder.txt) and run: $UPDATE"
fi

# The same directory on every machine, and the same kind of file system: the builder's /tmp is
# its own tmpfs wherever the builder was unpacked (ext4, tmpfs, overlayfs, ...). Nothing of the
# host's layout reaches a compile, and the PGO training run reads its files from a tmpfs on every
# host (an ext4 build tree gave another profile than a tmpfs one). /tmp is short, so make
# install's forkserver socket path fits in 108 bytes.
B=/tmp/pyimage-build
mkdir -p "$B/src" "$B/dest" /tmp
export TMPDIR=/tmp SOURCE_DATE_EPOCH="$EPOCH" LC_ALL=C TZ=UTC
umask 022
MAPPED="/usr/src/cpython-$VERSION"

# --- the profile-guided build (--pgo-task) -----------------------------------------------------
# CPython's `make profile-opt` in three stages, with its training run replaced by one whose profile
# is the same on every machine and in every run (docs/toolchain.md, "PGO and reproducibility"):
#  1. build the interpreter instrumented (-fprofile-generate), without LTO: the instrumented
#     binary is thrown away, and the profile is per translation unit, which LTO does not change;
#  2. delete the counts that the build itself wrote (make runs the instrumented programs, in
#     parallel), run PGO_TASK once: one thread, PYTHONHASHSEED=0, through pgo_isolate (no
#     address-space randomisation and a fixed mmap base, so object addresses, which decide
#     hash-table probes and the method cache, are the same; default signal handling; no inherited
#     file descriptors), with pgo_preload preloaded (directory listings in name order, not the
#     file system's; every later mapping from a fixed address up, and the extension modules'
#     libraries at 2 MiB boundaries, so that neither the kernel's own mappings nor the file system
#     the builder is unpacked on moves an object; st_dev 0; getrandom() the same bytes in every
#     run, for expat's hash salt), a fixed stack limit, a cleared environment, no .pyc written,
#     the task copied into the build tree on the builder's tmpfs;
#  3. rebuild everything with -fprofile-use (and LTO when configured).
# The profile's sha256 is printed: two builds whose profiles differ give different bytes.
drop_lto() {
  local word kept=()
  for word in $1; do
    case "$word" in -flto*|-fuse-linker-plugin|-ffat-lto-objects) ;; *) kept+=("$word") ;; esac
  done
  echo "${kept[*]}"
}
pgo_build() {
  local nolto_c nolto_ld gen_flag digest libs draws t0=$SECONDS
  # The configured flags without the LTO ones, for the instrumented stage; and its counters
  # updated plainly, not atomically (3.13's default, for threads: the training has none, and
  # atomic updates make it twice as slow).
  nolto_c="$(drop_lto "$(sed -n 's/^CONFIGURE_CFLAGS_NODIST=//p' Makefile)")"
  nolto_ld="$(drop_lto "$(sed -n 's/^CONFIGURE_LDFLAGS_NODIST=//p' Makefile)")"
  gen_flag="$(sed -n 's/^PGO_PROF_GEN_FLAG=//p' Makefile | sed 's/ *-fprofile-update=atomic//')"
  echo "CPython $VERSION: PGO 1/3, make -j$JOBS (instrumented)" >&2
  run_make make-instrumented.log profile-gen-stamp CONFIGURE_CFLAGS_NODIST="$nolto_c" \
    CONFIGURE_LDFLAGS_NODIST="$nolto_ld" PGO_PROF_GEN_FLAG="$gen_flag"
  find . -name '*.gcda' -delete

  echo "CPython $VERSION: PGO 2/3, training run ($(basename "$PGO_TASK"); the instrumented build took $((SECONDS - t0)) s)" >&2
  t0=$SECONDS
  gcc -O2 -Wall -Werror -o "$B/pgo_isolate" "$PGO_ISOLATE" || die "could not compile $(basename "$PGO_ISOLATE")"
  [[ "$("$B/pgo_isolate" /bin/cat /proc/self/personality)" == 00240000 ]] \
    || die "the training run's process state could not be fixed (personality ADDR_NO_RANDOMIZE|ADDR_COMPAT_LAYOUT)"
  gcc -O2 -Wall -Werror -shared -fPIC -o "$B/pgo_preload.so" "$PGO_PRELOAD" -ldl \
    || die "could not compile $(basename "$PGO_PRELOAD")"
  "$B/pgo_isolate" /usr/bin/env LD_PRELOAD="$B/pgo_preload.so" ls -f Lib | LC_ALL=C sort -c 2>/dev/null \
    || die "$(basename "$PGO_PRELOAD") does not sort directory listings: the profile would follow the file system's order"
  draws=()
  for _ in 1 2; do
    draws+=("$("$B/pgo_isolate" /usr/bin/env LD_PRELOAD="$B/pgo_preload.so" shuf -i 1-1000000000 -n 4 | paste -sd' ')") \
      || die "shuf failed under $(basename "$PGO_PRELOAD")"
  done
  [[ -n "${draws[0]}" && "${draws[0]}" == "${draws[1]}" ]] \
    || die "$(basename "$PGO_PRELOAD") does not fix getrandom() (shuf drew '${draws[0]}', then '${draws[1]}'): expat's hash salt, and the profile, would change from run to run"
  # The libraries the extension modules load, each after its own dependencies (fewer of them
  # first), for the preload to put each at a 2 MiB boundary.
  find build -name '*.so' -exec ldd {} + >"$B/ldd.txt" 2>&1 || { cat "$B/ldd.txt" >&2; die "ldd failed on the extension modules"; }
  ! grep -q 'not found' "$B/ldd.txt" || { grep 'not found' "$B/ldd.txt" >&2; die "an extension module's library is missing from the builder"; }
  libs="$(sed -n 's|^[[:space:]]*[^ ]* => \(/[^ ]*\) (0x.*|\1|p' "$B/ldd.txt" | LC_ALL=C sort -u \
    | while read -r lib; do echo "$(ldd "$lib" | wc -l) $lib"; done | LC_ALL=C sort -k1,1n -k2,2 | cut -d' ' -f2- | paste -sd:)"
  [[ -n "$libs" ]] || die "found no library of the extension modules in $B/ldd.txt"
  # The task from the builder's own tmpfs, like everything else the training reads (its directory
  # is sys.path[0], and the import system lists and stats it).
  mkdir "$B/pgo-task"
  cp "$PGO_TASK" "$B/pgo-task/$(basename "$PGO_TASK")"
  if ! (ulimit -s 8192 && exec env -i PATH=/usr/bin:/bin LC_ALL=C TZ=UTC HOME=/nonexistent PYTHONHASHSEED=0 \
        "$B/pgo_isolate" /usr/bin/env LD_PRELOAD="$B/pgo_preload.so" PYIMAGE_PGO_LIBS="$libs" \
        "$B/src/python" -B -S "$B/pgo-task/$(basename "$PGO_TASK")") </dev/null >"$B/pgo-task.log" 2>&1; then
    tail -n 30 "$B/pgo-task.log" >&2
    die "the PGO training run failed (last lines above)."
  fi
  # A .gcda file starts with 16 bytes of header: magic, version, and the stamp and checksum of
  # its object file's compile (they differ between two compiles of the same source and are not
  # used by -fprofile-use). The digest covers every file's name and its counters after them.
  digest="$(find . -name '*.gcda' -printf '%P\n' | LC_ALL=C sort | while read -r f; do
      echo "$f $(tail -c +17 "$f" | sha256sum | cut -c1-64)"; done | sha256sum | cut -c1-64)"
  printf 'training: %s (%s)\nprofile sha256: %s (%s .gcda files, counters only)\n' "$(basename "$PGO_TASK")" \
    "$(cat "$B/pgo-task.log")" "$digest" "$(find . -name '*.gcda' | wc -l)" >"$B/pgo-profile.txt"
  echo "CPython $VERSION: $(tr '\n' ';' <"$B/pgo-profile.txt")" >&2

  echo "CPython $VERSION: PGO 3/3, make -j$JOBS (with the profile; the training took $((SECONDS - t0)) s)" >&2
  t0=$SECONDS
  make clean-retain-profile >"$B/clean.log" 2>&1 || { tail -n 20 "$B/clean.log" >&2; die "make clean-retain-profile failed"; }
  touch profile-run-stamp
  run_make make.log profile-opt
  echo "CPython $VERSION: the optimised build took $((SECONDS - t0)) s" >&2
}

# --- 1. unpack and check that this is the source tree of the version asked for -----------------
tar -xf "$SRC" -C "$B/src" --strip-components=1 --no-same-owner 2>"$B/untar.log" \
  || die "$(basename "$SRC") is not a readable tarball ($(head -c 300 "$B/untar.log")). Check the url and sha256 of $VERSION in toolchains/versions.bzl."
[[ -x "$B/src/configure" && -f "$B/src/Include/patchlevel.h" ]] \
  || die "$(basename "$SRC") is not a CPython source tree (no configure or Include/patchlevel.h at its top). Check the url and sha256 of $VERSION in toolchains/versions.bzl."
FOUND="$(sed -n 's/^#define PY_VERSION[[:space:]]*"\(.*\)".*/\1/p' "$B/src/Include/patchlevel.h")"
[[ "$FOUND" == "$VERSION" ]] \
  || die "$(basename "$SRC") holds CPython '$FOUND', not $VERSION. Fix the url and sha256 of $VERSION in toolchains/versions.bzl."

# --- 2. configure, make, make install ------------------------------------------------------------
cd "$B/src"
MAP="-ffile-prefix-map=$B/src=$MAPPED"
echo "CPython $VERSION: configure ${CONFIGURE[*]:-}" >&2
# tkinter is trimmed anyway (and the builder has no Tcl/Tk headers). The test suite and its C
# modules are neither built nor installed (--disable-test-modules): no runtime needs them, and
# byte-compiling Lib/test three times was a good part of every compile.
# The hardening flags go into sysconfig too (CFLAGS, LDFLAGS), so extensions built later for this
# interpreter get them as well; configure_flags come after them and may override them.
PGO_FLAG=()
[[ -z "$PGO_TASK" ]] || PGO_FLAG=(--enable-optimizations)
if ! ./configure --prefix="$PREFIX" --without-ensurepip --disable-test-modules CFLAGS_NODIST="$MAP" py_cv_module__tkinter=n/a \
     CFLAGS="$CFLAGS_H" CPPFLAGS="$CPPFLAGS_H" LDFLAGS="$LDFLAGS_H" \
     "${PGO_FLAG[@]}" "${CONFIGURE[@]}" >"$B/configure.log" 2>&1; then
  tail -n 25 "$B/configure.log" >&2
  grep -m1 -B2 -A8 'configure: error' config.log >&2 || true
  die "./configure failed (last lines above). Check the configure_flags of this toolchain, and that the builder's package list (third_party/debian/builder.txt) has what it asks for (then: $UPDATE)."
fi
JOBS="$(nproc 2>/dev/null || echo 2)"
# _testembed (the embedding tests' program) is in build_all but never installed; with LTO its link
# is a whole-program optimisation of its own. _freeze_module only turns the frozen modules' source
# into bytecode during the build: it is linked without LTO, as _bootstrap_python already is.
sed -i -e '/^build_all:/,/[^\\]$/ s| Programs/_testembed | |' \
  -e 's|^\t$(LINKCC) $(PY_CORE_LDFLAGS) -o $@ Programs/_freeze_module.o|\t$(LINKCC) $(PY_LDFLAGS_NOLTO) -o $@ Programs/_freeze_module.o|' Makefile
# With LTO, the link-time optimisation runs in partitions on every core (-flto=auto) instead of
# as one (configure's -flto-partition=none): the last PGO stage took 148 s instead of 185 s here,
# and the partitions do not depend on the number of cores, so neither do the bytes.
sed -i -E '/^CONFIGURE_(C|LD)FLAGS_NODIST=/ { s/ -flto-partition=none//; s/ -flto( |$)/ -flto=auto\1/ }' Makefile
run_make() {  # LOG TARGET-AND-VARIABLES...
  local log="$1"; shift
  if ! make -j"$JOBS" "$@" >"$B/$log" 2>&1; then
    tail -n 40 "$B/$log" >&2
    die "make ${1:-} failed (last lines above; the whole log is $log in the build directory)."
  fi
}
if [[ -z "$PGO_TASK" ]]; then
  echo "CPython $VERSION: make -j$JOBS" >&2
  run_make make.log
else
  pgo_build
fi
# make install byte-compiles the stdlib in one worker process per core (COMPILEALL_OPTS=-j0). A
# .pyc depends on the state of the process that wrote it (marshal marks an object that has more
# than one reference, and modules the process imported before hold references too); with the
# GIL every worker starts alike, and the bytes were the same on every machine. The free-threaded
# build's reference counts are not: three runs of compileall -j0 on its stdlib gave three sets of
# .pyc (argparse, _pydatetime, _collections_abc, ...), one process (-j1) gave the same bytes
# every time. The GIL builds keep -j0, so their bytes (and images) stay as they were.
COMPILEALL_OPTS=()
[[ "$ABI_MINOR" == "$MINOR" ]] || COMPILEALL_OPTS=("COMPILEALL_OPTS=-j1")
if ! make install DESTDIR="$B/dest" "${COMPILEALL_OPTS[@]}" >"$B/install.log" 2>&1; then
  tail -n 40 "$B/install.log" >&2
  die "make install failed (last lines above)."
fi
D="$B/dest$PREFIX"
PY="$D/bin/python$ABI_MINOR"
[[ -x "$PY" && -d "$D/lib/python$ABI_MINOR" ]] || die "make install produced no bin/python$ABI_MINOR and lib/python$ABI_MINOR."
if [[ "$ABI_MINOR" != "$MINOR" ]]; then
  # make install hard-links python3.14 to python3.14t. One file under two names would be stripped
  # as one and the other left as it is (strip writes a new file): the second name becomes a link.
  ln -sf "python$ABI_MINOR" "$D/bin/python$MINOR"
fi

# --- 3. every stdlib module that needs a system library must import ----------------------------
missing=()
for entry in "${MODULES[@]}"; do
  mod="${entry%%=*}"; pkg="${entry#*=}"
  if ! "$PY" -E -s -c "import $mod" >/dev/null 2>"$B/import.log"; then
    missing+=("$mod (needs $pkg: $(tail -n1 "$B/import.log"))")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  printf '  %s\n' "${missing[@]}" >&2
  grep -A4 'necessary bits to build these optional modules were not found\|Failed to build these modules\|could not be imported' "$B/make.log" >&2 || true
  die "these stdlib modules did not build; add the -dev packages named to the builder's package list (third_party/debian/builder.txt) and run: $UPDATE"
fi

# --- 4. trim what no runtime needs (the lists are in rules/private/cpython.bzl) -------------
shopt -s nullglob
trim() {
  local root="$1"; shift
  local pattern path
  for pattern in "$@"; do
    for path in "$root"/$pattern; do rm -rf "$path"; done
  done
}
trim "$D" "${TRIM[@]}"

# --- 5. no build path may remain ----------------------------------------------------------------
mapfile -t leaked < <(grep -rlF "$B" "$D" || true)
recompile=()
for f in "${leaked[@]}"; do
  if head -c4 "$f" | grep -q $'\x7fELF'; then continue; fi  # stripped below, then checked again
  case "$f" in
    *.pyc) rm -f "$f" ;;  # rebuilt from its source below
    *) sed -i "s|$B/src|$MAPPED|g; s|$B|/usr/src|g" "$f"
       [[ "$f" == *.py ]] && recompile+=("$f") ;;
  esac
done
if [[ ${#recompile[@]} -gt 0 ]]; then
  # shellcheck disable=SC2046  # each word is a glob of the module's .pyc files
  rm -f $(for f in "${recompile[@]}"; do
    b="$(basename "$f" .py)"; echo "$(dirname "$f")/__pycache__/$b".*.pyc; done)
  "$PY" -E -s -m compileall -q -f --invalidation-mode checked-hash -o 0 -o 1 -o 2 \
    -s "$B/dest" "${recompile[@]}" >&2
fi
find "$D" -type f \( -name '*.so' -o -path "$D/bin/python$ABI_MINOR" \) -exec strip --strip-unneeded {} +
mapfile -t leaked < <(grep -rlF -e "$B" "$D" || true)
[[ ${#leaked[@]} -eq 0 ]] || die "the build path is still in: ${leaked[*]#$D/}"
# Every ELF file is hardened: full RELRO, PIE, no executable stack; the interpreter, which holds
# nearly all the C code, also a stack protector and fortified calls.
"$PY" -E -s "$HARDENING_TOOL" --quiet --core "bin/python$ABI_MINOR" "$D" >&2 \
  || die "an ELF file above lacks the hardening flags (were they overridden in configure_flags?)"
# The build copy says which profile it was built with (the runtime copy has no config directory).
if [[ -n "$PGO_TASK" ]]; then
  for c in "$D/lib/python$ABI_MINOR"/config-*/; do cp "$B/pgo-profile.txt" "$c/pgo-profile.txt"; done
fi
npyc="$(find "$D/lib" -name '*.pyc' | wc -l)"
[[ "$npyc" -gt 1000 ]] || die "make install byte-compiled only $npyc files (see install.log); the stdlib would ship without .pyc."

# --- 6. the outputs: the build copy, and the runtime copy as a deterministic tar ----------------
mkdir -p "$OUT/bin" "$OUT/lib" "$OUT/include"
cp "$PY" "$OUT/bin/python3"
cp -a "$D/lib/." "$OUT/lib/"
cp -a "$D/include/." "$OUT/include/"
# No link among the build copy's files (make install links lib/pkgconfig/python3.pc to
# python-X.Y.pc): Bazel before 6.2 cannot take an action output that is a link from a remote
# cache under --remote_download_minimal or _toplevel and compiles again, and later ones then
# download every output of the action. Each link becomes a copy of the file it names.
while IFS= read -r -d '' link; do
  target="$(readlink -f "$link")"
  [[ -e "$target" && "$target" == "$OUT"/* ]] || die "the build copy's link ${link#"$OUT"/} names $target, outside it"
  rm "$link"
  cp -a "$target" "$link"
done < <(find "$OUT/bin" "$OUT/lib" "$OUT/include" -type l -print0)

R="$B/runtime$PREFIX"
mkdir -p "$R"
cp -a "$D/." "$R/"
trim "$R" "${RUNTIME_TRIM[@]}"
"$PY" -E -s "$TAR_TOOL" --root "$B/runtime" --mtime "$EPOCH" --output "$OUT/runtime.tar"
echo "CPython $VERSION: $(find "$R" -type f | wc -l) runtime files, $(du -sm "$R" | cut -f1) MB" >&2
