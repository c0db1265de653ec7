# shellcheck shell=bash
# Sourced by bench/pgo.sh and bench/free_threaded.sh: their --reps=N, and the interpreters they
# measure, as the rules build them, unpacked from their runtime tars into a scratch directory.
# Needs ROOT (the repository).

parse_reps() {  # parse_reps SCRIPT DEFAULT ARG...: sets REPS from --reps=N (a positive number)
  local script="$1" a
  REPS="$2"
  for a in "${@:3}"; do
    case "$a" in
      --reps=*) REPS="${a#--reps=}" ;;
      *) echo "usage: $script [--reps=N]" >&2; exit 2 ;;
    esac
  done
  [[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "$script: --reps takes a positive number, not '$REPS'" >&2; exit 2; }
}

build_interpreters() {  # build_interpreters LOG TARGET...: //app:image (the toolchain's) and TARGET...
  (cd "$ROOT" && bazel build //app:image && bazel build --output_groups=runtime_tar "${@:2}") >"$1" 2>&1 \
    || { tail -n 30 "$1" >&2; exit 1; }
}

unpack_interpreter() {  # unpack_interpreter DIR NAME RUNTIME-TAR: prints DIR/NAME/opt/*/python/bin/python3
  mkdir -p "$1/$2"
  tar -xf "$3" -C "$1/$2"
  ls "$1/$2"/opt/*/python/bin/python3
}

bench_interpreter() {  # bench_interpreter DIR NAME TARGET-NAME: a //bench:TARGET-NAME, built by build_interpreters
  unpack_interpreter "$1" "$2" "$(cd "$ROOT" && bazel info bazel-bin 2>/dev/null)/bench/$3.runtime.tar"
}

toolchain_interpreter() {  # toolchain_interpreter DIR NAME VERSION: the toolchain's VERSION as //app:image has it
  # Built for the tools (the exec configuration), at the output path of the compile //app:image
  # depends on (an output base can hold several exec configurations' copies).
  local tar
  tar="$(cd "$ROOT" && bazel aquery "mnemonic(CPythonBuild, deps(//app:image))" --output=text 2>/dev/null \
    | grep -oE "bazel-out/[^] ,'\"]*/cpython_${3//./_}\.runtime\.tar" | sort -u)"
  [[ -n "$tar" && "$tar" != *$'\n'* ]] || { echo "expected one compile of $3 under //app:image, found: ${tar:-none}" >&2; exit 1; }
  unpack_interpreter "$1" "$2" "$(cd "$ROOT" && bazel info execution_root 2>/dev/null)/$tar"
}

describe() {  # describe PYTHON: its version and what its sysconfig says of PGO, LTO and the GIL
  "$1" -c 'import sys, sysconfig
args = sysconfig.get_config_var("CONFIG_ARGS")
print(sys.version.split()[0],
      "PGO" if "--enable-optimizations" in args else "no PGO recorded",
      "LTO" if "-flto" in (sysconfig.get_config_var("PY_LDFLAGS_NODIST") or "") else "no LTO recorded",
      "free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "GIL")'
}

install_pyperformance() {  # install_pyperformance DIR: pyperformance and pyperf into DIR/pyperf; sets DATA
  python3 -m pip install -q --target "$1/pyperf" pyperformance pyperf >"$1/pip.log" 2>&1 \
    || { tail -n 20 "$1/pip.log" >&2; exit 1; }
  # shellcheck disable=SC2034  # read by the script that sources this one
  DATA="$1/pyperf/pyperformance/data-files/benchmarks"
  echo "pyperformance $(PYTHONPATH="$1/pyperf" python3 -c 'import pyperformance; print(pyperformance.__version__)'), pyperf $(PYTHONPATH="$1/pyperf" python3 -c 'import pyperf; print(pyperf.__version__)')" >&2
}
