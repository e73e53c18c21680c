#!/usr/bin/env bash
# Side-by-side speed comparison of quantlab and llama.cpp's llama-bench on the same GGUF files, same
# machine and thread count, run alternately so all see the same machine state; optionally a second
# engine with a llama-bench of its own (a fork such as ik_llama.cpp), with ratios against both.
#
#   LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin scripts/compare-speed.sh [--engine2 DIR [--engine2-name NAME]]
#
# --engine2 DIR (or ENGINE2_BIN=DIR): the folder holding the second engine's llama-bench; its column is
# named NAME (ENGINE2_NAME; default: the folder two levels above DIR, e.g. ik_llama.cpp for
# .../ik_llama.cpp/build/bin).
#
# Options (environment): MODEL=base F16 GGUF (default: a generated ~270M-parameter llama model, large
# enough not to fit in cache), FORMATS="F16 Q8_0 ..." (default: the lab's seven), THREADS (2), PP (512),
# TG (128), REPS (3, repetitions inside each bench run), ROUNDS (3, alternating runs of the two tools;
# the table gives each tool's median and range over them), WORK (folder for the quantized files and the
# JSON of every run, default ./speed-compare), IMATRIX (an importance matrix for quantizing: the i-quants
# below 3 bits per weight, e.g. IQ3_XXS, need one).
# quantlab never fetches or builds llama.cpp: point LLAMA_CPP_BIN at a build you already have.
set -euo pipefail

ENGINE2_BIN=${ENGINE2_BIN:-}
ENGINE2_NAME=${ENGINE2_NAME:-}
while [[ $# -gt 0 ]]; do
  case $1 in
    --engine2) ENGINE2_BIN=${2:?--engine2 needs a folder}; shift 2 ;;
    --engine2-name) ENGINE2_NAME=${2:?--engine2-name needs a name}; shift 2 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -n $ENGINE2_BIN && -z $ENGINE2_NAME ]]; then
  ENGINE2_NAME=$(basename "$(dirname "$(dirname "$(realpath -m "$ENGINE2_BIN")")")")
fi
cd "$(dirname "$0")/.."

: "${LLAMA_CPP_BIN:?set LLAMA_CPP_BIN to the folder holding llama-bench}"
QUANTLAB=${QUANTLAB:-build/quantlab}
FORMATS=${FORMATS:-"F16 Q8_0 Q6_K Q5_K_M Q4_K_M Q4_K_S Q3_K_M"}
THREADS=${THREADS:-2}
PP=${PP:-512}
TG=${TG:-128}
REPS=${REPS:-3}
ROUNDS=${ROUNDS:-3}
WORK=${WORK:-speed-compare}
IMATRIX=${IMATRIX:-}
mkdir -p "$WORK"

tools=("$QUANTLAB" "$LLAMA_CPP_BIN/llama-bench")
[[ -n $ENGINE2_BIN ]] && tools+=("$ENGINE2_BIN/llama-bench")
for tool in "${tools[@]}"; do
  [[ -x $tool ]] || { echo "not found or not executable: $tool" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "jq is needed (apt-get install jq)" >&2; exit 2; }

MODEL=${MODEL:-$WORK/synth-f16.gguf}
if [[ ! -f $MODEL ]]; then
  echo "generating $MODEL" >&2
  "$QUANTLAB" synth "$MODEL" --layers 16 --embd 1024 --heads 16 --heads-kv 4 --ff 2816 --vocab 32000 --type f16
fi

# avg_ts of a test row ("pp" rows have n_gen 0, "tg" rows n_prompt 0) from bench JSON.
rate() { jq -r --arg t "$2" '.[] | select(if $t == "pp" then .n_gen == 0 else .n_prompt == 0 end)
                                   | .avg_ts' "$1"; }
# "median min max" of the numbers on stdin.
spread() { sort -g | awk '{a[NR] = $1} END {printf "%s %s %s\n", a[int((NR + 1) / 2)], a[1], a[NR]}'; }

if [[ -n $ENGINE2_BIN ]]; then
  printf '| format | size MiB | test | llama.cpp t/s (median, range of %s runs) | %s t/s | quantlab t/s | vs llama.cpp | vs %s |\n' \
    "$ROUNDS" "$ENGINE2_NAME" "$ENGINE2_NAME"
  printf '| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n'
else
  printf '| format | size MiB | test | llama.cpp t/s (median, range of %s runs) | quantlab t/s | ratio |\n' "$ROUNDS"
  printf '| --- | ---: | --- | ---: | ---: | ---: |\n'
fi
for format in $FORMATS; do
  file=$WORK/model-$format.gguf
  if [[ $format == F16 ]]; then
    file=$MODEL
  elif [[ ! -f $file ]]; then
    "$QUANTLAB" quantize "$MODEL" "$file" "$format" --threads "$THREADS" ${IMATRIX:+--imatrix "$IMATRIX"} \
      >"$WORK/quantize-$format.log" 2>&1 || { echo "quantizing $format failed, see $WORK/quantize-$format.log" >&2; exit 1; }
  fi
  # Alternate the tools ROUNDS times: a VM's memory bandwidth and CPU share drift over seconds, and
  # alternating exposes both tools to the same drift.
  for round in $(seq "$ROUNDS"); do
    "$LLAMA_CPP_BIN/llama-bench" -m "$file" -p "$PP" -n "$TG" -r "$REPS" -t "$THREADS" -o json \
      >"$WORK/llama-$format-$round.json" 2>/dev/null
    "$QUANTLAB" bench -m "$file" -p "$PP" -n "$TG" -r "$REPS" -t "$THREADS" -o json \
      >"$WORK/quantlab-$format-$round.json" 2>/dev/null
    if [[ -n $ENGINE2_BIN ]]; then
      "$ENGINE2_BIN/llama-bench" -m "$file" -p "$PP" -n "$TG" -r "$REPS" -t "$THREADS" -o json \
        >"$WORK/engine2-$format-$round.json" 2>/dev/null
    fi
  done
  size=$(( $(stat -L -c %s "$file") / 1048576 ))
  for test in pp tg; do
    read -r l_med l_min l_max < <(for f in "$WORK"/llama-"$format"-*.json; do rate "$f" $test; done | spread)
    read -r q_med q_min q_max < <(for f in "$WORK"/quantlab-"$format"-*.json; do rate "$f" $test; done | spread)
    n=$([[ $test == pp ]] && echo "$PP" || echo "$TG")
    if [[ -n $ENGINE2_BIN ]]; then
      read -r e_med e_min e_max < <(for f in "$WORK"/engine2-"$format"-*.json; do rate "$f" $test; done | spread)
      printf '| %s | %s | %s%s | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) | %.2f | %.2f |\n' \
        "$format" "$size" "$test" "$n" "$l_med" "$l_min" "$l_max" "$e_med" "$e_min" "$e_max" \
        "$q_med" "$q_min" "$q_max" "$(echo "$q_med / $l_med" | bc -l)" "$(echo "$q_med / $e_med" | bc -l)"
    else
      printf '| %s | %s | %s%s | %.1f (%.1f–%.1f) | %.1f (%.1f–%.1f) | %.2f |\n' "$format" "$size" "$test" "$n" \
        "$l_med" "$l_min" "$l_max" "$q_med" "$q_min" "$q_max" "$(echo "$q_med / $l_med" | bc -l)"
    fi
  done
done
