#!/usr/bin/env bash
# Task accuracy of quantlab and llama.cpp's llama-perplexity on the same GGUF files and task files:
# every format is quantized with `quantlab quantize` (byte-identical to llama-quantize's), then both tools
# score the HellaSwag, Winogrande and multiple-choice files; the script prints each tool's final figure
# and whether every per-task running-accuracy line is the same (the tasks drawn, their order and every
# answer).
#
#   LLAMA_CPP_BIN=/path/to/llama.cpp/build/bin scripts/compare-tasks.sh
#
# Options (environment): MODEL (default models/demo/demo-f16.gguf), FORMATS (default "F16 Q4_K_M Q2_K"),
# TASKS (folder with hellaswag.txt, winogrande.csv and mc.bin; default models/demo/tasks), THREADS (2),
# WORK (folder for the quantized files and every output, default ./tasks-compare).
# quantlab never fetches or builds llama.cpp: point LLAMA_CPP_BIN at a build you already have.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${LLAMA_CPP_BIN:?set LLAMA_CPP_BIN to the folder holding llama-perplexity}"
QUANTLAB=${QUANTLAB:-build/quantlab}
MODEL=${MODEL:-models/demo/demo-f16.gguf}
FORMATS=${FORMATS:-"F16 Q4_K_M Q2_K"}
TASKS=${TASKS:-models/demo/tasks}
THREADS=${THREADS:-2}
WORK=${WORK:-tasks-compare}
mkdir -p "$WORK"

for tool in "$QUANTLAB" "$LLAMA_CPP_BIN/llama-perplexity"; do
  [[ -x $tool ]] || { echo "not found or not executable: $tool" >&2; exit 2; }
done

# The per-task lines ("N<TAB>accuracy...") and the final figure of one output.
task_lines() { grep -aP '^\d+\t' "$1" | cut -f1,2; }
# The final line where the tool prints one (not llama-perplexity for HellaSwag: its last task line then).
final() {
  local line
  line=$(grep -aE '^Final' "$1" | head -1 | sed 's/.*: //')
  [[ -n $line ]] || line=$(task_lines "$1" | tail -1 | cut -f2)
  echo "$line"
}

printf '| format | task file | tasks | quantlab | llama-perplexity | every task line the same |\n|---|---|---|---|---|---|\n'
for format in $FORMATS; do
  model=$MODEL
  if [[ $format != F16 ]]; then
    model=$WORK/model-$format.gguf
    [[ -f $model ]] || "$QUANTLAB" quantize "$MODEL" "$model" "$format" --threads "$THREADS" >/dev/null 2>&1
  fi
  for kind in hellaswag winogrande multiple-choice; do
    case $kind in
      hellaswag) file=$TASKS/hellaswag.txt ;;
      winogrande) file=$TASKS/winogrande.csv ;;
      multiple-choice) file=$TASKS/mc.bin ;;
    esac
    ours=$WORK/quantlab-$format-$kind.txt
    theirs=$WORK/llama-$format-$kind.txt
    "$QUANTLAB" perplexity -m "$model" --"$kind" "$file" -t "$THREADS" >"$ours" 2>/dev/null
    if [[ $kind == multiple-choice ]]; then
      "$LLAMA_CPP_BIN/llama-perplexity" -m "$model" --multiple-choice -bf "$file" -t "$THREADS" >"$theirs" 2>&1
    else
      "$LLAMA_CPP_BIN/llama-perplexity" -m "$model" --"$kind" -f "$file" -t "$THREADS" >"$theirs" 2>&1
    fi
    same=no
    if diff -q <(task_lines "$ours") <(task_lines "$theirs") >/dev/null; then same=yes; fi
    printf '| %s | %s | %s | %s | %s | %s |\n' "$format" "$(basename "$file")" "$(task_lines "$ours" | wc -l)" \
      "$(final "$ours")" "$(final "$theirs")" "$same"
  done
done
