#!/usr/bin/env bash
# Builds the GGUF reader fuzz target (clang, libFuzzer + ASan + UBSan) and runs it for N seconds
# (default 90) from the seed corpus in fuzz/corpus/gguf. Exits non-zero on a finding (crash, sanitizer
# report, leak, timeout, oversized allocation); the input that triggered it is kept in
# $BUILD/fuzz-findings/. New interesting inputs go to a scratch corpus, never into the source tree.
#
#   scripts/fuzz.sh [seconds]        BUILD (default build-fuzz) selects the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-90}
build=${BUILD:-build-fuzz}

if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (apt-get install clang)" >&2
  exit 2
fi
generator=()
if [[ ! -f $build/CMakeCache.txt ]] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
mkdir -p "$build"
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DQUANTLAB_FUZZ=ON -DQUANTLAB_BUILD_TESTS=OFF -DQUANTLAB_BUILD_BENCH=OFF \
  >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 2; }
cmake --build "$build" --target gguf_reader_fuzz -j2

findings=$build/fuzz-findings
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$findings"
echo "fuzz.sh: running gguf_reader_fuzz for ${seconds}s"
# -malloc_limit_mb: no input of a few KB may make the reader allocate anywhere near this much.
if ! "$build/fuzz/gguf_reader_fuzz" "$scratch" fuzz/corpus/gguf \
  -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
  -dict=fuzz/gguf.dict -artifact_prefix="$findings/" -print_final_stats=1 >"$build/fuzz.log" 2>&1; then
  tail -n 60 "$build/fuzz.log" >&2
  echo "fuzz.sh: FINDING: the reproducer is in $findings/ (replay: $build/fuzz/gguf_reader_fuzz FILE)" >&2
  exit 1
fi
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz.log")
echo "fuzz.sh: no findings in ${seconds}s (${runs:-?} inputs; log: $build/fuzz.log)"
