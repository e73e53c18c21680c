#!/usr/bin/env bash
# Side-by-side quantize wall time of quantlab and llama.cpp's llama-quantize on the same F16 GGUF file,
# same thread count, run alternately ROUNDS times so both see the same machine and disk state; prints
# each tool's median and fastest wall time and the ratio of medians.
#
#   LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin scripts/compare-quantize.sh [MODEL] [TYPES...]
#
# Defaults: MODEL = speed-compare/synth-f16.gguf (the generated model of compare-speed.sh, made if
# missing), TYPES = Q8_0 Q4_K_M. Environment: THREADS (2), ROUNDS (7), OUT (folder for the outputs,
# default: next to MODEL). quantlab runs with its defaults (per-tensor error statistics on, output
# fsync'ed); llama-quantize neither measures nor fsyncs. quantlab never fetches or builds llama.cpp.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${LLAMA_CPP_BIN:?set LLAMA_CPP_BIN to the folder holding llama-quantize}"
QUANTLAB=${QUANTLAB:-build/quantlab}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-7}
MODEL=${1:-speed-compare/synth-f16.gguf}
shift || true
TYPES=${*:-Q8_0 Q4_K_M}
OUT=${OUT:-$(dirname "$MODEL")}

for tool in "$QUANTLAB" "$LLAMA_CPP_BIN/llama-quantize"; do
  [[ -x $tool ]] || { echo "not found or not executable: $tool" >&2; exit 2; }
done
if [[ ! -f $MODEL ]]; then
  echo "generating $MODEL" >&2
  mkdir -p "$(dirname "$MODEL")"
  "$QUANTLAB" synth "$MODEL" --layers 16 --embd 1024 --heads 16 --heads-kv 4 --ff 2816 --vocab 32000 --type f16
fi

# Wall seconds of one command (its output discarded).
wall() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
# median and minimum of the numbers on stdin
stats() { sort -g | awk '{a[NR] = $1} END {printf "%.3f %.3f\n", a[int((NR + 1) / 2)], a[1]}'; }

printf '| type | llama-quantize median s (min) | quantlab median s (min) | ratio |\n| --- | ---: | ---: | ---: |\n'
for type in $TYPES; do
  llama_times=() quantlab_times=()
  for _ in $(seq "$ROUNDS"); do
    llama_times+=("$(wall "$LLAMA_CPP_BIN/llama-quantize" "$MODEL" "$OUT/llama-$type.gguf" "$type" "$THREADS")")
    quantlab_times+=("$(wall "$QUANTLAB" quantize "$MODEL" "$OUT/quantlab-$type.gguf" "$type" --threads "$THREADS")")
  done
  read -r l_med l_min < <(printf '%s\n' "${llama_times[@]}" | stats)
  read -r q_med q_min < <(printf '%s\n' "${quantlab_times[@]}" | stats)
  printf '| %s | %s (%s) | %s (%s) | %.2f |\n' "$type" "$l_med" "$l_min" "$q_med" "$q_min" \
    "$(echo "$q_med / $l_med" | bc -l)"
done
