#!/usr/bin/env bash
# Builds quantlab with its tests and runs every test: the unit and end-to-end tests through CTest, then a
# bounded fuzz run of the GGUF reader. Usage: scripts/test.sh [build-dir]   (default: build-test)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

build_dir=${1:-build-test}
jobs=$(nproc)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DQUANTLAB_WERROR=ON
cmake --build "$build_dir" -j "$jobs"

ctest --test-dir "$build_dir" --output-on-failure -j "$jobs"

# The fuzz target is built with clang (libFuzzer) in its own folder; a finding fails the test run.
bash scripts/fuzz.sh "${QUANTLAB_FUZZ_SECONDS:-90}"
