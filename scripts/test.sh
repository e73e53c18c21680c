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

ctest_log="$build_dir/ctest.log"
ctest_status=0
ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" 2>&1 | tee "$ctest_log" || ctest_status=$?

# The fuzz target is built with clang (libFuzzer) in its own folder; a finding fails the test run.
fuzz_status=0
bash scripts/fuzz.sh "${QUANTLAB_FUZZ_SECONDS:-90}" || fuzz_status=$?

# One closing line for the whole run: CTest's counts plus the fuzz run as one more test.
summary=$(sed -n 's/.*tests passed, \([0-9]*\) tests failed out of \([0-9]*\).*/\1 \2/p' "$ctest_log" | tail -n 1)
read -r failed total <<<"${summary:-1 1}"
passed=$((total - failed))
if ((fuzz_status == 0)); then passed=$((passed + 1)); else failed=$((failed + 1)); fi
echo "${passed} passed, ${failed} failed"
((ctest_status == 0 && fuzz_status == 0))
