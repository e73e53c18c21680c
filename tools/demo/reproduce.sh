#!/bin/bash
# Rebuilds quantlab's demo model from nothing: corpus -> tokenizer + model ->
# F16 GGUF.  Dev-time only; needs Debian's /usr/bin/python3 with torch,
# numpy and sentencepiece.  Deterministic for a given seed.
#
#   tools/demo/reproduce.sh            # writes models/demo/{eval.txt,prompts.txt,demo-f16.gguf}
#   OUT=/tmp/x tools/demo/reproduce.sh # writes the model elsewhere (eval/prompts still to models/demo)
#   SEED=99 OUT=/tmp/m2 EVAL_DIR=/tmp/m2 WORK=/tmp/m2/work tools/demo/reproduce.sh --layers 6
#                                      # a second model (another corpus, tokenizer and weights; see
#                                      # docs/verification.md, "Task accuracy"), nothing in models/demo
#                                      # touched; arguments after the script go to train.py
#
# If LLAMA_CPP_DIR points at a built llama.cpp, the exported model is also
# checked with llama-perplexity (the figure must match train.py's own
# evaluation within 0.5%).
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${WORK:-$root/tools/demo/work}"
out="${OUT:-$root/models/demo}"
eval_dir="${EVAL_DIR:-$root/models/demo}"
seed="${SEED:-1234}"
py=/usr/bin/python3

# Debian's torch links the reference (netlib) BLAS, which is ~15x slower than
# OpenBLAS.  If libopenblas0-pthread is installed, use it for this process
# only (the system-wide BLAS choice is left alone).
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread
if [[ -e "$openblas/libblas.so.3" ]]; then
  export LD_LIBRARY_PATH="$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
export OPENBLAS_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE

mkdir -p "$work" "$out"
"$py" "$root/tools/demo/make_corpus.py" --seed "$seed" --out-dir "$work" \
  --eval-dir "$eval_dir"
nice "$py" "$root/tools/demo/train.py" --seed "$seed" --work "$work" \
  --eval "$eval_dir/eval.txt" "$@" | tee "$work/train.log"
# 48 of the 256 residual channels get outlier scale 8 (function-preserving; see
# export_gguf.py), so the lab's formats lose quality in the order of their bits.
"$py" "$root/tools/demo/export_gguf.py" --work "$work" --out "$out/demo-f16.gguf" \
  --seed "$seed" --outlier-channels 48 --outlier-scale 8

if [[ -n "${LLAMA_CPP_DIR:-}" ]]; then
  "$LLAMA_CPP_DIR/build/bin/llama-perplexity" -m "$out/demo-f16.gguf" \
    -f "$eval_dir/eval.txt" -c 256 -t 2 2>&1 | grep -E "Final estimate"
fi
