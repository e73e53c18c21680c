#!/usr/bin/env bash
# The lab at real-model scale (issue 13, docs/scale.md): the default `quantlab run` on a synthetic model of
# TinyLlama-1.1B's shape, against the seed's llama.cpp command sequence on the same model
# (llama-quantize x6, llama-perplexity x7, llama-cli x35, llama-bench x7), and optionally a model of
# Llama-2-7B's shape under --mem-limit 8G. Every timed command runs under /usr/bin/time: wall, user+sys
# CPU and peak RSS go to WORK/times.tsv, and a table is printed at the end.
#
#   bench/scale-lab.sh QUANTLAB LLAMA_BIN_DIR TEXT WORK_DIR
#
# On a machine shared with other work, wall time depends on the load; user+sys CPU time does not (much),
# so both are recorded. Parts that would take hours are measured on a sample and extrapolated (the table
# says which, and by what factor):
#   PARTS        comma list of: synth, llama, lab, full, 7b      (default synth,llama,lab,full)
#   THREADS      threads for every tool                          (default: nproc)
#   MEM_LIMIT    the lab's --mem-limit for the 1.1B shape        (default 3G; the 7 formats need ~7 GB)
#   PPL_CHUNKS   chunks llama-perplexity is timed on per format  (default 40; extrapolated to the text)
#   CLI_PROMPTS  of the lab's 5 prompts, how many llama-cli runs per format (default 5; extrapolated to 5)
#   BENCH_REPS   llama-bench repetitions (default 5, its own default; extrapolated to 5)
#   FULL_CHUNKS  chunks the --full per-chunk cost is timed on    (default 4; extrapolated to the text)
#   LAB_TIMEOUT  seconds after which the default lab is killed (SIGTERM; SIGINT is ignored by a job started
#                in the background; 0: none); rerunning resumes it from its stored chunks
#   LAB_ARGS     extra arguments for the default lab (e.g. "--skip-speed")
#   SEVEN_B_CHUNKS  chunks of the 7B evaluation (default 2); SEVEN_B_CAP e.g. 8G: also run the 7B lab
#                under a cgroup memory cap via systemd-run (skipped when systemd-run cannot make a scope)
set -euo pipefail

if [[ $# -ne 4 ]]; then
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
QUANTLAB=$(realpath "$1")
LLAMA_BIN=$(realpath "$2")
TEXT=$(realpath "$3")
WORK=$4
PARTS=${PARTS:-synth,llama,lab,full}
THREADS=${THREADS:-$(nproc)}
MEM_LIMIT=${MEM_LIMIT:-3G}
PPL_CHUNKS=${PPL_CHUNKS:-40}
CLI_PROMPTS=${CLI_PROMPTS:-5}
BENCH_REPS=${BENCH_REPS:-5}
FULL_CHUNKS=${FULL_CHUNKS:-4}
LAB_TIMEOUT=${LAB_TIMEOUT:-0}
LAB_ARGS=${LAB_ARGS:-}
SEVEN_B_CHUNKS=${SEVEN_B_CHUNKS:-2}
SEVEN_B_CAP=${SEVEN_B_CAP:-}
CTX=512

for tool in "$QUANTLAB" "$LLAMA_BIN/llama-quantize" "$LLAMA_BIN/llama-perplexity" "$LLAMA_BIN/llama-cli" \
  "$LLAMA_BIN/llama-bench" /usr/bin/time; do
  [[ -x $tool ]] || { echo "scale-lab: $tool: not an executable" >&2; exit 2; }
done
[[ -r $TEXT ]] || { echo "scale-lab: $TEXT: cannot read the evaluation text" >&2; exit 2; }
mkdir -p "$WORK"
WORK=$(realpath "$WORK")
TIMES=$WORK/times.tsv
[[ -f $TIMES ]] || printf 'part\twhat\truns\twall_s\tuser_s\tsys_s\tpeak_rss_kb\textrapolate_x\n' >"$TIMES"
has_part() { [[ ",$PARTS," == *",$1,"* ]]; }

# The lab's formats (DefaultFormats in src/quantlab/lab/config.cc) and prompts (DefaultPrompts).
FORMATS=(Q8_0 Q6_K Q5_K_M Q4_K_M Q4_K_S Q3_K_M)
PROMPTS=("Once upon a time" "The capital of France is" "To solve this math problem, first we need to"
  "In the field of artificial intelligence," "Step-by-step reasoning: If x = 5 and y = 3, then x + y =")

# timed PART WHAT RUNS EXTRAPOLATE LOG -- command...: appends one row to times.tsv.
timed() {
  local part=$1 what=$2 runs=$3 x=$4 log=$5
  shift 6
  local t=$WORK/.time
  /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >"$log" 2>&1 || {
    echo "scale-lab: '$*' failed, see $log" >&2
    return 1
  }
  read -r wall user sys rss < <(tail -n 1 "$t")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$part" "$what" "$runs" "$wall" "$user" "$sys" "$rss" "$x" >>"$TIMES"
}

M11=$WORK/tl11-f16.gguf
if has_part synth && [[ ! -f $M11 ]]; then
  timed synth "quantlab synth 1.1B shape" 1 1 "$WORK/synth11.log" -- "$QUANTLAB" synth "$M11.tmp" --layers 22 \
    --embd 2048 --ff 5632 --heads 32 --heads-kv 4 --vocab 32000 --ctx 2048 --type f16
  mv "$M11.tmp" "$M11"
fi

# Chunks of the text at -c 512 (llama-perplexity: tokens / n_ctx).
N_CHUNKS=
text_chunks() {
  if [[ -z $N_CHUNKS ]]; then
    local n
    n=$("$LLAMA_BIN/llama-tokenize" -m "$M11" -f "$TEXT" --show-count --ids --log-disable 2>/dev/null |
      sed -n 's/^Total number of tokens: //p')
    N_CHUNKS=$((n / CTX))
  fi
  echo "$N_CHUNKS"
}

if has_part llama; then
  L=$WORK/llama
  mkdir -p "$L"
  n=$(text_chunks)
  for f in "${FORMATS[@]}"; do
    [[ -f $L/$f.gguf ]] && continue
    timed llama "llama-quantize $f" 1 1 "$L/quantize-$f.log" -- "$LLAMA_BIN/llama-quantize" "$M11" \
      "$L/$f.gguf" "$f" "$THREADS"
  done
  for f in F16 "${FORMATS[@]}"; do
    m=$L/$f.gguf
    [[ $f == F16 ]] && m=$M11
    timed llama "llama-perplexity $f, $PPL_CHUNKS of $n chunks" 1 "$(awk "BEGIN{print $n/$PPL_CHUNKS}")" \
      "$L/ppl-$f.log" -- "$LLAMA_BIN/llama-perplexity" -m "$m" -f "$TEXT" -c "$CTX" --chunks "$PPL_CHUNKS" \
      -t "$THREADS"
    for ((p = 0; p < CLI_PROMPTS; ++p)); do
      timed llama "llama-cli $f prompt $((p + 1))" 1 "$(awk "BEGIN{print 5/$CLI_PROMPTS}")" "$L/cli-$f-$p.log" -- \
        "$LLAMA_BIN/llama-cli" -m "$m" -p "${PROMPTS[$p]}" -n 100 --temp 0.7 --top-p 0.9 --seed 42 -c "$CTX" \
        -t "$THREADS" -no-cnv --no-warmup </dev/null
    done
    timed llama "llama-bench $f (-p 512 -n 128 -r $BENCH_REPS)" 1 "$(awk "BEGIN{print 5/$BENCH_REPS}")" \
      "$L/bench-$f.log" -- "$LLAMA_BIN/llama-bench" -m "$m" -p 512 -n 128 -r "$BENCH_REPS" -t "$THREADS"
  done
fi

if has_part lab; then
  LAB=$WORK/lab
  cmd=("$QUANTLAB" run "$M11" --data "wiki=$TEXT" -c "$CTX" -t "$THREADS" --mem-limit "$MEM_LIMIT" --out "$LAB"
    --no-progress)
  # shellcheck disable=SC2206
  cmd+=($LAB_ARGS)
  if [[ $LAB_TIMEOUT -gt 0 ]]; then cmd=(timeout --signal=TERM "$LAB_TIMEOUT" "${cmd[@]}"); fi
  n=$(find "$WORK" -maxdepth 1 -name 'lab-*.log' | wc -l)
  log=$WORK/lab-$n.log
  /usr/bin/time -v -o "$WORK/lab-$n.time" "${cmd[@]}" >"$log" 2>&1 || echo "scale-lab: the lab stopped (rc $?), see $log" >&2
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$WORK/lab-$n.time" |
    awk -F: '{s=0; for (i=1;i<=NF;i++) s=s*60+$i; print s}')
  user=$(sed -n 's/.*User time (seconds): //p' "$WORK/lab-$n.time")
  sys=$(sed -n 's/.*System time (seconds): //p' "$WORK/lab-$n.time")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/lab-$n.time")
  printf 'lab\tquantlab run (default, --mem-limit %s), run %s\t1\t%s\t%s\t%s\t%s\t1\n' "$MEM_LIMIT" "$n" "$wall" \
    "$user" "$sys" "$rss" >>"$TIMES"
  echo "== the lab's step times, passes and precision ($log)"
  grep -E '^step time|format-chunk|\[2/5\] .wiki. .*chunks, increase|memory:' "$log" || true
fi

if has_part full; then
  # --full's evaluation is the default's on every chunk in order: time its first FULL_CHUNKS chunks (every
  # format) and extrapolate to the text. A copy of the default lab's folder (models hardlinked, database
  # copied) keeps it from quantizing or sampling again; chunks the default run already measured are reused,
  # so read the cost from the log's "per format-chunk" lines, which count only what was evaluated.
  F=$WORK/lab-full
  mkdir -p "$F/models"
  ln -f "$WORK"/lab/models/*.gguf "$F/models/"
  cp "$WORK/lab/results.sqlite" "$F/"
  n=$(text_chunks)
  timed full "quantlab run --chunks $FULL_CHUNKS --skip-speed (--full's cost; see the log)" 1 1 "$F/run.log" -- \
    "$QUANTLAB" run "$M11" --data "wiki=$TEXT" -c "$CTX" -t "$THREADS" --mem-limit "$MEM_LIMIT" --out "$F" \
    --chunks "$FULL_CHUNKS" --skip-speed --no-progress
  echo "== --full: per format-chunk costs over the first $FULL_CHUNKS chunks (x $n chunks for the whole text)"
  grep -E '^step time|format-chunk' "$F/run.log" || true
fi

if has_part 7b; then
  M7=$WORK/l2-7b-f16.gguf
  avail=$(df --output=avail -B1G "$WORK" | tail -n 1)
  if [[ $avail -lt 45 && ! -f $M7 ]]; then
    echo "scale-lab: 7B: only ${avail} GB free under $WORK, 45 GB needed; skipped" >&2
  else
    [[ -f $M7 ]] || {
      timed 7b "quantlab synth 7B shape" 1 1 "$WORK/synth7b.log" -- "$QUANTLAB" synth "$M7.tmp" --layers 32 \
        --embd 4096 --ff 11008 --heads 32 --heads-kv 32 --vocab 32000 --ctx 4096 --type f16
      mv "$M7.tmp" "$M7"
    }
    timed 7b "quantlab run 7B, --mem-limit 8G, --chunks $SEVEN_B_CHUNKS --skip-speed" 1 1 "$WORK/lab7b.log" -- \
      "$QUANTLAB" run "$M7" --data "wiki=$TEXT" -c "$CTX" -t "$THREADS" --mem-limit 8G --out "$WORK/lab7b" \
      --chunks "$SEVEN_B_CHUNKS" --skip-speed --n-predict 8 --no-progress
    grep -E '^step time|format-chunk|ETA' "$WORK/lab7b.log" || true
    if [[ -n $SEVEN_B_CAP ]]; then
      if systemd-run --scope -q -p MemoryMax=64M true 2>/dev/null; then
        timed 7b "the same under a cgroup cap of $SEVEN_B_CAP (new chunks)" 1 1 "$WORK/lab7b-cap.log" -- \
          systemd-run --scope -q -p "MemoryMax=$SEVEN_B_CAP" -p MemorySwapMax=0 "$QUANTLAB" run "$M7" \
          --data "wiki=$TEXT" -c "$CTX" -t "$THREADS" --mem-limit 8G --out "$WORK/lab7b" \
          --chunks $((SEVEN_B_CHUNKS + 1)) --skip-speed --n-predict 8 --no-progress
        grep -E '^step time|format-chunk|ETA' "$WORK/lab7b-cap.log" || true
      else
        echo "scale-lab: systemd-run cannot make a scope here (no systemd); the cgroup-capped run is skipped" >&2
      fi
    fi
  fi
fi

echo
echo "== times (extrapolate_x: factor to the whole job; CPU = user + sys)"
awk -F'\t' 'NR == 1 { next }
  { cpu = $5 + $6; printf "%-6s %-70s wall %8.1f s  CPU %8.1f s  peak %6.2f GB  x%-6g -> wall %9.0f s  CPU %9.0f s\n",
      $1, $2, $4, cpu, $7 / 1048576, $8, $4 * $8, cpu * $8
    tw[$1] += $4 * $8; tc[$1] += cpu * $8 }
  END { for (p in tw) printf "total %-6s wall %9.0f s  CPU %9.0f s (extrapolated)\n", p, tw[p], tc[p] }' "$TIMES"
